-- The outbox relay's lease: one row, held by one relay at a time, so that two processes on
-- one file (a service's replicas on a shared volume, a second copy started by mistake) do
-- not both publish. `generation` grows with every change of holder and is checked in the
-- transaction that marks events published. `expires_at`: Unix milliseconds by SQLite's
-- clock, that is the machine's, which every process on the file shares.
CREATE TABLE ddd_relay_lease (
    name       TEXT NOT NULL PRIMARY KEY,
    holder     BLOB NOT NULL,
    generation INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
