//! In-memory command path: ddd-core vs cqrs-es vs hand-written.
//!
//! Runs every contender on the same command sequence, interleaved in one process (a warm-up
//! round, then `--rounds` rounds; the contenders' order rotates each round), on one tokio
//! current-thread runtime, and prints a markdown report to stderr. stdout must not be a
//! terminal: cqrs-es's `MemStore` prints two lines per command there (send it to /dev/null).
//!
//! ```text
//! ddd-bench-command-path [--aggregates 1000] [--commands 10,50] [--rounds 5] [--warmup 1]
//!                        [--only ours,ours-replay,cqrs,cqrs-quiet,hand]   # profiling: no report
//! ```

mod cqrs;
mod domain;
mod handwritten;
mod ours;
mod workload;

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use cqrs_es::EventStore as _;
use tokio::runtime::Runtime;

use crate::workload::Workload;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    /// `Repository` with the default config (cache on, snapshot every 100).
    Ours,
    /// `Repository` with the cache and snapshots off: replays the whole stream per command.
    OursReplay,
    /// cqrs-es `CqrsFramework` + `MemStore`.
    Cqrs,
    /// cqrs-es `CqrsFramework` + `MemStore` without its `println!`s.
    CqrsQuiet,
    /// No framework.
    Hand,
}

impl Contender {
    const ALL: [Self; 5] = [Self::Ours, Self::OursReplay, Self::Cqrs, Self::CqrsQuiet, Self::Hand];

    fn label(self) -> &'static str {
        match self {
            Self::Ours => "ours: ddd-core `Repository`, default config (cache on)",
            Self::OursReplay => "ours, cache off + snapshots off",
            Self::Cqrs => "cqrs-es 0.5 `CqrsFramework` + `MemStore`",
            Self::CqrsQuiet => "cqrs-es 0.5, `MemStore` minus its 2 `println!`s (informative)",
            Self::Hand => "hand-written (replay per command)",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::OursReplay => "ours-replay",
            Self::Cqrs => "cqrs",
            Self::CqrsQuiet => "cqrs-quiet",
            Self::Hand => "hand",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::OursReplay => "ours (no cache)",
            Self::Cqrs => "cqrs-es",
            Self::CqrsQuiet => "cqrs-es (quiet)",
            Self::Hand => "hand-written",
        }
    }
}

struct Args {
    aggregates: usize,
    commands: Vec<usize>,
    rounds: usize,
    warmup: usize,
    /// Run only these contenders (for profiling).
    only: Option<Vec<Contender>>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        aggregates: 1000,
        commands: vec![10, 50],
        rounds: 5,
        warmup: 1,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| text.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--aggregates" => args.aggregates = number(value()?)?,
            "--rounds" => args.rounds = number(value()?)?.max(1),
            "--warmup" => args.warmup = number(value()?)?,
            "--commands" => {
                args.commands = value()?
                    .split(',')
                    .map(|c| c.trim().parse::<usize>().map_err(|e| format!("--commands: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            "--only" => {
                let names = value()?;
                let mut only = Vec::new();
                for name in names.split(',') {
                    let contender = Contender::ALL
                        .into_iter()
                        .find(|c| c.key() == name.trim())
                        .ok_or_else(|| format!("--only: unknown contender `{name}` (ours, ours-replay, cqrs, cqrs-quiet, hand)"))?;
                    only.push(contender);
                }
                args.only = Some(only);
            }
            "-h" | "--help" => {
                return Err("usage: ddd-bench-command-path [--aggregates N] [--commands C1,C2] [--rounds R] [--warmup W] [--only ours,ours-replay,cqrs,cqrs-quiet,hand]".into());
            }
            other => return Err(format!("unknown argument `{other}`")),
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
    if std::io::stdout().is_terminal() {
        eprintln!(
            "stdout is a terminal: cqrs-es's MemStore prints two lines per command to stdout.\n\
             Run with stdout redirected, e.g. `ddd-bench-command-path >/dev/null` (the report goes to stderr)."
        );
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");

    for &per_aggregate in &args.commands {
        let workload = Workload::generate(args.aggregates, per_aggregate, 0x00dd_d00d + per_aggregate as u64);
        if let Some(only) = &args.only {
            // Profiling mode: no report, just run the chosen contenders.
            for _ in 0..args.warmup + args.rounds {
                for &contender in only {
                    let elapsed = run(contender, &workload, &runtime);
                    eprintln!("C={per_aggregate} {}: {:.0} commands/s", contender.short(), workload.commands.len() as f64 / elapsed.as_secs_f64());
                }
            }
            continue;
        }
        let total = workload.commands.len();
        let mut samples: Vec<(Contender, Vec<Duration>)> = Contender::ALL.iter().map(|&c| (c, Vec::new())).collect();
        for round in 0..args.warmup + args.rounds {
            let mut order = Contender::ALL;
            order.rotate_left(round % Contender::ALL.len());
            for contender in order {
                let elapsed = run(contender, &workload, &runtime);
                if round >= args.warmup {
                    samples.iter_mut().find(|(c, _)| *c == contender).expect("listed").1.push(elapsed);
                }
            }
        }
        eprint!("{}", report(&args, per_aggregate, total, &samples));
    }
}

/// Runs one contender once over the whole workload; returns the time the commands took.
/// Building the empty store and checking the results afterwards are not timed.
fn run(contender: Contender, workload: &Workload, runtime: &Runtime) -> Duration {
    let commands = workload.commands.clone();
    let per_aggregate = (commands.len() / workload.ids.len()) as u64;
    match contender {
        Contender::Ours | Contender::OursReplay => {
            let repository = if contender == Contender::Ours {
                ours::default_repository()
            } else {
                ours::replaying_repository()
            };
            runtime.block_on(async {
                let start = Instant::now();
                for (index, command) in commands {
                    repository.execute(&workload.ids[index], command).await.expect("every command succeeds");
                }
                let elapsed = start.elapsed();
                for (id, balance) in workload.ids.iter().zip(&workload.final_balances) {
                    let root = repository.load(id).await.expect("loads").expect("exists");
                    assert_eq!((root.version(), root.state().0.balance), (per_aggregate, *balance));
                }
                elapsed
            })
        }
        Contender::Cqrs => {
            let store = cqrs_es::mem_store::MemStore::<cqrs::BankAccount>::default();
            let framework = cqrs_es::CqrsFramework::new(store.clone(), vec![], ());
            runtime.block_on(async {
                let start = Instant::now();
                for (index, command) in commands {
                    framework.execute(&workload.id_strings[index], command).await.expect("every command succeeds");
                }
                let elapsed = start.elapsed();
                for (id, balance) in workload.id_strings.iter().zip(&workload.final_balances) {
                    let context = store.load_aggregate(id).await.expect("loads");
                    assert_eq!((context.current_sequence as u64, context.aggregate.0.balance), (per_aggregate, *balance));
                }
                elapsed
            })
        }
        Contender::CqrsQuiet => {
            let store = cqrs::QuietMemStore::<cqrs::BankAccount>::default();
            let framework = cqrs_es::CqrsFramework::new(store.clone(), vec![], ());
            runtime.block_on(async {
                let start = Instant::now();
                for (index, command) in commands {
                    framework.execute(&workload.id_strings[index], command).await.expect("every command succeeds");
                }
                let elapsed = start.elapsed();
                for (id, balance) in workload.id_strings.iter().zip(&workload.final_balances) {
                    let context = store.load_aggregate(id).await.expect("loads");
                    assert_eq!((context.current_sequence as u64, context.aggregate.0.balance), (per_aggregate, *balance));
                }
                elapsed
            })
        }
        Contender::Hand => {
            let store = handwritten::HandWritten::default();
            runtime.block_on(async {
                let start = Instant::now();
                for (index, command) in commands {
                    store.execute(&workload.id_strings[index], command).await.expect("every command succeeds");
                }
                let elapsed = start.elapsed();
                for (id, balance) in workload.id_strings.iter().zip(&workload.final_balances) {
                    assert_eq!(store.state(id).balance, *balance);
                }
                elapsed
            })
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn report(args: &Args, per_aggregate: usize, total: usize, samples: &[(Contender, Vec<Duration>)]) -> String {
    use std::fmt::Write as _;
    let rates = |contender: Contender| -> Vec<f64> {
        let durations = &samples.iter().find(|(c, _)| *c == contender).expect("listed").1;
        durations.iter().map(|d| total as f64 / d.as_secs_f64()).collect()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### C = {per_aggregate} commands per aggregate\n\n{} aggregates; each opened, then {per_aggregate} deposits/withdrawals round-robin: {total} commands, {total} events, streams of {} events. {} timed rounds after {} warm-up round(s), contenders interleaved.\n",
        args.aggregates,
        per_aggregate + 1,
        args.rounds,
        args.warmup,
    );
    let _ = writeln!(out, "| contender | commands/s (median) | min | max | µs/command (median) |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for contender in Contender::ALL {
        let mut r = rates(contender);
        let (min, max) = (r.iter().copied().fold(f64::INFINITY, f64::min), r.iter().copied().fold(0.0, f64::max));
        let med = median(&mut r);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} |",
            contender.label(),
            thousands(med),
            thousands(min),
            thousands(max),
            1e6 / med
        );
    }
    let _ = writeln!(out, "\n| ratio | of medians | per-round range | target |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    let ratio = |a: Contender, b: Contender, target: Option<f64>| {
        let (ra, rb) = (rates(a), rates(b));
        let per_round: Vec<f64> = ra.iter().zip(&rb).map(|(x, y)| x / y).collect();
        let (min, max) = (
            per_round.iter().copied().fold(f64::INFINITY, f64::min),
            per_round.iter().copied().fold(0.0, f64::max),
        );
        let of_medians = median(&mut ra.clone()) / median(&mut rb.clone());
        let target = match target {
            Some(t) if of_medians >= t => format!("≥ {t}× — met"),
            Some(t) => format!("≥ {t}× — **missed**"),
            None => "—".to_owned(),
        };
        format!("| {} / {} | {of_medians:.2}× | {min:.2}–{max:.2}× | {target} |\n", a.short(), b.short())
    };
    out.push_str(&ratio(Contender::Ours, Contender::Cqrs, Some(2.0)));
    out.push_str(&ratio(Contender::Ours, Contender::Hand, Some(0.67)));
    out.push_str(&ratio(Contender::Ours, Contender::CqrsQuiet, None));
    out.push_str(&ratio(Contender::OursReplay, Contender::Cqrs, None));
    out.push_str(&ratio(Contender::OursReplay, Contender::Hand, None));
    out.push_str(&ratio(Contender::Ours, Contender::OursReplay, None));
    out
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
