use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match ddd_cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(error.report()),
    }
}
