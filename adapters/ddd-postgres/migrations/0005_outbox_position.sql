-- The relay's read of pending events walked `ddd_events` in position order and probed the
-- nearly empty outbox for each event: the planner serves `ORDER BY position LIMIT n` from
-- the events' position index, so every relay pass cost a walk over every event ever
-- published (9 ms at 8,000 events), once per command when commands come one at a time.
-- The outbox rows now carry their event's position, given by the sequencer in the same
-- transaction as the event's, and the read walks the outbox's own small index.
ALTER TABLE ddd_outbox ADD COLUMN position BIGINT;

UPDATE ddd_outbox AS o SET position = e.position
FROM ddd_events AS e
WHERE e.id = o.event_row AND e.position IS NOT NULL;

CREATE INDEX ddd_outbox_position ON ddd_outbox (position) WHERE position IS NOT NULL;

-- As before (0001), and the outbox rows of the events positioned get the same positions.
CREATE OR REPLACE FUNCTION ddd_sequence_events(max_events INTEGER) RETURNS BIGINT
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    last_assigned BIGINT;
    assigned BIGINT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ddd_events WHERE position IS NULL) THEN
        RETURN 0;
    END IF;
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
        UPDATE ddd_outbox AS o SET position = e.position
        FROM ddd_events AS e
        WHERE e.position > last_assigned AND e.position <= last_assigned + assigned
          AND o.event_row = e.id;
    END IF;
    RETURN assigned;
END
$$;

-- As before (0002), driven from the outbox: the oldest sequenced pending events first.
CREATE OR REPLACE FUNCTION ddd_outbox_pending(max_rows INTEGER, max_sequenced INTEGER)
RETURNS SETOF ddd_events
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM ddd_sequence_events(max_sequenced);
    RETURN QUERY
        SELECT e.* FROM ddd_outbox AS o
        JOIN ddd_events AS e ON e.id = o.event_row
        WHERE o.position IS NOT NULL
        ORDER BY o.position
        LIMIT max_rows;
END
$$;
