//! Timing and the arithmetic of the report; shared by the PostgreSQL and the SQLite benchmark.
//!
//! The work measured here waits on a database (a round trip, an fsync), so the honest rate
//! is wall-clock operations per second. Beside it the benchmark reports the CPU time this
//! process (and the children it waited for: pgbench) spent per operation, from
//! `/proc/self/stat`: what each contender costs the client, which other load on a shared
//! machine inflates far less than wall time.

use std::time::{Duration, Instant};

/// One timed run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Operations completed (commands, transactions, commits).
    pub ops: u64,
    pub wall: Duration,
    /// User + system time of this process and its waited-for children; `None` off Linux.
    pub cpu: Option<Duration>,
    /// User + system time of the database server processes serving the run, when known.
    pub server_cpu: Option<Duration>,
}

impl Sample {
    /// Operations per wall-clock second.
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }

    /// CPU µs per operation.
    pub fn cpu_per_op(&self) -> Option<f64> {
        self.cpu
            .map(|cpu| cpu.as_secs_f64() * 1e6 / self.ops.max(1) as f64)
    }

    /// Server CPU µs per operation.
    pub fn server_cpu_per_op(&self) -> Option<f64> {
        self.server_cpu
            .map(|cpu| cpu.as_secs_f64() * 1e6 / self.ops.max(1) as f64)
    }
}

/// Starts timing a run.
#[derive(Debug)]
pub struct Timer {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Timer {
    pub fn start() -> Self {
        let cpu = process_cpu();
        Self {
            wall: Instant::now(),
            cpu,
        }
    }

    /// The sample of a run that completed `ops` operations.
    pub fn stop(self, ops: u64) -> Sample {
        let wall = self.wall.elapsed();
        let cpu = match (self.cpu, process_cpu()) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before)),
            _ => None,
        };
        Sample {
            ops,
            wall,
            cpu,
            server_cpu: None,
        }
    }
}

/// utime + stime + cutime + cstime of this process (`/proc/self/stat`, fields 14–17, in clock
/// ticks of 10 ms: `CLK_TCK` is 100 on Linux). Threads that exited still count; children
/// count once waited for. The resolution is 10 ms, small beside runs of seconds.
fn process_cpu() -> Option<Duration> {
    stat_ticks("/proc/self/stat", 4)
}

/// utime + stime of the processes `pids` (database server backends on this machine),
/// in the same 10 ms ticks; `None` when one is not readable (a remote server).
pub fn processes_cpu(pids: &[u32]) -> Option<Duration> {
    pids.iter()
        .map(|pid| stat_ticks(&format!("/proc/{pid}/stat"), 2))
        .sum()
}

/// The sum of the first `fields` of utime, stime, cutime, cstime (fields 14–17) of a
/// `/proc/<pid>/stat` file.
fn stat_ticks(path: &str, fields: usize) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; the fields after it follow its ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let values: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): field n is at index n - 3.
    let ticks: u64 = values
        .get(11..11 + fields)?
        .iter()
        .map(|field| field.parse::<u64>().ok())
        .sum::<Option<u64>>()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The median; 0 for no values.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The `q` quantile by linear interpolation between order statistics; 0 for no values.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n => {
            let at = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let (low, high) = (at.floor() as usize, at.ceil() as usize);
            sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
        }
    }
}

/// (smallest, largest); (0, 0) for no values.
pub fn min_max(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    (
        values.iter().copied().fold(f64::INFINITY, f64::min),
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// `12345.6` → `12,346`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(rest) => ("-", rest.to_owned()),
        None => ("", digits),
    };
    let mut out = String::from(sign);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// "met" or "**missed**" for a ratio against a target that is a floor (`at_least`) or a
/// ceiling.
pub fn verdict(ratio: f64, target: f64, at_least: bool) -> String {
    let (sign, met) = if at_least {
        ("≥", ratio >= target)
    } else {
        ("≤", ratio <= target)
    };
    format!(
        "{sign} {target}× — {}",
        if met { "met" } else { "**missed**" }
    )
}

/// Samples of one contender over the rounds.
#[derive(Clone, Debug, Default)]
pub struct Series(pub Vec<Sample>);

impl Series {
    pub fn push(&mut self, sample: Sample) {
        self.0.push(sample);
    }

    pub fn rates(&self) -> Vec<f64> {
        self.0.iter().map(Sample::rate).collect()
    }

    pub fn median_rate(&self) -> f64 {
        median(&self.rates())
    }

    /// Median CPU µs per operation, when known.
    pub fn median_cpu_per_op(&self) -> Option<f64> {
        let values: Option<Vec<f64>> = self.0.iter().map(Sample::cpu_per_op).collect();
        values.filter(|v| !v.is_empty()).map(|v| median(&v))
    }

    /// Median server CPU µs per operation, when known.
    pub fn median_server_cpu_per_op(&self) -> Option<f64> {
        let values: Option<Vec<f64>> = self.0.iter().map(Sample::server_cpu_per_op).collect();
        values.filter(|v| !v.is_empty()).map(|v| median(&v))
    }

    /// Per-round ratios of this series' rates to `other`'s (same round, same index).
    pub fn round_ratios(&self, other: &Self) -> Vec<f64> {
        self.rates()
            .iter()
            .zip(other.rates())
            .map(|(a, b)| a / b)
            .collect()
    }

    /// A markdown table row: label, median rate, min, max, CPU µs/op (and the server's, when
    /// `server`).
    pub fn row(&self, label: &str, server: bool) -> String {
        if self.0.is_empty() {
            let server = if server { " |" } else { "" };
            return format!("| {label} | not run | | | |{server}\n");
        }
        let rates = self.rates();
        let (min, max) = min_max(&rates);
        let micros =
            |value: Option<f64>| value.map_or_else(|| "—".to_owned(), |v| format!("{v:.0}"));
        let server = if server {
            format!(" {} |", micros(self.median_server_cpu_per_op()))
        } else {
            String::new()
        };
        format!(
            "| {label} | {} | {} | {} | {} |{server}\n",
            thousands(median(&rates)),
            thousands(min),
            thousands(max),
            micros(self.median_cpu_per_op()),
        )
    }

    /// A markdown ratio row: median rate of `self` over `other`'s, the per-round range, and
    /// the verdict against `target` (a floor).
    pub fn ratio_row(&self, other: &Self, label: &str, target: Option<f64>) -> String {
        // A contender left out with `--contenders` has no samples: no ratio, no verdict.
        if self.0.is_empty() || other.0.is_empty() {
            return format!("| {label} | not measured | | |\n");
        }
        let ratio = self.median_rate() / other.median_rate();
        let (min, max) = min_max(&self.round_ratios(other));
        let target = target.map_or_else(|| "—".to_owned(), |t| verdict(ratio, t, true));
        format!("| {label} | **{ratio:.2}×** | {min:.2}–{max:.2}× | {target} |\n")
    }
}
