-- The transactional outbox (rows written by the append statement itself), the inbox of
-- processed event ids per consumer, and projection checkpoints.

-- An event waiting to be published; deleted once it is.
CREATE TABLE ddd_outbox (
    event_row BIGINT NOT NULL,
    CONSTRAINT ddd_outbox_pkey PRIMARY KEY (event_row)
);

-- One outbox read: sequence what has committed, then the oldest unpublished events.
CREATE FUNCTION ddd_outbox_pending(max_rows INTEGER, max_sequenced INTEGER)
RETURNS SETOF ddd_events
LANGUAGE plpgsql
-- The tables of the schema the function was created in, whatever the caller's search_path.
SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM ddd_sequence_events(max_sequenced);
    RETURN QUERY
        SELECT e.* FROM ddd_outbox AS o
        JOIN ddd_events AS e ON e.id = o.event_row
        WHERE e.position IS NOT NULL
        ORDER BY e.position
        LIMIT max_rows;
END
$$;

CREATE TABLE ddd_inbox (
    consumer     TEXT NOT NULL,
    event_id     UUID NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ddd_inbox_pkey PRIMARY KEY (consumer, event_id)
);

CREATE TABLE ddd_checkpoints (
    projection TEXT NOT NULL,
    position   BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ddd_checkpoints_pkey PRIMARY KEY (projection)
);
