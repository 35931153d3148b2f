-- The relay's functions are planned once per connection and the plans kept, and a service
-- opens its connections while its tables are nearly empty. Planned then, the mark's lookup
-- of `ddd_events` by event id became a scan of the whole table, kept while the table grew
-- until autovacuum analyzed it: on a fresh database at 1,000 commands a second, a mark of
-- 35 events took 2 ms after four seconds, and every relay step cost more than the command
-- it followed. The relay's statements look events up by key and walk the outbox's index
-- from its start, so they are planned without sequential scans.
ALTER FUNCTION ddd_outbox_settle(UUID[], UUID, BIGINT, INTEGER, INTEGER) SET enable_seqscan = off;
ALTER FUNCTION ddd_outbox_pending(INTEGER, INTEGER) SET enable_seqscan = off;
-- The sequencer step, which both call, keeps the plans it had: planned without sequential
-- scans it made readers that wait for a position miss their wait (a read with a command's
-- consistency token under 16 writers stayed 1-7 events behind for 300 ms, in 2 runs of
-- 4). A function's own setting holds inside it, whatever its caller set.
ALTER FUNCTION ddd_sequence_events(INTEGER) SET enable_seqscan = on;
