-- The transactional outbox (rows written in the append's transaction), the inbox of
-- processed event ids per consumer, and projection checkpoints.

-- An event waiting to be published; deleted once it is.
CREATE TABLE ddd_outbox (
    position INTEGER PRIMARY KEY
);

CREATE TABLE ddd_inbox (
    consumer     TEXT NOT NULL,
    event_id     BLOB NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
) WITHOUT ROWID;

CREATE TABLE ddd_checkpoints (
    projection TEXT NOT NULL PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
