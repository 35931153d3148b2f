-- Events, the sequencer that gives them their global position, snapshots.
--
-- Writers only INSERT (READ COMMITTED, one statement per append), so writers of different
-- streams never wait for each other. A stream's versions are kept 1..n by the unique
-- (stream, version) constraint, idempotency by the unique event_id. `id` is the insert order
-- and is NOT safe to read by: a transaction that commits late can hold a smaller id than
-- events already read. `position` is assigned after commit, in one serialized step at a time
-- (ddd_sequence_events), so the global order only ever grows at its end.

CREATE TABLE ddd_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    position       BIGINT,
    event_id       UUID NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        BIGINT NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    correlation_id UUID NOT NULL,
    causation_id   UUID,
    traceparent    TEXT,
    tracestate     TEXT,
    metadata       JSONB NOT NULL,
    payload        JSONB NOT NULL,
    CONSTRAINT ddd_events_pkey PRIMARY KEY (id),
    CONSTRAINT ddd_events_event_id_key UNIQUE (event_id),
    CONSTRAINT ddd_events_stream_version_key UNIQUE (aggregate_type, aggregate_id, version),
    CONSTRAINT ddd_events_position_key UNIQUE (position),
    CONSTRAINT ddd_events_version_check CHECK (version > 0)
);

-- What the sequencer has left to do: small, because it only holds unpositioned events.
CREATE INDEX ddd_events_unsequenced ON ddd_events (id) WHERE position IS NULL;

CREATE TABLE ddd_sequencer (
    singleton     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    last_position BIGINT NOT NULL
);
INSERT INTO ddd_sequencer (last_position) VALUES (0);

-- Gives every committed, unpositioned event the next positions, in insert order (so each
-- stream's events in version order: a stream's next version is inserted only after the
-- previous one committed). Runs are serialized by the row lock on ddd_sequencer and each
-- commits before the next starts, so a reader sees the positions of a prefix of the runs:
-- the global order has no holes, and nothing is ever inserted behind a reader.
CREATE FUNCTION ddd_sequence_events(max_events INTEGER) RETURNS BIGINT
LANGUAGE plpgsql
-- The tables of the schema the function was created in, whatever the caller's search_path.
SET search_path FROM CURRENT
AS $$
DECLARE
    last_assigned BIGINT;
    assigned BIGINT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ddd_events WHERE position IS NULL) THEN
        RETURN 0;
    END IF;
    -- Waits for a running sequencer to commit. In READ COMMITTED every statement of a
    -- volatile function takes a new snapshot, so the UPDATE below sees every event that
    -- committed before this lock was granted, and the positions the previous run gave.
    SELECT last_position INTO last_assigned FROM ddd_sequencer FOR UPDATE;
    WITH todo AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n
        FROM ddd_events
        WHERE position IS NULL
        ORDER BY id
        LIMIT max_events
    )
    UPDATE ddd_events AS e SET position = last_assigned + todo.n
    FROM todo
    WHERE e.id = todo.id;
    GET DIAGNOSTICS assigned = ROW_COUNT;
    IF assigned > 0 THEN
        UPDATE ddd_sequencer SET last_position = last_assigned + assigned;
    END IF;
    RETURN assigned;
END
$$;

-- One round trip for a subscriber: sequence what has committed, then read after `after`.
CREATE FUNCTION ddd_read_all(after BIGINT, max_rows INTEGER, max_sequenced INTEGER)
RETURNS SETOF ddd_events
LANGUAGE plpgsql
-- The tables of the schema the function was created in, whatever the caller's search_path.
SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM ddd_sequence_events(max_sequenced);
    RETURN QUERY
        SELECT * FROM ddd_events
        WHERE position > after
        ORDER BY position
        LIMIT max_rows;
END
$$;

CREATE TABLE ddd_snapshots (
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        BIGINT NOT NULL,
    schema_version INTEGER NOT NULL,
    state          JSONB NOT NULL,
    taken_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT ddd_snapshots_pkey PRIMARY KEY (aggregate_type, aggregate_id)
);
