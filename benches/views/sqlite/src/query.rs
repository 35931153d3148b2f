//! Query latency: `query_view` with one filter and a sort, against the same query in SQL on a
//! raw read-only connection, written plainly and tuned, taking turns query by query.

use std::fmt::Write as _;
use std::time::Instant;

use ddd_core::testing::conformance::views::TickCount;
use ddd_core::view::{
    ColumnValue, Cursor, Direction, View as _, ViewHandle, ViewPage, ViewRunner, ViewStore,
};
use ddd_sqlite::SqliteStore;
use rusqlite::{Connection, OpenFlags};
use tokio::runtime::Runtime;

use crate::catch_up::Files;
use crate::connect;
use crate::measure::thousands;
use crate::shared::{LIMIT, Latencies, Options, page_query};

/// A page in SQL: the first, and the next one after a cursor with the cursor in an `OR`, as
/// one writes it by hand; per sort direction.
struct Sql {
    first: &'static str,
    next: &'static str,
}

/// Written plainly: SQLite finds the filter's matches by its index and sorts them all.
const PLAIN: [Sql; 2] = [
    Sql {
        first: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE "c_writer" = ?1 ORDER BY "c_total" DESC, "key" LIMIT +?2"#,
        next: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE "c_writer" = ?1 AND ("c_total" < ?2 OR ("c_total" = ?2 AND "key" > ?3))
            ORDER BY "c_total" DESC, "key" LIMIT +?4"#,
    },
    Sql {
        first: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE "c_writer" = ?1 ORDER BY "c_total", "key" LIMIT +?2"#,
        next: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE "c_writer" = ?1 AND ("c_total" > ?2 OR ("c_total" = ?2 AND "key" > ?3))
            ORDER BY "c_total", "key" LIMIT +?4"#,
    },
];

/// Tuned as ours is for a common filter: `+` keeps SQLite off the filter's index, so it walks
/// the sort column's index in order and checks the filter on the way.
const TUNED: [Sql; 2] = [
    Sql {
        first: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE +"c_writer" = ?1 ORDER BY "c_total" DESC, "key" LIMIT +?2"#,
        next: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE +"c_writer" = ?1 AND ("c_total" < ?2 OR ("c_total" = ?2 AND "key" > ?3))
            ORDER BY "c_total" DESC, "key" LIMIT +?4"#,
    },
    Sql {
        first: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE +"c_writer" = ?1 ORDER BY "c_total", "key" LIMIT +?2"#,
        next: r#"SELECT "key", "row", "c_total" FROM ddd_view_tick_count
            WHERE +"c_writer" = ?1 AND ("c_total" > ?2 OR ("c_total" = ?2 AND "key" > ?3))
            ORDER BY "c_total", "key" LIMIT +?4"#,
    },
];

/// The contenders, in the order of their latencies.
const CONTENDERS: usize = 3;

fn sql(direction: Direction, tuned: bool) -> &'static Sql {
    let set = if tuned { &TUNED } else { &PLAIN };
    match direction {
        Direction::Descending => &set[0],
        Direction::Ascending => &set[1],
    }
}

fn keys(page: &ViewPage) -> Vec<String> {
    page.rows.iter().map(|record| record.key.clone()).collect()
}

/// A page with raw rusqlite: the keys of the first `limit` of up to `limit + 1` rows.
fn raw_page(raw: &Connection, sql: &Sql, writer: i64, after: Option<&Cursor>) -> Vec<String> {
    let limit = i64::try_from(LIMIT + 1).unwrap_or(i64::MAX);
    let read = |row: &rusqlite::Row<'_>| {
        let (key, _row, _total): (String, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        Ok(key)
    };
    let rows: rusqlite::Result<Vec<String>> = match after {
        None => raw
            .prepare_cached(sql.first)
            .and_then(|mut statement| statement.query_map((writer, limit), read)?.collect()),
        Some(cursor) => {
            let Some(ColumnValue::Int(total)) = cursor.value else {
                panic!("a cursor of `total`");
            };
            raw.prepare_cached(sql.next).and_then(|mut statement| {
                statement
                    .query_map((writer, total, &cursor.key, limit), read)?
                    .collect()
            })
        }
    };
    let mut keys = rows.expect("raw query");
    keys.truncate(LIMIT);
    keys
}

/// One sort's latencies: first pages and next pages, per contender.
#[derive(Default)]
struct Contest {
    first: [Latencies; CONTENDERS],
    next: [Latencies; CONTENDERS],
}

/// What the contenders query, and whose turn is first (rotating query by query).
struct Bench<'a> {
    runtime: &'a Runtime,
    store: SqliteStore,
    raw: Connection,
    turn: usize,
}

impl Bench<'_> {
    /// One page by contender `who`, timed into `latencies`: its keys, and ours' cursor.
    fn page(
        &self,
        who: usize,
        direction: Direction,
        writer: i64,
        after: Option<&Cursor>,
        latencies: &mut Latencies,
    ) -> (Vec<String>, Option<Cursor>) {
        let started = Instant::now();
        let found = match who {
            0 => {
                let query = page_query(direction, writer, after.cloned());
                let page = self
                    .runtime
                    .block_on(self.store.query_view(&TickCount::SCHEMA, &query))
                    .expect("query");
                (keys(&page), page.next)
            }
            _ => {
                let sql = sql(direction, who == 2);
                (raw_page(&self.raw, sql, writer, after), None)
            }
        };
        latencies.0.push(started.elapsed().as_secs_f64() * 1e6);
        found
    }

    /// The same page by every contender, in turn; they must agree. Ours' cursor.
    fn pages(
        &mut self,
        latencies: &mut [Latencies; CONTENDERS],
        direction: Direction,
        writer: i64,
        after: Option<&Cursor>,
    ) -> Option<Cursor> {
        self.turn += 1;
        let mut found: [Option<Vec<String>>; CONTENDERS] = Default::default();
        let mut cursor = None;
        for step in 0..CONTENDERS {
            let who = (self.turn + step) % CONTENDERS;
            let (keys, next) = self.page(who, direction, writer, after, &mut latencies[who]);
            found[who] = Some(keys);
            cursor = cursor.or(next);
        }
        assert_eq!(found[0], found[1], "plain SQL found other rows");
        assert_eq!(found[0], found[2], "tuned SQL found other rows");
        cursor
    }

    /// A walk of `pages` pages: the next pages timed, from ours' cursor.
    fn walk(&mut self, contest: &mut Contest, direction: Direction, writer: i64, pages: usize) {
        let mut unused = Contest::default();
        let mut cursor = self.pages(&mut unused.first, direction, writer, None);
        for _ in 1..pages {
            let Some(after) = cursor.take() else { return };
            cursor = self.pages(&mut contest.next, direction, writer, Some(&after));
        }
    }
}

pub(crate) fn run(options: &Options, runtime: &Runtime, files: &Files) -> String {
    let store = runtime.block_on(async {
        let store = connect(&files.inserts).await;
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
        store
    });
    let raw = Connection::open_with_flags(
        &files.inserts,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read-only connection");
    let mut bench = Bench {
        runtime,
        store,
        raw,
        turn: 0,
    };
    let mut writers = (0..).map(|n: i64| (n * 7) % 10);
    let mut contests = Vec::new();
    for direction in [Direction::Descending, Direction::Ascending] {
        let mut contest = Contest::default();
        for _ in 0..200 {
            let writer = writers.next().unwrap_or(0);
            bench.pages(&mut contest.first, direction, writer, None);
        }
        contest = Contest::default();
        let walks = (options.queries / options.pages).max(1);
        eprintln!(
            "{direction:?}: {} first pages, then {walks} walks of {} pages",
            options.queries, options.pages
        );
        for _ in 0..options.queries {
            let writer = writers.next().unwrap_or(0);
            bench.pages(&mut contest.first, direction, writer, None);
        }
        for _ in 0..walks {
            let writer = writers.next().unwrap_or(0);
            bench.walk(&mut contest, direction, writer, options.pages);
        }
        contests.push((direction, contest));
    }
    let alone = alone(&mut bench, options.queries, &mut writers);
    report(options, &contests) + &report_alone(options, &alone)
}

/// Each contender's first pages of `sort=-total` back to back, not taking turns: what a page
/// costs when nothing else runs between two (the connection's pages cached, the thread that
/// runs it awake).
fn alone(
    bench: &mut Bench<'_>,
    queries: usize,
    writers: &mut impl Iterator<Item = i64>,
) -> [Latencies; CONTENDERS] {
    let mut latencies: [Latencies; CONTENDERS] = Default::default();
    for (who, latencies) in latencies.iter_mut().enumerate() {
        for n in 0..queries + 200 {
            let writer = writers.next().unwrap_or(0);
            bench.page(who, Direction::Descending, writer, None, latencies);
            if n == 199 {
                latencies.0.clear();
            }
        }
    }
    latencies
}

fn report_alone(options: &Options, [ours, plain, tuned]: &[Latencies; CONTENDERS]) -> String {
    let mut out = format!(
        "\nEach alone, {} first pages of `sort=-total` back to back after 200 of warm-up:\n\n\
         | contender | p50 µs | p99 µs | ours / it, p50 |\n|---|---:|---:|---:|\n",
        options.queries
    );
    for (name, latencies) in [("ours", ours), ("plain", plain), ("tuned", tuned)] {
        let ratio = ours.p(0.5) / latencies.p(0.5);
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.0} | {ratio:.2}× |",
            latencies.p(0.5),
            latencies.p(0.99)
        );
    }
    out
}

fn report(options: &Options, contests: &[(Direction, Contest)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n#### Query: one filter and a sort at {rows} rows\n\n`TickCount` caught up over \
         {rows} streams of one event: `writer` (10 values, so a filter matches a tenth of the \
         rows, `@filter`) and `total` (0 to 999, `@sort`), `?writer=<w>&sort=-total&limit=\
         {LIMIT}` and `sort=total`. Ours: `query_view` (on a reader of the pool, through the \
         blocking pool: a count of the filter's matches, then the page by walking the sort \
         column's index). Raw: one statement on a read-only connection, on the calling \
         thread; plain, as one writes it (SQLite then sorts the filter's matches), and tuned \
         (`+c_writer`: it walks the sort index as ours does); a next page with the cursor in \
         one `OR`. The three take turns query by query, the order rotating, and must return \
         the same rows; {} first pages after 200 of warm-up, and {} walks of {} pages for the \
         next pages, per sort.\n",
        options.queries,
        (options.queries / options.pages).max(1),
        options.pages,
        rows = thousands(options.rows as f64),
    );
    out.push_str(
        "| query | ours p50 µs | ours p99 µs | plain p50 µs | plain p99 µs | tuned p50 µs | \
         tuned p99 µs | ours / plain p50 | ours / tuned p50 | ours / tuned p99 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (direction, contest) in contests {
        let sort = match direction {
            Direction::Ascending => "total",
            Direction::Descending => "-total",
        };
        for (page, [ours, plain, tuned]) in [
            ("first page", &contest.first),
            ("next page (cursor)", &contest.next),
        ] {
            let _ = writeln!(
                out,
                "| `sort={sort}`, {page} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | \
                 **{:.2}×** | **{:.2}×** | {:.2}× |",
                ours.p(0.5),
                ours.p(0.99),
                plain.p(0.5),
                plain.p(0.99),
                tuned.p(0.5),
                tuned.p(0.99),
                ours.p(0.5) / plain.p(0.5),
                ours.p(0.5) / tuned.p(0.5),
                ours.p(0.99) / tuned.p(0.99),
            );
        }
    }
    out
}
