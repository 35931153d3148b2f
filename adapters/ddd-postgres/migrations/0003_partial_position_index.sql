-- Positions are unique among positioned events only. An event has no position from its
-- append until the sequencer runs, and the unique index on `position` took an entry for
-- each such NULL, every one of them on the index's rightmost page: an index insert per
-- appended event, all appenders on one page, for nothing. Unpositioned events are found
-- through `ddd_events_unsequenced`; every read by position (`position > n`, or
-- `position IS NOT NULL`) is served by this index as before.
ALTER TABLE ddd_events DROP CONSTRAINT ddd_events_position_key;
CREATE UNIQUE INDEX ddd_events_position_key ON ddd_events (position) WHERE position IS NOT NULL;
