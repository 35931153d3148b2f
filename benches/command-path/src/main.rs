//! In-memory command path: ddd-core vs cqrs-es vs hand-written.
//!
//! Runs every contender on the same command sequence, interleaved in one process (a warm-up
//! round, then `--rounds` rounds; the contenders' order rotates each round), on one tokio
//! current-thread runtime, and prints a markdown report to stderr. Rates are computed from the
//! benchmark thread's on-CPU time (Linux schedstat; wall time elsewhere) so that other load on
//! a shared machine does not count; wall-clock rates are reported beside them. stdout must not
//! be a terminal: cqrs-es's `MemStore` prints two lines per command there (send it to
//! /dev/null).
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

#[cfg(feature = "count-allocs")]
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU64, Ordering};

    pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

    pub struct Counting;

    // SAFETY: forwards to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: our caller upholds `GlobalAlloc`'s contract, which is all `System` needs.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: our caller upholds `GlobalAlloc`'s contract, which is all `System` needs.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: our caller upholds `GlobalAlloc`'s contract, which is all `System` needs.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}

/// Heap allocations (and reallocations) so far; 0 without feature `count-allocs`.
fn allocations() -> u64 {
    #[cfg(feature = "count-allocs")]
    return counting::ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "count-allocs"))]
    0
}

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
    const ALL: [Self; 5] = [
        Self::Ours,
        Self::OursReplay,
        Self::Cqrs,
        Self::CqrsQuiet,
        Self::Hand,
    ];

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
                    .map(|c| {
                        c.trim()
                            .parse::<usize>()
                            .map_err(|e| format!("--commands: {e}"))
                    })
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
        let workload = Workload::generate(
            args.aggregates,
            per_aggregate,
            0x00dd_d00d + per_aggregate as u64,
        );
        if let Some(only) = &args.only {
            // Profiling mode: no report, just run the chosen contenders.
            for _ in 0..args.warmup + args.rounds {
                for &contender in only {
                    let before = allocations();
                    let elapsed = run(contender, &workload, &runtime, false);
                    let allocs = (allocations() - before) as f64 / workload.commands.len() as f64;
                    eprintln!(
                        "C={per_aggregate} {}: {:.0} commands/s{}",
                        contender.short(),
                        workload.commands.len() as f64 / elapsed.time().as_secs_f64(),
                        if cfg!(feature = "count-allocs") {
                            format!(", {allocs:.2} allocations/command (incl. setup)")
                        } else {
                            String::new()
                        },
                    );
                }
            }
            continue;
        }
        let total = workload.commands.len();
        let mut samples: Vec<(Contender, Vec<Sample>)> =
            Contender::ALL.iter().map(|&c| (c, Vec::new())).collect();
        for round in 0..args.warmup + args.rounds {
            let mut order = Contender::ALL;
            order.rotate_left(round % Contender::ALL.len());
            for contender in order {
                let elapsed = run(contender, &workload, &runtime, true);
                if round >= args.warmup {
                    samples
                        .iter_mut()
                        .find(|(c, _)| *c == contender)
                        .expect("listed")
                        .1
                        .push(elapsed);
                }
            }
        }
        eprint!("{}", report(&args, per_aggregate, total, &samples));
    }
}

/// How long one run took.
#[derive(Clone, Copy, Debug)]
struct Sample {
    wall: Duration,
    /// Time this thread spent on a CPU (Linux `/proc/thread-self/schedstat`), which excludes
    /// the time other processes on a shared machine took the CPU away.
    cpu: Option<Duration>,
    /// Time this thread was runnable but waiting for a CPU.
    waited: Option<Duration>,
}

impl Sample {
    /// The time the rates are computed from: on-CPU time when known, else wall time.
    fn time(&self) -> Duration {
        self.cpu.unwrap_or(self.wall)
    }
}

struct Timer {
    wall: Instant,
    sched: Option<(u64, u64)>,
}

impl Timer {
    fn start() -> Self {
        let sched = schedstat();
        Self {
            wall: Instant::now(),
            sched,
        }
    }

    fn stop(self) -> Sample {
        let wall = self.wall.elapsed();
        let (cpu, waited) = match (self.sched, schedstat()) {
            (Some((run0, wait0)), Some((run1, wait1))) => (
                Some(Duration::from_nanos(run1.saturating_sub(run0))),
                Some(Duration::from_nanos(wait1.saturating_sub(wait0))),
            ),
            _ => (None, None),
        };
        Sample { wall, cpu, waited }
    }
}

/// (ns on a CPU, ns runnable but waiting) of the calling thread; the whole benchmark runs on
/// one thread (a current-thread runtime).
fn schedstat() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    match (fields.next()?, fields.next()?) {
        (Ok(run), Ok(wait)) if run > 0 => Some((run, wait)),
        _ => None,
    }
}

/// Runs one contender once over the whole workload; returns the time the commands took.
/// Building the empty store and checking the results afterwards (`check`) are not timed.
fn run(contender: Contender, workload: &Workload, runtime: &Runtime, check: bool) -> Sample {
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
                let start = Timer::start();
                for (index, command) in commands {
                    repository
                        .execute(&workload.ids[index], command)
                        .await
                        .expect("every command succeeds");
                }
                let elapsed = start.stop();
                for (id, balance) in workload
                    .ids
                    .iter()
                    .zip(&workload.final_balances)
                    .filter(|_| check)
                {
                    let root = repository.load(id).await.expect("loads").expect("exists");
                    assert_eq!(
                        (root.version(), root.state().0.balance),
                        (per_aggregate, *balance)
                    );
                }
                elapsed
            })
        }
        Contender::Cqrs => {
            let store = cqrs_es::mem_store::MemStore::<cqrs::BankAccount>::default();
            let framework = cqrs_es::CqrsFramework::new(store.clone(), vec![], ());
            runtime.block_on(async {
                let start = Timer::start();
                for (index, command) in commands {
                    framework
                        .execute(&workload.id_strings[index], command)
                        .await
                        .expect("every command succeeds");
                }
                let elapsed = start.stop();
                for (id, balance) in workload
                    .id_strings
                    .iter()
                    .zip(&workload.final_balances)
                    .filter(|_| check)
                {
                    let context = store.load_aggregate(id).await.expect("loads");
                    assert_eq!(
                        (context.current_sequence as u64, context.aggregate.0.balance),
                        (per_aggregate, *balance)
                    );
                }
                elapsed
            })
        }
        Contender::CqrsQuiet => {
            let store = cqrs::QuietMemStore::<cqrs::BankAccount>::default();
            let framework = cqrs_es::CqrsFramework::new(store.clone(), vec![], ());
            runtime.block_on(async {
                let start = Timer::start();
                for (index, command) in commands {
                    framework
                        .execute(&workload.id_strings[index], command)
                        .await
                        .expect("every command succeeds");
                }
                let elapsed = start.stop();
                for (id, balance) in workload
                    .id_strings
                    .iter()
                    .zip(&workload.final_balances)
                    .filter(|_| check)
                {
                    let context = store.load_aggregate(id).await.expect("loads");
                    assert_eq!(
                        (context.current_sequence as u64, context.aggregate.0.balance),
                        (per_aggregate, *balance)
                    );
                }
                elapsed
            })
        }
        Contender::Hand => {
            let store = handwritten::HandWritten::default();
            runtime.block_on(async {
                let start = Timer::start();
                for (index, command) in commands {
                    store
                        .execute(&workload.id_strings[index], command)
                        .await
                        .expect("every command succeeds");
                }
                let elapsed = start.stop();
                for (id, balance) in workload
                    .id_strings
                    .iter()
                    .zip(&workload.final_balances)
                    .filter(|_| check)
                {
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
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn report(
    args: &Args,
    per_aggregate: usize,
    total: usize,
    samples: &[(Contender, Vec<Sample>)],
) -> String {
    use std::fmt::Write as _;
    let of = |contender: Contender| {
        &samples
            .iter()
            .find(|(c, _)| *c == contender)
            .expect("listed")
            .1
    };
    let on_cpu = samples
        .iter()
        .all(|(_, s)| s.iter().all(|s| s.cpu.is_some()));
    let rates = |contender: Contender| -> Vec<f64> {
        of(contender)
            .iter()
            .map(|s| total as f64 / s.time().as_secs_f64())
            .collect()
    };
    let wall_rates = |contender: Contender| -> Vec<f64> {
        of(contender)
            .iter()
            .map(|s| total as f64 / s.wall.as_secs_f64())
            .collect()
    };
    let min_max = |r: &[f64]| {
        (
            r.iter().copied().fold(f64::INFINITY, f64::min),
            r.iter().copied().fold(0.0, f64::max),
        )
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
    if cfg!(feature = "fast-rng") {
        let _ = writeln!(
            out,
            "**Built with feature `fast-rng`** (uuid's thread-local RNG for ddd-core and the hand-written contender): an experiment, not the default.\n"
        );
    }
    if on_cpu {
        let wall: Duration = samples
            .iter()
            .flat_map(|(_, s)| s.iter().map(|s| s.wall))
            .sum();
        let waited: Duration = samples
            .iter()
            .flat_map(|(_, s)| s.iter().filter_map(|s| s.waited))
            .sum();
        let _ = writeln!(
            out,
            "Rates are commands per second of **on-CPU time** of the benchmark thread (`/proc/thread-self/schedstat`), so time other processes held the CPU is not counted; the thread waited for a CPU during {:.0}% of the timed wall time. Wall-clock rates are in the last column.\n",
            100.0 * waited.as_secs_f64() / wall.as_secs_f64()
        );
    }
    let basis = if on_cpu { "on-CPU" } else { "wall" };
    let _ = writeln!(
        out,
        "| contender | commands/s ({basis}, median) | min | max | µs/command | commands/s (wall, median) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for contender in Contender::ALL {
        let mut r = rates(contender);
        let (min, max) = min_max(&r);
        let med = median(&mut r);
        let wall = median(&mut wall_rates(contender));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} | {} |",
            contender.label(),
            thousands(med),
            thousands(min),
            thousands(max),
            1e6 / med,
            thousands(wall),
        );
    }
    let _ = writeln!(
        out,
        "\n| ratio | of medians ({basis}) | per-round range | of medians (wall) | target |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|");
    let ratio = |a: Contender, b: Contender, target: Option<f64>| {
        let (ra, rb) = (rates(a), rates(b));
        let per_round: Vec<f64> = ra.iter().zip(&rb).map(|(x, y)| x / y).collect();
        let (min, max) = min_max(&per_round);
        let of_medians = median(&mut ra.clone()) / median(&mut rb.clone());
        let wall = median(&mut wall_rates(a)) / median(&mut wall_rates(b));
        let target = match target {
            Some(t) if of_medians >= t => format!("≥ {t}× — met"),
            Some(t) => format!("≥ {t}× — **missed**"),
            None => "—".to_owned(),
        };
        format!(
            "| {} / {} | {of_medians:.2}× | {min:.2}–{max:.2}× | {wall:.2}× | {target} |\n",
            a.short(),
            b.short()
        )
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
