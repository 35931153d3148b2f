//! What the views benchmarks of every store share (each binary includes this file with
//! `#[path]`): the options, the three catch-up cases and the writes a fold makes of them,
//! the rounds with the contenders' order rotating, the catch-up report, and the query both
//! contenders page with.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;

use ddd_core::testing::conformance::views::{TickCount, TickHistory};
use ddd_core::view::{
    ColumnValue, Cursor, Direction, Filter, RowWrite, Sort, StoredRow, View, ViewBatch, ViewQuery,
};
use ddd_core::{EventStore, Position};

use crate::measure::{Sample, Series, quantile, thousands};

/// The options every store's binary takes; `extra` names the store's own (`--url`, `--dir`),
/// each with a value.
#[derive(Clone, Debug)]
pub struct Options {
    pub events: usize,
    pub streams: usize,
    pub rows: usize,
    pub batch: usize,
    pub rounds: usize,
    pub warmup: usize,
    pub queries: usize,
    pub pages: usize,
    pub only: Option<Vec<String>>,
    /// The store's own options, by flag.
    pub extra: HashMap<String, String>,
}

impl Options {
    /// The options of the command line; `extra` lists the store's own flags.
    pub fn parse(binary: &str, extra: &[&str]) -> Result<Self, String> {
        let own: Vec<String> = extra
            .iter()
            .map(|flag| format!(" [{flag} VALUE]"))
            .collect();
        let usage = format!(
            "usage: {binary} [--events N] [--streams N] [--rows N] [--batch N] [--rounds N] \
             [--warmup N] [--queries N] [--pages N] [--only catch-up,query]{}",
            own.concat()
        );
        let mut options = Self {
            events: 100_000,
            streams: 10_000,
            rows: 100_000,
            batch: 500,
            rounds: 3,
            warmup: 1,
            queries: 2000,
            pages: 10,
            only: None,
            extra: HashMap::new(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            let mut number = || -> Result<usize, String> {
                let text = value()?;
                text.parse::<usize>()
                    .map_err(|error| format!("{flag} {text}: {error}"))
            };
            match flag.as_str() {
                "--events" => options.events = number()?.max(1),
                "--streams" => options.streams = number()?.max(1),
                "--rows" => options.rows = number()?.max(1),
                "--batch" => options.batch = number()?.max(1),
                "--rounds" => options.rounds = number()?.max(1),
                "--warmup" => options.warmup = number()?,
                "--queries" => options.queries = number()?.max(1),
                "--pages" => options.pages = number()?.max(2),
                "--only" => {
                    let only = value()?.split(',').map(|s| s.trim().to_owned()).collect();
                    options.only = Some(only);
                }
                "-h" | "--help" => return Err(usage),
                own if extra.contains(&own) => {
                    let value = value()?;
                    options.extra.insert(flag.clone(), value);
                }
                other => return Err(format!("unknown argument `{other}`\n{usage}")),
            }
        }
        Ok(options)
    }

    /// Whether `section` (`catch-up`, `query`) runs.
    pub fn runs(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|name| name == section))
    }
}

/// A view and the events it folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// `TickCount` over `--streams` streams: most writes update a row.
    Count,
    /// `TickHistory` over the same events: the state kept beside the row.
    History,
    /// `TickCount` over `--rows` streams of one event: every write inserts a row.
    Inserts,
}

impl Case {
    pub const ALL: [Self; 3] = [Self::Count, Self::History, Self::Inserts];

    /// The case as the report names it; `count_indexes`: how many indexes the store gives
    /// `TickCount`'s table.
    pub fn label(self, options: &Options, count_indexes: usize) -> String {
        match self {
            Self::Count => format!(
                "`TickCount` (state = row, 3 indexed columns, {count_indexes} indexes), {} events over {} streams",
                thousands(options.events as f64),
                thousands(options.streams as f64)
            ),
            Self::History => format!(
                "`TickHistory` (state beside the row, no index), the same {} events",
                thousands(options.events as f64)
            ),
            Self::Inserts => format!(
                "`TickCount`, {} events on as many streams (every write an insert)",
                thousands(options.rows as f64)
            ),
        }
    }

    /// Whether it folds the store of `--rows` one-event streams.
    pub fn of_inserts(self) -> bool {
        self == Self::Inserts
    }

    /// The view's table, without the store's prefix.
    pub fn table(self) -> &'static str {
        match self {
            Self::Count | Self::Inserts => TickCount::SCHEMA.table,
            Self::History => TickHistory::SCHEMA.table,
        }
    }

    /// The writes ours makes of `store`'s events, `batch` per step.
    pub async fn plan<S: EventStore>(self, store: &S, batch: usize) -> Vec<Planned> {
        match self {
            Self::Count | Self::Inserts => plan::<TickCount, S>(store, batch).await,
            Self::History => plan::<TickHistory, S>(store, batch).await,
        }
    }
}

/// One step's writes, as ours makes them, and the checkpoint after it.
pub struct Planned {
    pub checkpoint: Position,
    pub writes: Vec<RowWrite>,
}

/// The writes ours makes, step by step, folded here beforehand (untimed) with the same
/// `ViewBatch` over the same events.
async fn plan<V: View, S: EventStore>(store: &S, batch: usize) -> Vec<Planned> {
    let mut rows: HashMap<String, StoredRow> = HashMap::new();
    let mut planned = Vec::new();
    let mut from = 0;
    loop {
        let events = store.read_all(from, batch).await.expect("read_all");
        if events.is_empty() {
            return planned;
        }
        let fold = ViewBatch::<V>::decode(from, events);
        let loaded: Vec<StoredRow> = fold
            .keys()
            .into_iter()
            .filter_map(|key| rows.get(key).cloned())
            .collect();
        let folded = fold.fold(&loaded).expect("fold");
        for write in &folded.writes {
            let stored = StoredRow {
                key: write.key.clone(),
                state: write.state.clone().unwrap_or_else(|| write.row.clone()),
                meta: write.meta,
            };
            rows.insert(write.key.clone(), stored);
        }
        from = folded.advanced.checkpoint;
        planned.push(Planned {
            checkpoint: from,
            writes: folded.writes,
        });
    }
}

/// Each case's samples: ours and the raw floor.
pub struct Results {
    pub cases: Vec<(Case, Series, Series)>,
}

/// Runs the warm-up rounds, then the rounds: in each, every case's two contenders once, the
/// order rotating; `run(case, ours)` runs one, `check(case)` compares the two tables after
/// a round (untimed).
pub async fn rounds<R, C>(
    options: &Options,
    mut run: impl FnMut(Case, bool) -> R,
    mut check: impl FnMut(Case) -> C,
) -> Results
where
    R: Future<Output = Sample>,
    C: Future<Output = ()>,
{
    let mut results = Results {
        cases: Case::ALL
            .into_iter()
            .map(|case| (case, Series::default(), Series::default()))
            .collect(),
    };
    let turns = Case::ALL.len() * 2;
    for round in 0..options.warmup + options.rounds {
        let warm = round < options.warmup;
        for turn in 0..turns {
            let index = (round + turn) % turns;
            let (case, ours_series, floor) = &mut results.cases[index / 2];
            let ours = index.is_multiple_of(2);
            let sample = run(*case, ours).await;
            eprintln!(
                "round {round}{}: {case:?} {}: {} events in {:.2}s = {}/s",
                if warm { " (warm-up)" } else { "" },
                if ours { "ours" } else { "raw" },
                sample.ops,
                sample.wall.as_secs_f64(),
                thousands(sample.rate())
            );
            if !warm {
                if ours {
                    ours_series.push(sample);
                } else {
                    floor.push(sample);
                }
            }
        }
        for case in Case::ALL {
            check(case).await;
        }
    }
    results
}

impl Results {
    /// The catch-up tables: rates and CPU per contender (the server's too when `server`),
    /// then the ratios. `method` says what each contender does.
    pub fn report(
        &self,
        options: &Options,
        method: &str,
        count_indexes: usize,
        server: bool,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n#### Catch-up, {} events per step\n\n{} warm-up round(s), then {} rounds; each \
             round every contender folds everything into an empty table, the order rotating. \
             {method}\n",
            options.batch, options.warmup, options.rounds
        );
        out.push_str(if server {
            "| view | contender | events/s (median) | min | max | client CPU µs/event | server CPU µs/event |\n\
             |---|---|---:|---:|---:|---:|---:|\n"
        } else {
            "| view | contender | events/s (median) | min | max | CPU µs/event |\n\
             |---|---|---:|---:|---:|---:|\n"
        });
        for (case, ours, floor) in &self.cases {
            let label = case.label(options, count_indexes);
            for (who, series) in [("ours", ours), ("raw", floor)] {
                let row = series.row(who, server);
                let _ = write!(out, "| {label} {}", row.trim_start_matches('|'));
            }
        }
        out.push_str(
            "\n| ratio: ours / raw | of medians | per-round range | target |\n|---|---:|---:|---|\n",
        );
        for (case, ours, floor) in &self.cases {
            out.push_str(&ours.ratio_row(floor, &case.label(options, count_indexes), None));
        }
        out
    }
}

/// The page size of the query benchmark.
pub const LIMIT: usize = 50;

/// `TickCount`'s columns: `writer` filters, `total` sorts.
const WRITER: usize = 1;
const TOTAL: usize = 2;

/// `?writer=<writer>&sort=[-]total&limit=50[&after=...]`.
pub fn page_query(direction: Direction, writer: i64, after: Option<Cursor>) -> ViewQuery {
    ViewQuery {
        filters: vec![Filter {
            column: WRITER,
            value: ColumnValue::Int(writer),
        }],
        sort: Some(Sort {
            column: TOTAL,
            direction,
        }),
        limit: LIMIT,
        after,
    }
}

/// Latencies of one contender, µs.
#[derive(Default)]
pub struct Latencies(pub Vec<f64>);

impl Latencies {
    /// The `q` quantile.
    pub fn p(&self, q: f64) -> f64 {
        quantile(&self.0, q)
    }
}
