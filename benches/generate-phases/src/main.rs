//! Where the time of `ddd generate` goes: the phases `ddd generate` runs, timed one by one.
//!
//! ```text
//! ddd-bench-generate-phases MODEL.ddd OUT [RUNS]    # OUT-1, OUT-2, ...: directories that must not exist
//! ```
//!
//! Per run: loading the model (`ddd_model::load`), `ddd_gen::workspace` (views, rendering,
//! formatting on every core, the API documents beside them), writing the files
//! (`ddd_gen::write::write`, as `ddd generate` does), and then, for scale, formatting every
//! generated Rust file once more on one thread (`ddd_gen::format::rust`): the CPU time the
//! formatting costs.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: ddd-bench-generate-phases MODEL.ddd OUT [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = rest.first().and_then(|r| r.parse().ok()).unwrap_or(3);
    let text = std::fs::read_to_string(model).expect("the model reads");
    let options = ddd_gen::Options {
        model: model.clone(),
        runtime: format!("path:{}", concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .parse()
            .expect("a path runtime"),
        templates: None,
    };
    println!("| run | load | workspace | write | total | formatting again, one thread |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut sizes = String::new();
    for run in 1..=runs {
        let started = Instant::now();
        let loaded = ddd_model::load(&text, ddd_model::Format::Ddd).unwrap_or_else(|rejected| {
            panic!("the model is invalid: {:?}", rejected.diagnostics.first())
        });
        let load = started.elapsed();

        let started = Instant::now();
        let files = ddd_gen::workspace(&loaded.system, &options).expect("generates");
        let workspace = started.elapsed();

        let started = Instant::now();
        let dir = PathBuf::from(format!("{out}-{run}"));
        assert!(
            !dir.exists(),
            "{} exists: the output must be a new directory",
            dir.display()
        );
        ddd_gen::write::write(&dir, &files, ddd_gen::write::Mode::Write, false).expect("writes");
        let write = started.elapsed();

        let rust: Vec<&ddd_gen::File> = files
            .iter()
            .filter(|file| ddd_gen::format::is_rust(&file.path))
            .collect();
        let started = Instant::now();
        for file in &rust {
            std::hint::black_box(ddd_gen::format::rust(&file.contents).expect("parses"));
        }
        let format = started.elapsed();

        println!(
            "| {run} | {} | {} | {} | {} | {} |",
            s(load),
            s(workspace),
            s(write),
            s(load + workspace + write),
            s(format)
        );
        let bytes: usize = files.iter().map(|file| file.contents.len()).sum();
        let rust_bytes: usize = rust.iter().map(|file| file.contents.len()).sum();
        sizes = format!(
            "{} files, {:.1} MB; {} Rust files, {:.1} MB",
            files.len(),
            bytes as f64 / 1e6,
            rust.len(),
            rust_bytes as f64 / 1e6
        );
    }
    println!("\n{model}: {sizes}");
}

fn s(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}
