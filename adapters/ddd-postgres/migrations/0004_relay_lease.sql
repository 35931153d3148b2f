-- The outbox relay's lease: one row, held by one relay at a time, so that of the replicas
-- of a service one publishes and the others stand by (ddd_core::outbox::lease says why a
-- lease with an expiry rather than an advisory lock). `generation` grows with every change
-- of holder and is checked in the statement that marks events published: a holder that lost
-- the lease while it was stalled marks nothing. Expiries are by the server's clock, so the
-- replicas' clocks need not agree.
CREATE TABLE ddd_relay_lease (
    name       TEXT PRIMARY KEY,
    holder     UUID NOT NULL,
    generation BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
