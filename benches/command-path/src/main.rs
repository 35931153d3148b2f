//! In-memory command path: ddd-core (without and with guards) vs cqrs-es vs hand-written.
//!
//! Runs every contender on the same command sequence, interleaved in one process (a
//! calibration pass, a warm-up round, then `--rounds` rounds; the contenders' order rotates
//! each round), on one tokio current-thread runtime, and prints a markdown report to stderr.
//! In a round each contender runs the workload as many times as it takes to fill
//! `--min-round-ms` of CPU time (counted from the calibration pass), each time on a fresh
//! store, and the timed parts are summed. Rates are computed from the benchmark thread's
//! on-CPU time (`CLOCK_THREAD_CPUTIME_ID` on Linux, nanosecond resolution; wall time elsewhere)
//! so that other load on a shared machine does not count; wall-clock rates are reported beside
//! them. stdout must not be a terminal: cqrs-es's `MemStore` prints two lines per command there
//! (send it to /dev/null).
//!
//! ```text
//! ddd-bench-command-path [--aggregates 1000] [--commands 10,50] [--rounds 5] [--warmup 1]
//!                        [--min-round-ms 200]
//!                        [--only ours,ours-guards,ours-replay,cqrs,cqrs-quiet,hand]   # profiling: no report
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
    /// The same, each command checked by its `may_*` guard before the decision.
    OursGuards,
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
    const ALL: [Self; 6] = [
        Self::Ours,
        Self::OursGuards,
        Self::OursReplay,
        Self::Cqrs,
        Self::CqrsQuiet,
        Self::Hand,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Ours => "ours: ddd-core `Repository`, default config (cache on)",
            Self::OursGuards => {
                "ours with guards: a `may_*` per command (`rules::require` + `rules::require_checked`)"
            }
            Self::OursReplay => "ours, cache off + snapshots off",
            Self::Cqrs => "cqrs-es 0.5 `CqrsFramework` + `MemStore`",
            Self::CqrsQuiet => "cqrs-es 0.5, `MemStore` minus its 2 `println!`s (informative)",
            Self::Hand => "hand-written (replay per command)",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::OursGuards => "ours-guards",
            Self::OursReplay => "ours-replay",
            Self::Cqrs => "cqrs",
            Self::CqrsQuiet => "cqrs-quiet",
            Self::Hand => "hand",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::OursGuards => "ours with guards",
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
    /// The least CPU time a contender's round takes: the workload is repeated to fill it.
    min_round: Duration,
    /// Run only these contenders (for profiling).
    only: Option<Vec<Contender>>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        aggregates: 1000,
        commands: vec![10, 50],
        rounds: 5,
        warmup: 1,
        min_round: Duration::from_millis(200),
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
            "--min-round-ms" => {
                args.min_round = Duration::from_millis(number(value()?)? as u64);
            }
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
                        .ok_or_else(|| format!("--only: unknown contender `{name}` (ours, ours-guards, ours-replay, cqrs, cqrs-quiet, hand)"))?;
                    only.push(contender);
                }
                args.only = Some(only);
            }
            "-h" | "--help" => {
                return Err("usage: ddd-bench-command-path [--aggregates N] [--commands C1,C2] [--rounds R] [--warmup W] [--min-round-ms MS] [--only ours,ours-guards,ours-replay,cqrs,cqrs-quiet,hand]".into());
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
        // Calibration: one checked pass of each contender says how many passes fill a round.
        let mut repeats: Vec<(Contender, usize)> = Contender::ALL
            .iter()
            .map(|&contender| {
                let first = run(contender, &workload, &runtime, true).time();
                let pass = first.min(run(contender, &workload, &runtime, false).time());
                let repeats = args.min_round.as_secs_f64() / pass.as_secs_f64().max(1e-9);
                (contender, (repeats.ceil() as usize).max(1))
            })
            .collect();
        // The pair runs the same number of passes.
        let pair = repeats
            .iter()
            .filter(|(c, _)| matches!(c, Contender::Ours | Contender::OursGuards))
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(1);
        for (contender, r) in &mut repeats {
            if matches!(contender, Contender::Ours | Contender::OursGuards) {
                *r = pair;
            }
        }
        let repeats_of = |contender: Contender| {
            repeats
                .iter()
                .find(|(c, _)| *c == contender)
                .expect("listed")
                .1
        };
        let mut samples: Vec<(Contender, Vec<Sample>)> =
            Contender::ALL.iter().map(|&c| (c, Vec::new())).collect();
        // Ours without and with guards differ by a few percent at most, less than the round
        // to round noise of a shared machine: they run as a pair, pass by pass in the order
        // ABBA ABBA ..., so that both see the same moments of the machine.
        let paired = [Contender::Ours, Contender::OursGuards];
        for round in 0..args.warmup + args.rounds {
            let mut order = Contender::ALL;
            order.rotate_left(round % Contender::ALL.len());
            for contender in order {
                let mut elapsed = Vec::new();
                if contender == Contender::OursGuards {
                    continue; // run with `Ours`
                } else if contender == Contender::Ours {
                    let passes = repeats_of(Contender::Ours).max(repeats_of(Contender::OursGuards));
                    let mut sums = [Sample::default(); 2];
                    for pass in 0..2 * passes {
                        let which = usize::from(matches!(pass % 4, 1 | 2));
                        // The results of every round's first passes are checked (untimed).
                        sums[which] += run(paired[which], &workload, &runtime, pass < 2);
                    }
                    elapsed.extend(paired.into_iter().zip(sums));
                } else {
                    let mut sum = Sample::default();
                    for pass in 0..repeats_of(contender) {
                        // The results of every round's first pass are checked (untimed).
                        sum += run(contender, &workload, &runtime, pass == 0);
                    }
                    elapsed.push((contender, sum));
                }
                for (contender, elapsed) in elapsed.into_iter().filter(|_| round >= args.warmup) {
                    samples
                        .iter_mut()
                        .find(|(c, _)| *c == contender)
                        .expect("listed")
                        .1
                        .push(elapsed);
                }
            }
        }
        let decisions = decision_costs(&workload, &args);
        eprint!(
            "{}",
            report(&args, per_aggregate, &workload, &repeats, &samples)
        );
        eprint!("{}", decisions);
    }
}

/// How long one run (or the sum of a round's runs) took.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    wall: Duration,
    /// Time this thread spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`), which excludes the time
    /// other processes on a shared machine took the CPU away.
    cpu: Option<Duration>,
    /// Time this thread was runnable but waiting for a CPU (Linux schedstat).
    waited: Option<Duration>,
}

impl Sample {
    /// The time the rates are computed from: on-CPU time when known, else wall time.
    fn time(&self) -> Duration {
        self.cpu.unwrap_or(self.wall)
    }
}

impl std::ops::AddAssign for Sample {
    fn add_assign(&mut self, other: Self) {
        let add = |a: Option<Duration>, b: Option<Duration>, first: bool| match (a, b) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) if first => b,
            _ => None,
        };
        let first = self.wall.is_zero();
        self.cpu = add(self.cpu, other.cpu, first);
        self.waited = add(self.waited, other.waited, first);
        self.wall += other.wall;
    }
}

struct Timer {
    wall: Instant,
    cpu: Option<Duration>,
    waited: Option<u64>,
}

impl Timer {
    fn start() -> Self {
        let waited = run_delay();
        let cpu = thread_cpu_time();
        Self {
            wall: Instant::now(),
            cpu,
            waited,
        }
    }

    fn stop(self) -> Sample {
        let wall = self.wall.elapsed();
        let cpu = thread_cpu_time();
        let waited = run_delay();
        Sample {
            wall,
            cpu: self
                .cpu
                .zip(cpu)
                .map(|(start, end)| end.saturating_sub(start)),
            waited: self
                .waited
                .zip(waited)
                .map(|(start, end)| Duration::from_nanos(end.saturating_sub(start))),
        }
    }
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`: the scheduler's own count,
/// brought up to date on every read, in nanoseconds); the whole benchmark runs on one thread
/// (a current-thread runtime). Not `/proc/thread-self/schedstat`: its on-CPU figure advances
/// only at the scheduler's tick (every 4 ms at 250 Hz) while the thread runs, as coarse as a
/// whole fast round.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Nanoseconds the calling thread has been runnable but waiting for a CPU (the second field
/// of `/proc/thread-self/schedstat`, updated whenever the thread is scheduled in: good enough
/// for the share of time the machine was busy elsewhere, which is all it is used for).
fn run_delay() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// Runs one contender once over the whole workload; returns the time the commands took.
/// Building the empty store and checking the results afterwards (`check`) are not timed.
fn run(contender: Contender, workload: &Workload, runtime: &Runtime, check: bool) -> Sample {
    let commands = workload.commands.clone();
    let per_aggregate = (commands.len() / workload.ids.len()) as u64;
    match contender {
        Contender::Ours => run_ours(
            ours::default_repository::<false>(),
            workload,
            runtime,
            check,
        ),
        Contender::OursGuards => {
            run_ours(ours::default_repository::<true>(), workload, runtime, check)
        }
        Contender::OursReplay => run_ours(ours::replaying_repository(), workload, runtime, check),
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

/// What the guards cost on their own: the decision of ours (guard when guarded, `decide`, the
/// `Vec` of events; no repository, store or envelope) on every deposit and withdrawal of the
/// workload, on an open account with a large balance, without and with guards, pass by pass
/// in the order ABBA, each round as long as `--min-round-ms`. Returns a markdown line.
fn decision_costs(workload: &Workload, args: &Args) -> String {
    use std::hint::black_box;
    let commands: Vec<domain::BankAccountCommand> = workload
        .commands
        .iter()
        .map(|(_, command)| command.clone())
        .filter(|command| !matches!(command, domain::BankAccountCommand::OpenAccount { .. }))
        .collect();
    let account = domain::Account {
        opened: true,
        balance: 1e6,
    };
    let plain = ours::BankAccount::<false>(account.clone());
    let guarded = ours::BankAccount::<true>(account);
    let pass = |which: usize| {
        let start = Timer::start();
        for command in &commands {
            let decided = if which == 0 {
                black_box(&plain).decision(black_box(command.clone()))
            } else {
                black_box(&guarded).decision(black_box(command.clone()))
            };
            assert!(black_box(decided).is_ok());
        }
        start.stop().time()
    };
    let one = pass(0).min(pass(1)).min(pass(0));
    let passes = (args.min_round.as_secs_f64() / one.as_secs_f64().max(1e-9)).ceil() as usize;
    let mut per_round = Vec::new();
    for round in 0..args.warmup + args.rounds {
        let mut sums = [Duration::ZERO; 2];
        for p in 0..2 * passes.max(1) {
            let which = usize::from(matches!(p % 4, 1 | 2));
            sums[which] += pass(which);
        }
        if round >= args.warmup {
            let n = (passes.max(1) * commands.len()) as f64;
            per_round.push((
                sums[0].as_secs_f64() * 1e9 / n,
                sums[1].as_secs_f64() * 1e9 / n,
            ));
        }
    }
    let plain_ns = median(&mut per_round.iter().map(|r| r.0).collect::<Vec<_>>());
    let guarded_ns = median(&mut per_round.iter().map(|r| r.1).collect::<Vec<_>>());
    let added = median(&mut per_round.iter().map(|r| r.1 - r.0).collect::<Vec<_>>());
    format!(
        "\nThe decision alone (guard if any, `decide`, its `Vec` of events; no repository), on the {} deposits and withdrawals, paired as above, median of {} rounds: **{plain_ns:.1} ns** without guards, **{guarded_ns:.1} ns** with, **{added:+.1} ns** per command for the guards.\n",
        commands.len(),
        args.rounds,
    )
}

/// Runs ours (any configuration, with or without guards) once over the whole workload.
fn run_ours<const GUARDS: bool>(
    repository: ddd_core::Repository<
        ours::BankAccount<GUARDS>,
        ddd_core::memory::InMemoryEventStore,
    >,
    workload: &Workload,
    runtime: &Runtime,
    check: bool,
) -> Sample {
    let commands = workload.commands.clone();
    let per_aggregate = (commands.len() / workload.ids.len()) as u64;
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
    workload: &Workload,
    repeats: &[(Contender, usize)],
    samples: &[(Contender, Vec<Sample>)],
) -> String {
    use std::fmt::Write as _;
    let total = workload.commands.len();
    let of = |contender: Contender| {
        &samples
            .iter()
            .find(|(c, _)| *c == contender)
            .expect("listed")
            .1
    };
    // Commands in one round of a contender: the workload times its passes per round.
    let per_round = |contender: Contender| {
        let passes = repeats
            .iter()
            .find(|(c, _)| *c == contender)
            .expect("listed")
            .1;
        (total * passes) as f64
    };
    let on_cpu = samples
        .iter()
        .all(|(_, s)| s.iter().all(|s| s.cpu.is_some()));
    let rates = |contender: Contender| -> Vec<f64> {
        of(contender)
            .iter()
            .map(|s| per_round(contender) / s.time().as_secs_f64())
            .collect()
    };
    let wall_rates = |contender: Contender| -> Vec<f64> {
        of(contender)
            .iter()
            .map(|s| per_round(contender) / s.wall.as_secs_f64())
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
        "\n### C = {per_aggregate} commands per aggregate\n\n{} aggregates; each opened, then {per_aggregate} deposits/withdrawals round-robin: {total} commands, {total} events, streams of {} events per pass. {} timed rounds after {} warm-up round(s), contenders interleaved; in a round each contender makes as many passes (each on a fresh store) as fill {} ms of CPU time.\n",
        args.aggregates,
        per_aggregate + 1,
        args.rounds,
        args.warmup,
        args.min_round.as_millis(),
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
            "Rates are commands per second of **on-CPU time** of the benchmark thread (`CLOCK_THREAD_CPUTIME_ID`, nanosecond resolution), so time other processes held the CPU is not counted; the thread waited for a CPU during {:.0}% of the timed wall time. Wall-clock rates are in the last column.\n",
            100.0 * waited.as_secs_f64() / wall.as_secs_f64()
        );
    }
    let basis = if on_cpu { "on-CPU" } else { "wall" };
    let _ = writeln!(
        out,
        "| contender | commands/s ({basis}, median) | min | max | µs/command | commands/s (wall, median) | passes per round | shortest round ({basis}) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut shortest_of_all = Duration::MAX;
    for contender in Contender::ALL {
        let mut r = rates(contender);
        let (min, max) = min_max(&r);
        let med = median(&mut r);
        let wall = median(&mut wall_rates(contender));
        let shortest = of(contender)
            .iter()
            .map(Sample::time)
            .min()
            .unwrap_or_default();
        shortest_of_all = shortest_of_all.min(shortest);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | {} | {} | {:.0} ms |",
            contender.label(),
            thousands(med),
            thousands(min),
            thousands(max),
            1e6 / med,
            thousands(wall),
            per_round(contender) as usize / total,
            shortest.as_secs_f64() * 1e3,
        );
    }
    // A round must be long next to what the clock resolves (1 ns for the thread CPU clock,
    // about 20 µs of scheduling jitter in practice, a 4 ms tick for schedstat's): 50 ms is
    // 2,500 times that jitter.
    if shortest_of_all < Duration::from_millis(50) {
        let _ = writeln!(
            out,
            "\n**Warning**: a round took only {:.1} ms, too short to time reliably: raise `--min-round-ms`.",
            shortest_of_all.as_secs_f64() * 1e3
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
    out.push_str(&guards_ratio(
        (&rates(Contender::OursGuards), &rates(Contender::Ours)),
        (
            &wall_rates(Contender::OursGuards),
            &wall_rates(Contender::Ours),
        ),
    ));
    out.push_str(&ratio(Contender::Ours, Contender::Cqrs, Some(2.0)));
    out.push_str(&ratio(Contender::OursGuards, Contender::Cqrs, None));
    out.push_str(&ratio(Contender::Ours, Contender::Hand, Some(0.67)));
    out.push_str(&ratio(Contender::Ours, Contender::CqrsQuiet, None));
    out.push_str(&ratio(Contender::OursReplay, Contender::Cqrs, None));
    out.push_str(&ratio(Contender::OursReplay, Contender::Hand, None));
    out.push_str(&ratio(Contender::Ours, Contender::OursReplay, None));
    out
}

/// The ratio row of ours with guards to ours without, to three decimals (the difference is
/// small), with what the guards cost per command and the verdict: the target is at most 5 %
/// slower, i.e. a rate at least 1 / 1.05 of the rate without guards. The two run as a pair
/// (pass by pass in one round), so the headline is the median of the per-round ratios; the
/// ratio of the medians is beside it.
fn guards_ratio(
    (guarded, plain): (&[f64], &[f64]),
    (guarded_wall, plain_wall): (&[f64], &[f64]),
) -> String {
    let per_round: Vec<f64> = guarded.iter().zip(plain).map(|(g, p)| g / p).collect();
    let min = per_round.iter().copied().fold(f64::INFINITY, f64::min);
    let max = per_round.iter().copied().fold(0.0, f64::max);
    let of_medians = median(&mut guarded.to_vec()) / median(&mut plain.to_vec());
    let paired = median(&mut per_round.clone());
    // ns per command the guards add, median of the rounds' differences.
    let mut added: Vec<f64> = guarded
        .iter()
        .zip(plain)
        .map(|(g, p)| 1e9 / g - 1e9 / p)
        .collect();
    let added = median(&mut added);
    let slower = 100.0 * (1.0 / paired - 1.0);
    let mut wall_per_round: Vec<f64> = guarded_wall
        .iter()
        .zip(plain_wall)
        .map(|(g, p)| g / p)
        .collect();
    let wall = median(&mut wall_per_round);
    let verdict = if paired >= 1.0 / 1.05 {
        "≤ 5 % slower — met"
    } else {
        "≤ 5 % slower — **missed**"
    };
    format!(
        "| ours with guards / ours (paired: median of per-round ratios) | **{paired:.3}×** ({slower:+.1} % time, {added:+.1} ns/command; ratio of medians {of_medians:.3}×) | {min:.3}–{max:.3}× | {wall:.3}× | {verdict} |\n"
    )
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
