//! {{project-name}}: `DATABASE_URL` (default `sqlite://data/{{crate_name}}.db`) and
//! `HTTP_ADDR` (default `127.0.0.1:8080`).

use std::process::ExitCode;
use std::sync::Arc;

use ddd_core::Repository;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let database = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/{{crate_name}}.db".into());
    let addr = std::env::var("HTTP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    std::fs::create_dir_all("data").map_err(|error| format!("data/: {error}"))?;
    let store = ddd_sqlite::SqliteStore::connect(&database)
        .await
        .map_err(|error| format!("DATABASE_URL `{database}`: {error}"))?;
    let app = {{crate_name}}::router(Arc::new(Repository::new(store)));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| format!("HTTP_ADDR `{addr}`: {error}"))?;
    axum::serve(listener, app).await.map_err(|error| error.to_string())
}
