//! Parse + validate time of two generated models with 1,000 aggregates (100 contexts of 10),
//! each aggregate with state, an entity, commands, events, constraints, and policies between
//! neighbouring contexts: a plain model (no rules), and a behaviour model whose every aggregate
//! also has a lifecycle, `requires` guards with arithmetic, `sets`, an `@key` and a named type.
//! Prints a markdown table of medians, the two models side by side.
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
    let models = [
        Model::new(aggregates, Variant::Plain),
        Model::new(aggregates, Variant::Behaviour),
    ];

    // Each step runs the two models alternately, round by round, so that both see the same
    // machine; the medians are per model.
    let parse = medians(rounds, &models, |m| {
        black_box(parser::parse(black_box(&m.source)));
    });
    let check = medians(rounds, &models, |m| {
        black_box(validate::check(black_box(m.lowered.clone())));
    });
    let total = medians(rounds, &models, |m| {
        black_box(ddd_model::load(black_box(&m.source), Format::Ddd).is_ok());
    });
    let from_json = medians(rounds, &models, |m| {
        black_box(ddd_model::load(black_box(&m.json), Format::Json).is_ok());
    });

    let mut report = String::new();
    let _ = writeln!(report, "## Model load: {aggregates} aggregates");
    report.push('\n');
    for (label, m) in ["plain", "behaviour"].iter().zip(&models) {
        let _ = writeln!(
            report,
            "- {label} model: {} lines, {} KiB of `.ddd`; {} KiB as JSON",
            m.source.lines().count(),
            m.source.len() / 1024,
            m.json.len() / 1024
        );
    }
    let _ = writeln!(
        report,
        "- median of {rounds} rounds, the two models alternating; release profile"
    );
    report.push('\n');
    let _ = writeln!(report, "| step | plain | behaviour | behaviour / plain |");
    let _ = writeln!(report, "|---|---:|---:|---:|");
    let rows = [
        ("lex + parse", parse),
        (
            "resolve + validate + derive (incl. a clone of the IR)",
            check,
        ),
        ("`load` from `.ddd` (parse + lower + check)", total),
        ("`load` from JSON (deserialize + check)", from_json),
    ];
    for (step, [plain, behaviour]) in rows {
        let _ = writeln!(
            report,
            "| {step} | {} | {} | {:.2}× |",
            ms(plain),
            ms(behaviour),
            behaviour.as_secs_f64() / plain.as_secs_f64()
        );
    }
    // The report is the program's output; a closed pipe is nobody's problem here.
    let _ = std::io::stdout().write_all(report.as_bytes());
}

/// A generated model in the forms the steps start from.
struct Model {
    source: String,
    /// The lowered IR, before checking.
    lowered: ddd_model::ir::System,
    /// The checked IR as JSON.
    json: String,
}

impl Model {
    fn new(aggregates: usize, variant: Variant) -> Self {
        let source = model(aggregates, variant);
        let checked = ddd_model::load(&source, Format::Ddd).unwrap_or_else(|rejected| {
            panic!(
                "the generated model must be valid: {:#?}",
                &rejected.diagnostics[..3.min(rejected.diagnostics.len())]
            )
        });
        let json = serde_json::to_string(&checked.system).expect("serializes");
        let lowered = lower::lower(&parser::parse(&source).0, &|span| {
            source[span.range()].to_owned()
        })
        .0;
        Self {
            source,
            lowered,
            json,
        }
    }
}

/// The median time of `run` on each model: one untimed run each, then `rounds` rounds that
/// run every model once.
fn medians<const N: usize>(
    rounds: usize,
    models: &[Model; N],
    mut run: impl FnMut(&Model),
) -> [Duration; N] {
    models.iter().for_each(&mut run);
    let mut times: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    for _ in 0..rounds {
        for (model, times) in models.iter().zip(&mut times) {
            let started = Instant::now();
            run(model);
            times.push(started.elapsed());
        }
    }
    times.map(|mut times| {
        times.sort();
        times[times.len() / 2]
    })
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1_000.0)
}

/// Which model: the same contexts, aggregates, entities, commands and events either way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// No rules: the language before behaviour.
    Plain,
    /// Every aggregate with a lifecycle, `requires` guards (comparisons, `count`, `in`,
    /// arithmetic), an event that `sets` a field by arithmetic, an entity with an `@key` that
    /// its event upserts, and a named type; contexts with a subdomain kind.
    Behaviour,
}

/// `aggregates` aggregates in contexts of ten; context `k` reacts to events of `k - 1`.
fn model(aggregates: usize, variant: Variant) -> String {
    let behaviour = variant == Variant::Behaviour;
    let contexts = aggregates.div_ceil(10);
    let mut out = String::from(
        "system Bench\n\n/// Shared.\nvalue Money { cents: i64 @range(0..), currency: String @len(3) }\n\n",
    );
    if behaviour {
        out.push_str("/// How many of one product.\ntype Quantity = u32 @range(1..=99)\n\n");
    }
    for c in 0..contexts {
        if behaviour {
            let kind = ["core", "supporting", "generic"][c % 3];
            let _ = writeln!(out, "/// Context {c}.\ncontext C{c} : {kind} {{");
            let _ = writeln!(out, "  enum Status{c} {{ Open, Submitted, Closed }}");
        } else {
            let _ = writeln!(out, "/// Context {c}.\ncontext C{c} {{");
            let _ = writeln!(out, "  enum Status{c} {{ Open, Closed }}");
        }
        let _ = writeln!(
            out,
            "  value Address{c} {{ street: String, zip: String @pattern(\"^[0-9]{{5}}$\") }}"
        );
        for a in 0..10.min(aggregates - c * 10) {
            aggregate(&mut out, c, a, variant);
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

/// Aggregate `a` of context `c`: state, an entity, commands and events; with `Behaviour`
/// also a lifecycle, guards, `sets`, an `@key` and the named type.
fn aggregate(out: &mut String, c: usize, a: usize, variant: Variant) {
    let n = format!("{c}x{a}");
    let behaviour = variant == Variant::Behaviour;
    let (key, quantity) = if behaviour {
        (" @key", "Quantity")
    } else {
        ("", "u32 @range(1..=99)")
    };
    let _ = write!(
        out,
        "  /// Aggregate {n}.
  aggregate A{n} {{
    owner: Uuid
    status: Status{c}
    total: Money
    lines: Vec<Line{n}>
    address: Option<Address{c}>
{}
    entity Line{n} {{ product: Uuid{key}, quantity: {quantity}, price: Money }}
",
        if behaviour {
            "    line_cents: i64\n"
        } else {
            ""
        }
    );
    if behaviour {
        let _ = write!(
            out,
            "
    lifecycle status {{
      Open -> Submitted by Submit{n}
      Open, Submitted -> Closed by Close{n}
    }}

    command Open{n}(owner: Uuid, total: Money) creates emits Opened{n}
    command AddLine{n}(product: Uuid, quantity: Quantity, price: Money) requires status == Open and count(lines) < 50 and quantity * 2 <= 198 else \"an open order takes at most 50 lines\" emits LineAdded{n}
    command Submit{n}() requires count(lines) > 0 and line_cents + total.cents >= 0 emits Submitted{n}
    command Close{n}(reason: String @len(1..=200)) requires address == none or len(reason) > 3 emits Closed{n}

    event Opened{n}(owner: Uuid, total: Money)
    event LineAdded{n}(product: Uuid, quantity: Quantity, price: Money) sets line_cents = line_cents + price.cents * quantity
    event Submitted{n}()
    event Closed{n}(reason: String, owner: Uuid)
  }}
"
        );
    } else {
        let _ = write!(
            out,
            "
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
}
