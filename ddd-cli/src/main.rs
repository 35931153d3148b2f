use std::process::ExitCode;

fn main() -> ExitCode {
    match ddd_cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(error.report()),
    }
}
