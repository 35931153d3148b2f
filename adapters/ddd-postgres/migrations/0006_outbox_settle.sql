-- The relay's step between two batches (ddd_core's `Outbox::settle_and_read`): mark the
-- batch it published, then read the next one, in one round trip where a mark and a read
-- took two. With `max_rows` 0 it is the mark alone, which the store's mark methods run. When commands come one at a time, each event is a batch of its own, and every
-- round trip of the relay's competes with the next command for the same cores.
--
-- Under a lease (`lease_holder` not NULL) the lease row is read `FOR SHARE` first, as
-- `mark_published_under` does: a takeover waits until this step commits, and a holder whose
-- generation is no longer current marks and reads nothing, answering one row with
-- `held = false`. The step commits without waiting for its WAL flush unless the sequencer
-- positioned events in it: a lost mark only republishes, but positions readers may have seen
-- must be durable.
CREATE FUNCTION ddd_outbox_settle(
    published UUID[],
    lease_holder UUID,
    lease_generation BIGINT,
    max_rows INTEGER,
    max_sequenced INTEGER
)
RETURNS TABLE (
    "position" BIGINT,
    event_id UUID,
    aggregate_type TEXT,
    aggregate_id TEXT,
    version BIGINT,
    recorded_at TIMESTAMPTZ,
    event_type TEXT,
    schema_version INTEGER,
    correlation_id UUID,
    causation_id UUID,
    traceparent TEXT,
    tracestate TEXT,
    metadata JSONB,
    payload JSONB,
    held BOOLEAN
)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
    IF lease_holder IS NOT NULL THEN
        PERFORM 1 FROM ddd_relay_lease AS l
        WHERE l.name = 'outbox' AND l.holder = lease_holder AND l.generation = lease_generation
        FOR SHARE;
        IF NOT FOUND THEN
            held := false;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    IF cardinality(published) > 0 THEN
        DELETE FROM ddd_outbox AS o USING ddd_events AS e
        WHERE o.event_row = e.id AND e.event_id = ANY(published);
    END IF;
    -- A mark alone (`mark_published`, `mark_published_under`): nothing to sequence or read.
    IF max_rows = 0 THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        RETURN;
    END IF;
    IF ddd_sequence_events(max_sequenced) = 0 THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    -- The read of 0005, its sequencer step already done here.
    RETURN QUERY
        SELECT p.position, p.event_id, p.aggregate_type, p.aggregate_id, p.version,
            p.recorded_at, p.event_type, p.schema_version, p.correlation_id, p.causation_id,
            p.traceparent, p.tracestate, p.metadata, p.payload, true
        FROM ddd_outbox_pending(max_rows, 0) AS p;
END
$$;
