//! Times the layout of the context map of a generated model (`scripts/bench-docs.sh` runs
//! it): `layout_bench [CONTEXTS] [ROUNDS]` prints the median and the fastest round of the
//! layout alone and of layout plus SVG, in milliseconds; `layout_bench --model CONTEXTS`
//! prints the model instead, for timing the `ddd` commands on it.

#[path = "../tests/common/mod.rs"]
#[expect(
    dead_code,
    reason = "the tests' models: only `generated` and `load` are used here"
)]
mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use ddd_docs::diagrams::{self, Links};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |at: usize, default: usize| args.get(at).and_then(|a| a.parse().ok()).unwrap_or(default);
    let mut stdout = std::io::stdout().lock();
    if args.first().map(String::as_str) == Some("--model") {
        let _ = stdout.write_all(common::generated(number(1, 100)).as_bytes());
        return;
    }
    let (contexts, rounds) = (number(0, 100), number(1, 21).max(1));
    let system = common::load(&common::generated(contexts));
    let graph = diagrams::context_map(&system, Links::None);
    let layout = time(rounds, || {
        std::hint::black_box(ddd_docs::layout::layout(&graph));
    });
    let svg = time(rounds, || {
        std::hint::black_box(ddd_docs::context_map_svg(&system));
    });
    let _ = writeln!(
        stdout,
        "context map of {contexts} contexts ({} edges), {rounds} rounds: layout median {:.2} ms (fastest {:.2}); layout + SVG median {:.2} ms (fastest {:.2})",
        graph.edges.len(),
        ms(layout.0),
        ms(layout.1),
        ms(svg.0),
        ms(svg.1)
    );
}

/// The median and the fastest of `rounds` runs.
fn time(rounds: usize, mut run: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[rounds / 2], times[0])
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
