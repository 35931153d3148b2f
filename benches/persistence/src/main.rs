//! Persistence on PostgreSQL: ddd-core `Repository` over ddd-postgres vs cqrs-es 0.5 over
//! postgres-es 0.5 (events-only), with pgbench's single-row insert + commit as the server's
//! own limit, all in one process run against the same server with the same pool size.
//!
//! - S1: `--accounts` accounts × `--commands` commands each, `--workers` tokio tasks (each
//!   account belongs to one worker, so nothing conflicts); pgbench with as many clients.
//! - S2: one hot account, `--hot-workers` tasks depositing for `--seconds`: successful
//!   commands/s (cqrs-es's conflicts are retried by the worker, ours by the repository).
//! - S3: the latency of one command on a `--stream`-event stream: cqrs-es (replays it all),
//!   ours cold (a fresh `Repository`: latest snapshot + tail) and ours warm (cached).
//!
//! Every scenario runs a warm-up round and then `--rounds` rounds; the contenders' order
//! rotates every round. Each run gets fresh schemas, dropped afterwards (kept with the
//! environment variable `KEEP_SCHEMAS` set, to look at the plans). Rates are wall-clock
//! (the work waits on the server); CPU µs per command is this process's (and pgbench's) user +
//! system time. The markdown report goes to stdout, progress to stderr.
//!
//! ```text
//! ddd-bench-persistence [--url URL] [--pool 16] [--workers 16] [--accounts 200]
//!     [--commands 25] [--hot-workers 8] [--seconds 3] [--pgbench-seconds 3] [--stream 2000]
//!     [--samples 10] [--rounds 5] [--warmup 1] [--only s1,s2,s3] [--pgbench PATH]
//!     [--contenders pgbench,ours,cqrs-es]   # profiling: S1/S2 run only these
//!     [--ours-options 'name=value&..']      # experiments: more URL options for our store
//!     [--prefill N]   # S1, S2: N events of other streams in the tables (analyzed) first
//!     [--plan-stats]  # S1: per connection, how often PostgreSQL planned each of our statements
//! ```

mod cqrs;
mod domain;
mod measure;
mod ours;
mod pgbench;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cqrs_es::AggregateError;
use ddd_core::ExecuteError;
use sqlx::PgPool;
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::domain::{BankAccountEvent, Plan, deposit_one, open};
use crate::measure::{
    Sample, Series, Timer, load_average, median, processes_cpu, quantile, thousands, verdict,
};

#[derive(Clone, Debug)]
struct Args {
    url: String,
    pool: u32,
    workers: usize,
    accounts: usize,
    commands: usize,
    hot_workers: usize,
    seconds: f64,
    pgbench_seconds: u32,
    stream: usize,
    samples: usize,
    rounds: usize,
    warmup: usize,
    only: Vec<String>,
    /// Profiling: run only these contenders (the report then lacks the others).
    contenders: Option<Vec<String>>,
    /// Experiments: extra URL options for our store (`name=value&...`).
    ours_options: Option<String>,
    /// S1 and S2: events of other streams stored (and analyzed) before each run.
    prefill: usize,
    /// S1: print how often each of our statements was planned (diagnostics).
    plan_stats: bool,
    pgbench: String,
}

const USAGE: &str = "usage: ddd-bench-persistence [--url URL] [--pool N] [--workers N] [--accounts N] [--commands N] [--hot-workers N] [--seconds S] [--pgbench-seconds S] [--stream N] [--samples N] [--rounds N] [--warmup N] [--only s1,s2,s3] [--pgbench PATH] [--contenders pgbench,ours,cqrs-es] [--ours-options 'name=value&..'] [--prefill N] [--plan-stats]";

impl Args {
    /// The URL our store connects with: `--url` plus `--ours-options`.
    fn ours_url(&self) -> String {
        match &self.ours_options {
            Some(options) if self.url.contains('?') => format!("{}&{options}", self.url),
            Some(options) => format!("{}?{options}", self.url),
            None => self.url.clone(),
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
        pool: 16,
        workers: 16,
        accounts: 200,
        commands: 25,
        hot_workers: 8,
        seconds: 3.0,
        pgbench_seconds: 3,
        stream: 2000,
        samples: 10,
        rounds: 5,
        warmup: 1,
        only: vec!["s1".into(), "s2".into(), "s3".into()],
        contenders: None,
        ours_options: None,
        prefill: 0,
        plan_stats: false,
        pgbench: std::env::var("PGBENCH").unwrap_or_else(|_| "pgbench".to_owned()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            text.parse::<T>().map_err(|e| format!("{flag}: {e}"))
        }
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--pool" => args.pool = number::<u32>(&flag, &value()?)?.max(1),
            "--workers" => args.workers = number::<usize>(&flag, &value()?)?.max(1),
            "--accounts" => args.accounts = number::<usize>(&flag, &value()?)?.max(1),
            "--commands" => args.commands = number::<usize>(&flag, &value()?)?.max(1),
            "--hot-workers" => args.hot_workers = number::<usize>(&flag, &value()?)?.max(1),
            "--seconds" => args.seconds = number::<f64>(&flag, &value()?)?.max(0.1),
            "--pgbench-seconds" => {
                args.pgbench_seconds = number::<u32>(&flag, &value()?)?.max(1);
            }
            "--stream" => args.stream = number::<usize>(&flag, &value()?)?.max(2),
            "--samples" => args.samples = number::<usize>(&flag, &value()?)?.max(1),
            "--rounds" => args.rounds = number::<usize>(&flag, &value()?)?.max(1),
            "--warmup" => args.warmup = number::<usize>(&flag, &value()?)?,
            "--pgbench" => args.pgbench = value()?,
            "--ours-options" => args.ours_options = Some(value()?),
            "--prefill" => args.prefill = number::<usize>(&flag, &value()?)?,
            "--plan-stats" => args.plan_stats = true,
            "--contenders" => {
                args.contenders = Some(value()?.split(',').map(|s| s.trim().to_owned()).collect());
            }
            "--only" => {
                args.only = value()?.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = args
                    .only
                    .iter()
                    .find(|s| !["s1", "s2", "s3"].contains(&s.as_str()))
                {
                    return Err(format!("--only: unknown scenario `{bad}` (s1, s2, s3)"));
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let admin = runtime.block_on(async {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&args.url)
            .await
    });
    let admin = match admin {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("cannot connect to {}: {error}", args.url);
            std::process::exit(1);
        }
    };
    let bench = Bench {
        args: args.clone(),
        admin,
        runtime,
        schemas: AtomicUsize::new(0),
    };
    let mut out = bench.header();
    for scenario in &args.only {
        let section = match scenario.as_str() {
            "s1" => bench.s1(),
            "s2" => bench.s2(),
            _ => bench.s3(),
        };
        out.push_str(&section);
    }
    bench.drop_leftovers();
    print!("{out}");
}

/// Shared state of one benchmark process.
struct Bench {
    args: Args,
    admin: PgPool,
    runtime: Runtime,
    schemas: AtomicUsize,
}

impl Bench {
    /// A schema name unique to this process and run.
    fn schema(&self, tag: &str) -> String {
        let n = self.schemas.fetch_add(1, Ordering::Relaxed);
        format!("pbench_{}_{n}_{tag}", std::process::id())
    }

    fn drop_schema(&self, schema: &str) {
        if std::env::var_os("KEEP_SCHEMAS").is_some() {
            return;
        }
        self.runtime.block_on(async {
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&self.admin)
                .await
                .expect("dropping a benchmark schema");
        });
    }

    /// Drops every schema this process created and did not drop (after a failed check).
    fn drop_leftovers(&self) {
        let prefix = format!("pbench_{}_", std::process::id());
        let names: Vec<String> = self.runtime.block_on(async {
            sqlx::query_scalar(
                "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)",
            )
            .bind(&prefix)
            .fetch_all(&self.admin)
            .await
            .unwrap_or_default()
        });
        for name in names {
            self.drop_schema(&name);
        }
    }

    /// Stores `--prefill` events of other streams with `sql` (`{schema}` replaced) and
    /// analyzes the table: the state of a store that has been in use, rather than empty.
    async fn prefill(&self, schema: &str, sql: &str) {
        if self.args.prefill == 0 {
            return;
        }
        sqlx::raw_sql(
            &sql.replace("{schema}", schema)
                .replace("{n}", &self.args.prefill.to_string()),
        )
        .execute(&self.admin)
        .await
        .expect("prefilling");
    }

    fn header(&self) -> String {
        let settings: Vec<(String, String)> = self.runtime.block_on(async {
            let mut settings = Vec::new();
            for name in [
                "server_version",
                "synchronous_commit",
                "fsync",
                "wal_sync_method",
                "shared_buffers",
                "max_connections",
            ] {
                let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
                    .fetch_one(&self.admin)
                    .await
                    .unwrap_or_else(|_| "?".to_owned());
                settings.push((name.to_owned(), value));
            }
            settings
        });
        let mut out = String::new();
        let _ = writeln!(
            out,
            "- PostgreSQL: {}; pool size {} for both contenders (pgbench: {} clients)",
            settings
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.args.pool,
            self.args.workers,
        );
        let _ = writeln!(
            out,
            "- tokio multi-thread runtime ({} worker threads); {} warm-up round(s) + {} rounds per scenario, contenders interleaved (order rotates every round); fresh schemas per run",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            self.args.warmup,
            self.args.rounds,
        );
        out
    }

    /// Runs `contenders` (label, run) for warm-up + rounds, rotating their order; the samples
    /// of the timed rounds per contender, in the order given.
    fn rounds(&self, scenario: &str, contenders: &[(&str, &dyn Fn() -> Sample)]) -> Vec<Series> {
        let mut series = vec![Series::default(); contenders.len()];
        for round in 0..self.args.warmup + self.args.rounds {
            let mut order: Vec<usize> = (0..contenders.len()).collect();
            order.rotate_left(round % contenders.len());
            for index in order {
                let (label, run) = contenders[index];
                if self
                    .args
                    .contenders
                    .as_ref()
                    .is_some_and(|only| !only.iter().any(|c| c == label))
                {
                    continue;
                }
                let sample = run();
                eprintln!(
                    "{scenario} round {round}{}: {label}: {} ops in {:.2}s = {}/s",
                    if round < self.args.warmup {
                        " (warm-up)"
                    } else {
                        ""
                    },
                    sample.ops,
                    sample.wall.as_secs_f64(),
                    thousands(sample.rate()),
                );
                if round >= self.args.warmup {
                    series[index].push(sample);
                }
            }
        }
        series
    }

    // ---------- S1: many accounts, 16 workers ----------

    fn s1(&self) -> String {
        let load = load_average();
        let a = &self.args;
        let pgbench = || self.pgbench_run();
        let ours = || self.s1_ours();
        let cqrs = || self.s1_cqrs();
        let series = self.rounds(
            "S1",
            &[("pgbench", &pgbench), ("ours", &ours), ("cqrs-es", &cqrs)],
        );
        let (pgbench, ours, cqrs) = (&series[0], &series[1], &series[2]);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n### S1: {} accounts × {} commands, {} workers{}\n\nLoad average at start: {load}.{} Each account is opened and then gets {} deposits/withdrawals (about one in three a withdrawal); account *i* belongs to worker *i* mod {}, which issues its accounts' commands round-robin, so no command conflicts: {} commands, {} events per run. pgbench: {} clients, `-M prepared`, {} s, each transaction one single-row `INSERT` (autocommit) into a scratch table with an identity primary key and a 100-byte text column.\n",
            a.accounts,
            a.commands,
            a.workers,
            if a.prefill > 0 {
                ", on a store in use"
            } else {
                ""
            },
            if a.prefill > 0 {
                format!(
                    " Before each run both contenders' event tables get {} events of 100 other streams and an `ANALYZE` (as autovacuum does on a store in use); pgbench's table stays empty.",
                    thousands(a.prefill as f64)
                )
            } else {
                String::new()
            },
            a.commands - 1,
            a.workers,
            a.accounts * a.commands,
            a.accounts * a.commands,
            a.workers,
            a.pgbench_seconds,
        );
        out.push_str("| contender | commands/s (wall, median) | min | max | client CPU µs/command | server backends' CPU µs/command |\n|---|---:|---:|---:|---:|---:|\n");
        out.push_str(&pgbench.row(
            "pgbench: 1-row INSERT + commit (transactions/s; client CPU is pgbench's)",
            true,
        ));
        out.push_str(&ours.row("**ours**: `Repository` + `PostgresStore`", true));
        out.push_str(&cqrs.row("**cqrs-es** 0.5 + postgres-es 0.5 (events only)", true));
        out.push_str(
            "\n| ratio | of medians (wall) | per-round range | target |\n|---|---:|---:|---|\n",
        );
        out.push_str(&ours.ratio_row(cqrs, "ours / cqrs-es", Some(2.0)));
        out.push_str(&ours.ratio_row(pgbench, "ours / pgbench", Some(0.5)));
        out.push_str(&cqrs.ratio_row(pgbench, "cqrs-es / pgbench", None));
        out
    }

    fn pgbench_run(&self) -> Sample {
        let schema = self.schema("pgbench");
        self.runtime.block_on(async {
            sqlx::raw_sql(&format!(
                "CREATE SCHEMA {schema}; CREATE TABLE {schema}.scratch (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL)"
            ))
            .execute(&self.admin)
            .await
            .expect("creating pgbench's table");
        });
        let sample = pgbench::run(&pgbench::Options {
            program: &self.args.pgbench,
            url: &self.args.url,
            table: &format!("{schema}.scratch"),
            clients: self.args.workers,
            seconds: self.args.pgbench_seconds,
        })
        .unwrap_or_else(|error| panic!("pgbench: {error}"));
        self.drop_schema(&schema);
        sample
    }

    fn s1_ours(&self) -> Sample {
        let a = &self.args;
        let schema = self.schema("s1_ours");
        let plan = Plan::generate(a.accounts, a.commands, a.workers, 0x00dd_d00d);
        let sample = self.runtime.block_on(async {
            let store = ours::connect(&a.ours_url(), &schema, a.pool).await;
            self.prefill(&schema, PREFILL_OURS).await;
            let backends = ours::warm(store.pool(), a.pool).await;
            let repository = ours::repository(&store);
            let ids = Arc::new(plan.ids.clone());
            let per_worker = plan.per_worker.clone();
            let backends = Backends::start(backends);
            let timer = Timer::start();
            let tasks: Vec<_> = per_worker
                .into_iter()
                .map(|commands| {
                    let (repository, ids) = (Arc::clone(&repository), Arc::clone(&ids));
                    tokio::spawn(async move {
                        for (index, command) in commands {
                            repository
                                .execute(&ids[index], command)
                                .await
                                .expect("every S1 command succeeds");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a worker finished");
            }
            let sample = backends.stop(timer.stop(plan.commands() as u64));
            // Checked through a fresh repository, so from the store, not the cache.
            let check = ours::repository(&store);
            for (id, balance) in plan.ids.iter().zip(&plan.final_balances) {
                let root = check.load(id).await.expect("loads").expect("exists");
                assert_eq!(
                    (root.version(), root.state().0.balance),
                    (plan.per_account as u64, *balance),
                    "ours: account {id} after S1"
                );
            }
            assert_eq!(
                ours::count_events(store.pool()).await,
                plan.commands() as i64
            );
            if a.plan_stats {
                ours::print_plan_stats(store.pool(), a.pool).await;
            }
            store.pool().close().await;
            sample
        });
        self.drop_schema(&schema);
        sample
    }

    fn s1_cqrs(&self) -> Sample {
        let a = &self.args;
        let schema = self.schema("s1_cqrs");
        let plan = Plan::generate(a.accounts, a.commands, a.workers, 0x00dd_d00d);
        let sample = self.runtime.block_on(async {
            let contender = cqrs::Contender::create(&self.admin, &a.url, &schema, a.pool)
                .await
                .expect("cqrs-es's schema and pool");
            self.prefill(&schema, PREFILL_CQRS).await;
            let backends = warm_cqrs(&contender.pool, a.pool).await;
            let ids: Arc<Vec<String>> = Arc::new(plan.ids.iter().map(Uuid::to_string).collect());
            let per_worker = plan.per_worker.clone();
            let backends = Backends::start(backends);
            let timer = Timer::start();
            let tasks: Vec<_> = per_worker
                .into_iter()
                .map(|commands| {
                    let (framework, ids) = (Arc::clone(&contender.framework), Arc::clone(&ids));
                    tokio::spawn(async move {
                        for (index, command) in commands {
                            framework
                                .execute(&ids[index], command)
                                .await
                                .expect("every S1 command succeeds");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a worker finished");
            }
            let sample = backends.stop(timer.stop(plan.commands() as u64));
            for (id, balance) in ids.iter().zip(&plan.final_balances) {
                let (account, version) = contender.load(id).await;
                assert_eq!(
                    (version, account.0.balance),
                    (plan.per_account, *balance),
                    "cqrs-es: account {id} after S1"
                );
            }
            contender.pool.close().await;
            sample
        });
        self.drop_schema(&schema);
        sample
    }

    // ---------- S2: one hot account ----------

    fn s2(&self) -> String {
        let load = load_average();
        let a = &self.args;
        let conflicts = std::cell::RefCell::new((Vec::new(), Vec::new()));
        let ours = || {
            let (sample, gave_up) = self.s2_ours();
            conflicts.borrow_mut().0.push(gave_up as f64);
            sample
        };
        let cqrs = || {
            let (sample, conflicted) = self.s2_cqrs();
            conflicts
                .borrow_mut()
                .1
                .push(conflicted as f64 / sample.ops.max(1) as f64);
            sample
        };
        let series = self.rounds("S2", &[("ours", &ours), ("cqrs-es", &cqrs)]);
        let (ours, cqrs) = (&series[0], &series[1]);
        let (gave_up, conflict_rate) = conflicts.into_inner();
        let skip = a.warmup.min(gave_up.len());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n### S2: one hot account, {} workers, {} s per run\n\nLoad average at start: {load}. The account is opened (untimed), then {} tasks deposit 1 into it in a loop until the time is up; the rate counts successful commands over the wall time until the last task finished. A conflict is retried: by our `Repository` itself (reload the tail, decide again; up to 10 attempts with 1–100 ms backoff, default config), by the cqrs-es worker at once (cqrs-es returns `AggregateConflict` to its caller). The final balance and version are checked against the count.\n",
            a.hot_workers, a.seconds, a.hot_workers,
        );
        out.push_str("| contender | successful commands/s (wall, median) | min | max | client CPU µs/success | server backends' CPU µs/success |\n|---|---:|---:|---:|---:|---:|\n");
        out.push_str(&ours.row("**ours**: `Repository` + `PostgresStore`", true));
        out.push_str(&cqrs.row(
            "**cqrs-es** 0.5 + postgres-es 0.5, worker retries conflicts",
            true,
        ));
        let _ = writeln!(
            out,
            "\nConflicts: cqrs-es failed attempts per success, median {:.2}; ours, commands that ran out of the repository's 10 attempts per run, median {:.0}.\n",
            median(&conflict_rate[skip..]),
            median(&gave_up[skip..]),
        );
        out.push_str(
            "| ratio | of medians (wall) | per-round range | target |\n|---|---:|---:|---|\n",
        );
        out.push_str(&ours.ratio_row(cqrs, "ours / cqrs-es", Some(2.0)));
        out
    }

    /// The S2 sample and how many commands ran out of attempts.
    fn s2_ours(&self) -> (Sample, u64) {
        let a = &self.args;
        let schema = self.schema("s2_ours");
        let result = self.runtime.block_on(async {
            let store = ours::connect(&a.ours_url(), &schema, a.pool).await;
            self.prefill(&schema, PREFILL_OURS).await;
            let backends = ours::warm(store.pool(), a.pool).await;
            let repository = ours::repository(&store);
            let id = Uuid::now_v7();
            repository.execute(&id, open(&id)).await.expect("opens");
            let backends = Backends::start(backends);
            let deadline = Instant::now() + Duration::from_secs_f64(a.seconds);
            let timer = Timer::start();
            let tasks: Vec<_> = (0..a.hot_workers)
                .map(|_| {
                    let repository = Arc::clone(&repository);
                    tokio::spawn(async move {
                        let (mut ok, mut gave_up) = (0_u64, 0_u64);
                        while Instant::now() < deadline {
                            match repository.execute(&id, deposit_one()).await {
                                Ok(_) => ok += 1,
                                Err(ExecuteError::Conflict { .. }) => gave_up += 1,
                                Err(error) => panic!("ours, S2: {error}"),
                            }
                        }
                        (ok, gave_up)
                    })
                })
                .collect();
            let (mut ok, mut gave_up) = (0, 0);
            for task in tasks {
                let (o, g) = task.await.expect("a worker finished");
                ok += o;
                gave_up += g;
            }
            let sample = backends.stop(timer.stop(ok));
            let root = ours::repository(&store)
                .load(&id)
                .await
                .expect("loads")
                .expect("exists");
            assert_eq!(
                (root.version(), root.state().0.balance),
                (ok + 1, ok as f64),
                "ours: the hot account after S2"
            );
            store.pool().close().await;
            (sample, gave_up)
        });
        self.drop_schema(&schema);
        result
    }

    /// The S2 sample and how many attempts conflicted.
    fn s2_cqrs(&self) -> (Sample, u64) {
        let a = &self.args;
        let schema = self.schema("s2_cqrs");
        let result = self.runtime.block_on(async {
            let contender = cqrs::Contender::create(&self.admin, &a.url, &schema, a.pool)
                .await
                .expect("cqrs-es's schema and pool");
            self.prefill(&schema, PREFILL_CQRS).await;
            let backends = warm_cqrs(&contender.pool, a.pool).await;
            let id = Uuid::now_v7();
            let id_text = id.to_string();
            contender
                .framework
                .execute(&id_text, open(&id))
                .await
                .expect("opens");
            let backends = Backends::start(backends);
            let deadline = Instant::now() + Duration::from_secs_f64(a.seconds);
            let timer = Timer::start();
            let tasks: Vec<_> = (0..a.hot_workers)
                .map(|_| {
                    let framework = Arc::clone(&contender.framework);
                    let id = id_text.clone();
                    tokio::spawn(async move {
                        let (mut ok, mut conflicted) = (0_u64, 0_u64);
                        while Instant::now() < deadline {
                            match framework.execute(&id, deposit_one()).await {
                                Ok(()) => ok += 1,
                                Err(AggregateError::AggregateConflict) => conflicted += 1,
                                Err(error) => panic!("cqrs-es, S2: {error}"),
                            }
                        }
                        (ok, conflicted)
                    })
                })
                .collect();
            let (mut ok, mut conflicted) = (0, 0);
            for task in tasks {
                let (o, c) = task.await.expect("a worker finished");
                ok += o;
                conflicted += c;
            }
            let sample = backends.stop(timer.stop(ok));
            let (account, version) = contender.load(&id_text).await;
            assert_eq!(
                (version as u64, account.0.balance),
                (ok + 1, ok as f64),
                "cqrs-es: the hot account after S2"
            );
            contender.pool.close().await;
            (sample, conflicted)
        });
        self.drop_schema(&schema);
        result
    }

    // ---------- S3: one command on a long stream ----------

    fn s3(&self) -> String {
        let load = load_average();
        let a = &self.args;
        let ours_schema = self.schema("s3_ours");
        let cqrs_schema = self.schema("s3_cqrs");
        let (cold, warm, hot) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let hot_text = hot.to_string();
        eprintln!("S3: seeding three {}-event streams", a.stream);
        let (store, warm_repository, contender) = self.runtime.block_on(async {
            let store = ours::connect(&a.ours_url(), &ours_schema, a.pool).await;
            ours::warm(store.pool(), a.pool).await;
            // Ours through the repository, as an application would have written them:
            // snapshots every 100 events. The warm stream's repository keeps it cached.
            let warm_repository = ours::repository(&store);
            let seed = |repository: Arc<ours::Repo>, id: Uuid, events: usize| {
                tokio::spawn(async move {
                    repository.execute(&id, open(&id)).await.expect("opens");
                    for _ in 1..events {
                        repository
                            .execute(&id, deposit_one())
                            .await
                            .expect("deposits");
                    }
                })
            };
            let seeding = [
                seed(ours::repository(&store), cold, a.stream),
                seed(Arc::clone(&warm_repository), warm, a.stream),
            ];
            let contender = cqrs::Contender::create(&self.admin, &a.url, &cqrs_schema, a.pool)
                .await
                .expect("cqrs-es's schema and pool");
            warm_cqrs(&contender.pool, a.pool).await;
            let events: Vec<BankAccountEvent> = std::iter::once(BankAccountEvent::AccountOpened {
                account_id: hot_text.clone(),
            })
            .chain(
                (1..a.stream).map(|n| BankAccountEvent::CustomerDepositedMoney {
                    amount: 1.0,
                    balance: n as f64,
                }),
            )
            .collect();
            contender.seed(&hot_text, &events).await;
            for task in seeding {
                task.await.expect("seeded");
            }
            (store, warm_repository, contender)
        });
        let mut latencies: [Vec<f64>; 3] = Default::default();
        let labels = ["cqrs-es", "ours cold", "ours warm"];
        for round in 0..a.warmup + a.rounds {
            for sample in 0..a.samples {
                for offset in 0..3 {
                    let which = (round + sample + offset) % 3;
                    let elapsed = self.runtime.block_on(async {
                        let started = Instant::now();
                        match which {
                            0 => contender
                                .framework
                                .execute(&hot_text, deposit_one())
                                .await
                                .expect("cqrs-es deposits"),
                            1 => {
                                // A fresh repository: nothing cached, as in a new process.
                                let repository = ours::repository(&store);
                                let started = Instant::now();
                                repository
                                    .execute(&cold, deposit_one())
                                    .await
                                    .expect("ours (cold) deposits");
                                return started.elapsed();
                            }
                            _ => {
                                warm_repository
                                    .execute(&warm, deposit_one())
                                    .await
                                    .expect("ours (warm) deposits");
                            }
                        }
                        started.elapsed()
                    });
                    if round >= a.warmup {
                        latencies[which].push(elapsed.as_secs_f64() * 1e3);
                    }
                }
            }
            eprintln!(
                "S3 round {round}: medians so far {}",
                labels
                    .iter()
                    .zip(&latencies)
                    .map(|(l, v)| format!("{l} {:.2} ms", median(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let executed = (a.warmup + a.rounds) * a.samples;
        let final_version = (a.stream + executed) as u64;
        self.runtime.block_on(async {
            for id in [cold, warm] {
                let root = ours::repository(&store)
                    .load(&id)
                    .await
                    .expect("loads")
                    .expect("exists");
                assert_eq!(root.version(), final_version, "ours: stream {id} after S3");
            }
            let (_, version) = contender.load(&hot_text).await;
            assert_eq!(version as u64, final_version, "cqrs-es: stream after S3");
            store.pool().close().await;
            contender.pool.close().await;
        });
        self.drop_schema(&ours_schema);
        self.drop_schema(&cqrs_schema);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n### S3: one command on a {}-event stream\n\nLoad average at start: {load}. Three streams of {} events (an `OpenAccount`, then deposits): ours written through a `Repository` (so snapshots were taken every 100 events; the latest is at version {}), cqrs-es's stored in its serialized form. Each sample is one deposit, timed alone; the three contenders alternate, {} samples each per round. Each sample appends, so the streams end at {} events. **cqrs-es** loads and replays the whole stream every command (events-only mode). **Ours cold**: a new `Repository` (empty cache, as after a restart; the pool's connections are open) loads the latest snapshot and the tail after it, decides, appends. **Ours warm**: the repository has the aggregate cached and appends at once (one round trip).\n",
            a.stream,
            a.stream,
            a.stream / 100 * 100,
            a.samples,
            final_version,
        );
        out.push_str("| contender | latency ms (median) | p10 | p90 | samples |\n|---|---:|---:|---:|---:|\n");
        for (label, values) in [
            "**cqrs-es** 0.5 + postgres-es (full replay)",
            "**ours cold**: fresh `Repository` (snapshot + tail)",
            "**ours warm**: cached aggregate",
        ]
        .iter()
        .zip(&latencies)
        {
            let _ = writeln!(
                out,
                "| {label} | {:.2} | {:.2} | {:.2} | {} |",
                median(values),
                quantile(values, 0.1),
                quantile(values, 0.9),
                values.len(),
            );
        }
        out.push_str("\n| ratio of latencies | of medians | target |\n|---|---:|---|\n");
        for (label, index) in [("ours cold / cqrs-es", 1), ("ours warm / cqrs-es", 2)] {
            let ratio = median(&latencies[index]) / median(&latencies[0]);
            let _ = writeln!(
                out,
                "| {label} | **{ratio:.3}×** | {} |",
                verdict(ratio, 0.2, false)
            );
        }
        out
    }
}

/// Events of 100 other streams, then `ANALYZE`, for `--prefill`.
const PREFILL_OURS: &str = "INSERT INTO {schema}.ddd_events (event_id, aggregate_type, aggregate_id, version, recorded_at, event_type, schema_version, correlation_id, metadata, payload) SELECT gen_random_uuid(), 'Other', 'other-' || (g % 100), g / 100 + 1, now(), 'CustomerDepositedMoney', 1, gen_random_uuid(), '{}', '{\"amount\": 1.0, \"balance\": 1.0}' FROM generate_series(0, {n} - 1) AS g; ANALYZE {schema}.ddd_events";
const PREFILL_CQRS: &str = "INSERT INTO {schema}.events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) SELECT 'Other', 'other-' || (g % 100), g / 100 + 1, 'CustomerDepositedMoney', '1.0', '{\"CustomerDepositedMoney\": {\"amount\": 1.0, \"balance\": 1.0}}', '{}' FROM generate_series(0, {n} - 1) AS g; ANALYZE {schema}.events";

/// Opens `size` connections of cqrs-es's pool before the clock starts; the process ids of
/// their server backends.
async fn warm_cqrs(pool: &PgPool, size: u32) -> Vec<u32> {
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..size {
        let mut connection = pool.acquire().await.expect("a pooled connection");
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *connection)
            .await
            .expect("the backend's pid");
        pids.push(pid.unsigned_abs());
        held.push(connection);
    }
    pids
}

/// The CPU time the server backends of a pool spend from now on (the pool holds exactly these
/// connections: it was warmed to its maximum size).
struct Backends {
    pids: Vec<u32>,
    start: Option<Duration>,
}

impl Backends {
    fn start(pids: Vec<u32>) -> Self {
        let start = processes_cpu(&pids);
        Self { pids, start }
    }

    /// `sample` with the backends' CPU time since `start`.
    fn stop(&self, mut sample: Sample) -> Sample {
        sample.server_cpu = match (self.start, processes_cpu(&self.pids)) {
            (Some(start), Some(end)) => Some(end.saturating_sub(start)),
            _ => None,
        };
        sample
    }
}
