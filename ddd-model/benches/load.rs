//! Parse + validate time of a generated model with 1,000 aggregates (100 contexts of 10),
//! each with state, an entity, three commands, three events, constraints, and policies
//! between neighbouring contexts. Prints a markdown table of medians.
//!
//! `scripts/bench-model.sh` (or `cargo bench -p ddd-model --bench load [-- AGGREGATES ROUNDS]`).

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use ddd_model::{Format, lower, parser, validate};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let aggregates: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(21);
    let source = model(aggregates);
    let checked = ddd_model::load(&source, Format::Ddd).unwrap_or_else(|rejected| {
        panic!(
            "the generated model must be valid: {:#?}",
            &rejected.diagnostics[..3.min(rejected.diagnostics.len())]
        )
    });
    let json = serde_json::to_string(&checked.system).expect("serializes");

    let parse = median(rounds, || {
        black_box(parser::parse(black_box(&source)));
    });
    let lowered = lower::lower(&parser::parse(&source).0).0;
    let check = median(rounds, || {
        black_box(validate::check(black_box(lowered.clone())));
    });
    let total = median(rounds, || {
        black_box(ddd_model::load(black_box(&source), Format::Ddd).is_ok());
    });
    let from_json = median(rounds, || {
        black_box(ddd_model::load(black_box(&json), Format::Json).is_ok());
    });

    let lines = source.lines().count();
    let mut report = String::new();
    let _ = writeln!(report, "## Model load: {aggregates} aggregates");
    report.push('\n');
    let _ = writeln!(
        report,
        "- model: {lines} lines, {} KiB of `.ddd`; {} KiB as JSON",
        source.len() / 1024,
        json.len() / 1024
    );
    let _ = writeln!(report, "- median of {rounds} rounds, release profile");
    report.push('\n');
    let _ = writeln!(report, "| step | median |");
    let _ = writeln!(report, "|---|---|");
    let _ = writeln!(report, "| lex + parse | {} |", ms(parse));
    let _ = writeln!(
        report,
        "| resolve + validate + derive (incl. a clone of the IR) | {} |",
        ms(check)
    );
    let _ = writeln!(
        report,
        "| `load` from `.ddd` (parse + lower + check) | {} |",
        ms(total)
    );
    let _ = writeln!(
        report,
        "| `load` from JSON (deserialize + check) | {} |",
        ms(from_json)
    );
    // The report is the program's output; a closed pipe is nobody's problem here.
    let _ = std::io::stdout().write_all(report.as_bytes());
}

fn median(rounds: usize, mut run: impl FnMut()) -> Duration {
    run();
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

/// `aggregates` aggregates in contexts of ten; context `k` reacts to events of `k - 1`.
fn model(aggregates: usize) -> String {
    let contexts = aggregates.div_ceil(10);
    let mut out = String::from(
        "system Bench\n\n/// Shared.\nvalue Money { cents: i64 @range(0..), currency: String @len(3) }\n\n",
    );
    for c in 0..contexts {
        let _ = writeln!(out, "/// Context {c}.\ncontext C{c} {{");
        let _ = writeln!(out, "  enum Status{c} {{ Open, Closed }}");
        let _ = writeln!(
            out,
            "  value Address{c} {{ street: String, zip: String @pattern(\"^[0-9]{{5}}$\") }}"
        );
        for a in 0..10.min(aggregates - c * 10) {
            aggregate(&mut out, c, a);
        }
        let events: Vec<String> = (0..10.min(aggregates - c * 10))
            .map(|a| format!("Opened{c}x{a}"))
            .collect();
        let _ = writeln!(out, "  publishes {}", events.join(", "));
        if c > 0 {
            let previous = c - 1;
            let _ = writeln!(
                out,
                "  on C{previous}.Opened{previous}x0 run A{c}x0.Open{c}x0"
            );
            let _ = writeln!(
                out,
                "  on C{previous}.Opened{previous}x1 run A{c}x1.Open{c}x1 with owner = owner"
            );
        }
        out.push_str("}\n\n");
    }
    out.push_str("map {\n");
    for c in 1..contexts {
        let _ = writeln!(out, "  C{} -> C{c} : customer-supplier", c - 1);
    }
    out.push_str("}\n");
    out
}

fn aggregate(out: &mut String, c: usize, a: usize) {
    let n = format!("{c}x{a}");
    let _ = write!(
        out,
        "  /// Aggregate {n}.
  aggregate A{n} {{
    owner: Uuid
    status: Status{c}
    total: Money
    lines: Vec<Line{n}>
    address: Option<Address{c}>

    entity Line{n} {{ product: Uuid, quantity: u32 @range(1..=99), price: Money }}

    command Open{n}(owner: Uuid, total: Money) creates emits Opened{n}
    command AddLine{n}(product: Uuid, quantity: u32 @range(1..=99), price: Money) emits LineAdded{n}
    command Close{n}(reason: String @len(1..=200)) emits Closed{n}

    event Opened{n}(owner: Uuid, total: Money)
    event LineAdded{n}(product: Uuid, quantity: u32, price: Money)
    event Closed{n}(reason: String, owner: Uuid)
  }}
"
    );
}
