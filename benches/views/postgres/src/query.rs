//! Query latency: `query_view` with one filter and a sort, against the same query written by
//! hand with sqlx on the same pool, taking turns query by query.

use std::fmt::Write as _;
use std::time::Instant;

use ddd_core::testing::conformance::views::TickCount;
use ddd_core::view::{
    ColumnValue, Cursor, Direction, View, ViewHandle, ViewPage, ViewRunner, ViewStore,
};
use ddd_postgres::PostgresStore;
use ddd_postgres::sqlx;

use crate::catch_up::Stores;
use crate::measure::thousands;
use crate::shared::{LIMIT, Latencies, Options, page_query};

/// A first page written by hand, in the order of the column's index (NULLs where it keeps
/// them: none here).
const FIRST_DESC: &str = r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
    WHERE "c_writer" = $1 ORDER BY "c_total" DESC NULLS LAST, "key" LIMIT $2"#;
/// The next page as one would write it by hand: the cursor in an `OR`.
const NEXT_DESC: &str = r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
    WHERE "c_writer" = $1 AND ("c_total" < $2 OR ("c_total" = $2 AND "key" > $3))
    ORDER BY "c_total" DESC NULLS LAST, "key" LIMIT $4"#;
const FIRST_ASC: &str = r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
    WHERE "c_writer" = $1 ORDER BY "c_total" ASC NULLS FIRST, "key" LIMIT $2"#;
const NEXT_ASC: &str = r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
    WHERE "c_writer" = $1 AND ("c_total" > $2 OR ("c_total" = $2 AND "key" > $3))
    ORDER BY "c_total" ASC NULLS FIRST, "key" LIMIT $4"#;

/// Times `work`, into `latencies`.
async fn timed<T>(latencies: &mut Latencies, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = work.await;
    latencies.0.push(started.elapsed().as_secs_f64() * 1e6);
    out
}

fn keys(page: &ViewPage) -> Vec<String> {
    page.rows.iter().map(|record| record.key.clone()).collect()
}

/// A page with sqlx: `limit + 1` `(key, row, total)` rows at most; the keys of the first
/// `limit`.
async fn raw_page(
    store: &PostgresStore,
    direction: Direction,
    writer: i64,
    after: Option<&Cursor>,
) -> Vec<String> {
    let limit = i64::try_from(LIMIT + 1).unwrap_or(i64::MAX);
    let (first, next) = match direction {
        Direction::Ascending => (FIRST_ASC, NEXT_ASC),
        Direction::Descending => (FIRST_DESC, NEXT_DESC),
    };
    let rows: Vec<(String, String, i64)> = match after {
        None => {
            sqlx::query_as(first)
                .bind(writer)
                .bind(limit)
                .fetch_all(store.pool())
                .await
        }
        Some(cursor) => {
            let Some(ColumnValue::Int(total)) = cursor.value else {
                panic!("a cursor of `total`");
            };
            sqlx::query_as(next)
                .bind(writer)
                .bind(total)
                .bind(&cursor.key)
                .bind(limit)
                .fetch_all(store.pool())
                .await
        }
    }
    .expect("raw query");
    rows.into_iter().take(LIMIT).map(|row| row.0).collect()
}

/// One sort's latencies.
#[derive(Default)]
struct Contest {
    ours_first: Latencies,
    raw_first: Latencies,
    ours_next: Latencies,
    raw_next: Latencies,
}

/// Whose turn is first, alternating.
struct Turns(u64);

impl Turns {
    /// Runs both contenders' queries one after the other, each timed, whose turn it is first.
    async fn take<A, B>(
        &mut self,
        ours: (&mut Latencies, impl Future<Output = A>),
        raw: (&mut Latencies, impl Future<Output = B>),
    ) -> (A, B) {
        self.0 += 1;
        if self.0.is_multiple_of(2) {
            let a = timed(ours.0, ours.1).await;
            (a, timed(raw.0, raw.1).await)
        } else {
            let b = timed(raw.0, raw.1).await;
            (timed(ours.0, ours.1).await, b)
        }
    }
}

impl Contest {
    /// One first page each, in turn; the same rows.
    async fn first(
        &mut self,
        store: &PostgresStore,
        direction: Direction,
        writer: i64,
        turns: &mut Turns,
    ) {
        let ours_query = page_query(direction, writer, None);
        let ours = store.query_view(&TickCount::SCHEMA, &ours_query);
        let raw = raw_page(store, direction, writer, None);
        let (ours, raw) = turns
            .take((&mut self.ours_first, ours), (&mut self.raw_first, raw))
            .await;
        assert_eq!(keys(&ours.expect("query")), raw);
    }

    /// A walk of `pages` pages: each next page timed on both, from ours' cursor.
    async fn walk(
        &mut self,
        store: &PostgresStore,
        direction: Direction,
        writer: i64,
        pages: usize,
        turns: &mut Turns,
    ) {
        let mut page = store
            .query_view(&TickCount::SCHEMA, &page_query(direction, writer, None))
            .await
            .expect("query");
        for n in 1..pages {
            let Some(cursor) = page.next.take() else {
                return;
            };
            let next = page_query(direction, writer, Some(cursor.clone()));
            let ours = store.query_view(&TickCount::SCHEMA, &next);
            let raw = raw_page(store, direction, writer, Some(&cursor));
            let (ours, raw) = turns
                .take((&mut self.ours_next, ours), (&mut self.raw_next, raw))
                .await;
            page = ours.expect("query");
            assert_eq!(keys(&page), raw, "page {n}");
        }
    }
}

pub(crate) async fn run(options: &Options, stores: &Stores) -> String {
    let store = &stores.inserts;
    store
        .prepare_view(&TickCount::SCHEMA)
        .await
        .expect("prepare");
    let handle = ViewHandle::of::<TickCount>();
    ViewRunner::<TickCount, _>::new(store.clone(), &handle)
        .batch_size(5000)
        .catch_up()
        .await
        .expect("catch up");
    sqlx::query("ANALYZE ddd_view_tick_count")
        .execute(store.pool())
        .await
        .expect("analyze");
    let mut turns = Turns(0);
    let mut writers = (0..).map(|n: i64| (n * 7) % 10);
    let mut contests = Vec::new();
    for direction in [Direction::Descending, Direction::Ascending] {
        let mut contest = Contest::default();
        for _ in 0..200 {
            let writer = writers.next().unwrap_or(0);
            contest.first(store, direction, writer, &mut turns).await;
        }
        contest = Contest::default();
        eprintln!(
            "{direction:?}: {} first pages, then {} walks of {} pages",
            options.queries,
            options.queries / options.pages,
            options.pages
        );
        for _ in 0..options.queries {
            let writer = writers.next().unwrap_or(0);
            contest.first(store, direction, writer, &mut turns).await;
        }
        for _ in 0..(options.queries / options.pages).max(1) {
            let writer = writers.next().unwrap_or(0);
            contest
                .walk(store, direction, writer, options.pages, &mut turns)
                .await;
        }
        contests.push((direction, contest));
    }
    report(options, &contests)
}

fn report(options: &Options, contests: &[(Direction, Contest)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n#### Query: one filter and a sort at {} rows\n\n`TickCount` caught up over {} streams \
         of one event, then `ANALYZE`: `writer` (10 values, so a filter matches a tenth of the \
         rows, `@filter`) and `total` (0 to 999, `@sort`), `?writer=<w>&sort=-total&limit={LIMIT}` \
         and `sort=total`. Ours: `query_view`. Raw: the same query written by hand with sqlx on \
         the same pool, in the order of the same index; for a next page, the cursor as one \
         `OR`. Latency in process, from the call to the page. They take turns query by query; \
         {} first pages after 200 of warm-up, and {} walks of {} pages for the next pages, per \
         sort.\n",
        thousands(options.rows as f64),
        thousands(options.rows as f64),
        options.queries,
        options.queries / options.pages,
        options.pages,
    );
    out.push_str(
        "| query | ours p50 µs | ours p99 µs | raw p50 µs | raw p99 µs | ours / raw p50 | ours / raw p99 |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (direction, contest) in contests {
        let sort = match direction {
            Direction::Ascending => "total",
            Direction::Descending => "-total",
        };
        for (page, ours, raw) in [
            ("first page", &contest.ours_first, &contest.raw_first),
            ("next page (cursor)", &contest.ours_next, &contest.raw_next),
        ] {
            let _ = writeln!(
                out,
                "| `sort={sort}`, {page} | {:.0} | {:.0} | {:.0} | {:.0} | **{:.2}×** | {:.2}× |",
                ours.p(0.5),
                ours.p(0.99),
                raw.p(0.5),
                raw.p(0.99),
                ours.p(0.5) / raw.p(0.5),
                ours.p(0.99) / raw.p(0.99),
            );
        }
    }
    out
}
