//! rusqlite or sqlx-sqlite for ddd-sqlite? The same work through both:
//!
//! - appends: 64 tasks each append one event at a time (an id check, the stream's version, the
//!   event row, its outbox row, all in a savepoint), and one writer groups whatever is queued
//!   into one transaction (group commit, `synchronous=FULL`, WAL);
//! - loads: 64 tasks load 50-event streams through 4 read connections.
//!
//! Prints appends/s and loads/s per driver. Usage: `ddd-bench-sqlite-driver [appends] [loads]`.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

const TASKS: usize = 64;
const STREAMS: usize = 200;
const GROUP: usize = 256;

const SCHEMA: &str = "
    PRAGMA journal_mode=WAL;
    CREATE TABLE IF NOT EXISTS ev (
        position INTEGER PRIMARY KEY,
        event_id BLOB NOT NULL UNIQUE,
        stream TEXT NOT NULL,
        version INTEGER NOT NULL,
        payload TEXT NOT NULL,
        UNIQUE (stream, version)
    );
    CREATE TABLE IF NOT EXISTS outbox (position INTEGER PRIMARY KEY);";
const CHECK_ID: &str = "SELECT count(*) FROM ev WHERE event_id = ?1";
const VERSION: &str = "SELECT coalesce(max(version), 0) FROM ev WHERE stream = ?1";
const INSERT: &str = "INSERT INTO ev (event_id, stream, version, payload) VALUES (?1, ?2, ?3, ?4)";
const OUTBOX: &str = "INSERT INTO outbox (position) VALUES (?1)";
const LOAD: &str = "SELECT position, event_id, version, payload FROM ev WHERE stream = ?1 AND version > 0 ORDER BY version";

struct Append {
    id: [u8; 16],
    stream: String,
    reply: oneshot::Sender<i64>,
}

fn payload(n: usize) -> String {
    format!(r#"{{"amount":{n},"note":"a payload of a typical size for a domain event, about a hundred bytes"}}"#)
}

fn event_id(n: usize) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(n as u64).to_be_bytes());
    id[8..].copy_from_slice(&(n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    id
}

// ---------- rusqlite: one OS thread owns the write connection ----------

fn rusqlite_open(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(SCHEMA).expect("schema");
    conn.pragma_update(None, "synchronous", "FULL").expect("sync");
    conn
}

fn rusqlite_append(conn: &rusqlite::Connection, job: &Append, n: usize) -> rusqlite::Result<i64> {
    let dup: i64 = conn
        .prepare_cached(CHECK_ID)?
        .query_row([&job.id[..]], |r| r.get(0))?;
    assert_eq!(dup, 0);
    let version: i64 = conn
        .prepare_cached(VERSION)?
        .query_row([&job.stream], |r| r.get(0))?;
    conn.prepare_cached(INSERT)?.execute(rusqlite::params![
        &job.id[..],
        job.stream,
        version + 1,
        payload(n)
    ])?;
    let position = conn.last_insert_rowid();
    conn.prepare_cached(OUTBOX)?.execute([position])?;
    Ok(version + 1)
}

fn rusqlite_writer(path: std::path::PathBuf, mut rx: mpsc::Receiver<Append>, grouped: bool) {
    let conn = rusqlite_open(&path);
    let mut n = 0;
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while grouped && jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            conn.execute_batch("SAVEPOINT a").expect("savepoint");
            n += 1;
            let version = rusqlite_append(&conn, &job, n).expect("append");
            conn.execute_batch("RELEASE a").expect("release");
            replies.push((job.reply, version));
        }
        conn.execute_batch("COMMIT").expect("commit");
        for (reply, version) in replies {
            let _ = reply.send(version);
        }
    }
}

// ---------- sqlx: one async task owns the write connection ----------

async fn sqlx_append(
    conn: &mut sqlx::SqliteConnection,
    job: &Append,
    n: usize,
) -> sqlx::Result<i64> {
    let dup: i64 = sqlx::query_scalar(CHECK_ID)
        .bind(&job.id[..])
        .fetch_one(&mut *conn)
        .await?;
    assert_eq!(dup, 0);
    let version: i64 = sqlx::query_scalar(VERSION)
        .bind(&job.stream)
        .fetch_one(&mut *conn)
        .await?;
    let done = sqlx::query(INSERT)
        .bind(&job.id[..])
        .bind(&job.stream)
        .bind(version + 1)
        .bind(payload(n))
        .execute(&mut *conn)
        .await?;
    sqlx::query(OUTBOX)
        .bind(done.last_insert_rowid())
        .execute(&mut *conn)
        .await?;
    Ok(version + 1)
}

async fn sqlx_writer(mut conn: sqlx::SqliteConnection, mut rx: mpsc::Receiver<Append>) {
    use sqlx::Executor as _;
    let mut n = 0;
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        conn.execute("BEGIN IMMEDIATE").await.expect("begin");
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            conn.execute("SAVEPOINT a").await.expect("savepoint");
            n += 1;
            let version = sqlx_append(&mut conn, &job, n).await.expect("append");
            conn.execute("RELEASE a").await.expect("release");
            replies.push((job.reply, version));
        }
        conn.execute("COMMIT").await.expect("commit");
        for (reply, version) in replies {
            let _ = reply.send(version);
        }
    }
}

async fn sqlx_options(path: &std::path::Path, read_only: bool) -> sqlx::sqlite::SqliteConnectOptions {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .read_only(read_only)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
}

// ---------- the drive ----------

async fn drive_appends(tx: mpsc::Sender<Append>, appends: usize) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in (task..appends).step_by(TASKS) {
                    let (reply, done) = oneshot::channel();
                    let stream = format!("s{}", i % STREAMS);
                    tx.send(Append { id: event_id(i), stream, reply })
                        .await
                        .expect("writer alive");
                    done.await.expect("reply");
                }
            })
        })
        .collect();
    drop(tx);
    for task in tasks {
        task.await.expect("task");
    }
    appends as f64 / started.elapsed().as_secs_f64()
}

fn rusqlite_load(conn: &rusqlite::Connection, stream: &str) -> usize {
    let mut statement = conn.prepare_cached(LOAD).expect("prepare");
    let rows = statement
        .query_map([stream], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .expect("query");
    rows.map(|row| row.expect("row")).count()
}

async fn drive_rusqlite_loads(path: std::path::PathBuf, loads: usize) -> f64 {
    let pool = Arc::new(std::sync::Mutex::new(
        (0..4)
            .map(|_| {
                rusqlite::Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .expect("open reader")
            })
            .collect::<Vec<_>>(),
    ));
    let permits = Arc::new(tokio::sync::Semaphore::new(4));
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (pool, permits) = (Arc::clone(&pool), Arc::clone(&permits));
            tokio::spawn(async move {
                for i in (task..loads).step_by(TASKS) {
                    let _permit = permits.acquire().await.expect("permit");
                    let conn = pool.lock().expect("pool").pop().expect("a free reader");
                    let (conn, count) = tokio::task::spawn_blocking(move || {
                        let count = rusqlite_load(&conn, &format!("s{}", i % STREAMS));
                        (conn, count)
                    })
                    .await
                    .expect("reader");
                    pool.lock().expect("pool").push(conn);
                    assert!(count > 0);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    loads as f64 / started.elapsed().as_secs_f64()
}

async fn drive_sqlx_loads(path: std::path::PathBuf, loads: usize) -> f64 {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(4)
        .connect_with(sqlx_options(&path, true).await)
        .await
        .expect("pool");
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for i in (task..loads).step_by(TASKS) {
                    let rows: Vec<(i64, Vec<u8>, i64, String)> = sqlx::query_as(LOAD)
                        .bind(format!("s{}", i % STREAMS))
                        .fetch_all(&pool)
                        .await
                        .expect("load");
                    assert!(!rows.is_empty());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    loads as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let appends: usize = args.next().map_or(20_000, |a| a.parse().expect("appends"));
    let loads: usize = args.next().map_or(20_000, |a| a.parse().expect("loads"));
    let dir = tempfile::tempdir().expect("tempdir");

    let path = dir.path().join("rusqlite.db");
    let (tx, rx) = mpsc::channel(1024);
    let writer = std::thread::spawn({
        let path = path.clone();
        move || rusqlite_writer(path, rx, true)
    });
    let rate = drive_appends(tx, appends).await;
    writer.join().expect("writer");
    println!("rusqlite  group commit appends/s: {rate:>9.0}");
    let rate = drive_rusqlite_loads(path, loads).await;
    println!("rusqlite  loads/s (50 events):    {rate:>9.0}");

    let path = dir.path().join("sqlx.db");
    let conn = {
        use sqlx::ConnectOptions as _;
        let mut conn = sqlx_options(&path, false).await.connect().await.expect("connect");
        sqlx::raw_sql(SCHEMA).execute(&mut conn).await.expect("schema");
        conn
    };
    let (tx, rx) = mpsc::channel(1024);
    let writer = tokio::spawn(sqlx_writer(conn, rx));
    let rate = drive_appends(tx, appends).await;
    writer.await.expect("writer");
    println!("sqlx      group commit appends/s: {rate:>9.0}");
    let rate = drive_sqlx_loads(path, loads).await;
    println!("sqlx      loads/s (50 events):    {rate:>9.0}");

    let path = dir.path().join("ungrouped.db");
    let (tx, rx) = mpsc::channel(1024);
    let writer = std::thread::spawn(move || rusqlite_writer(path, rx, false));
    let rate = drive_appends(tx, appends / 10).await;
    writer.join().expect("writer");
    println!("rusqlite  one commit per append/s:{rate:>9.0}");
}
