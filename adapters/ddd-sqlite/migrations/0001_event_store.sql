-- Events and snapshots.
--
-- One writer (a thread per store, and SQLite's write lock between processes) appends, so
-- `position`, the rowid, is the commit order: gap-free (a rolled-back append gives its rowids
-- back) and never behind a reader, who reads a committed WAL snapshot.

CREATE TABLE ddd_events (
    position       INTEGER PRIMARY KEY,
    event_id       BLOB NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version > 0),
    -- Microseconds since the Unix epoch, UTC.
    recorded_at    INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    correlation_id BLOB NOT NULL,
    causation_id   BLOB,
    traceparent    TEXT,
    tracestate     TEXT,
    -- JSON text.
    metadata       TEXT NOT NULL,
    payload        TEXT NOT NULL,
    CONSTRAINT ddd_events_event_id_key UNIQUE (event_id),
    CONSTRAINT ddd_events_stream_version_key UNIQUE (aggregate_type, aggregate_id, version)
);

CREATE TABLE ddd_snapshots (
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    state          TEXT NOT NULL,
    taken_at       INTEGER NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
) WITHOUT ROWID;
