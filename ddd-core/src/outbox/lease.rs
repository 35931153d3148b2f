//! Relay leadership: of all the relays over one store (one per replica of a service), one
//! publishes at a time, the others stand by and take over when it stops.
//!
//! # Why a lease with an expiry and a generation
//!
//! The store keeps one lease: a holder, an expiry by the *store's* clock, and a generation
//! that grows with every change of holder. A relay claims it (taking it when it is free or
//! expired, extending it when it holds it), renews it a few times per time-to-live, and marks
//! events published only while the generation is still its own, checked in the transaction
//! that marks (the fencing token).
//!
//! A PostgreSQL advisory lock held by a session looks simpler and is freed sooner when the
//! holder is killed (the server sees the connection drop). But a *hung* holder (a stopped
//! VM, a process stalled in swap, a partition that leaves the server's side of the socket
//! open) keeps its session and so its lock for as long as TCP keepalive allows, with nobody
//! publishing; a connection pooler in transaction mode cannot hold session locks at all;
//! and a holder that wakes up late has no way to learn it lost the lock before it publishes
//! again. An expiry catches every way a holder stops renewing, and the generation fences a
//! late holder out. The price is that a takeover after a crash waits for the expiry.
//!
//! What the relay does with it ([`Relay::run`](super::Relay::run)): it counts its lease as
//! valid until the time it *sent* the claim plus the time-to-live, which is never later than
//! the store's expiry, and checks that before each batch it publishes. A holder that stalls
//! past its lease therefore publishes nothing when it resumes; one that stalls between that
//! check and its publish publishes one batch again (a duplicate, which consumers drop by
//! event id) and is refused when it marks it.

use std::time::Duration;

use uuid::Uuid;

/// A relay lease as the store granted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// Who holds it: one id per running relay.
    pub holder: Uuid,
    /// Grows with every change of holder (never with a renewal): the fencing token.
    pub generation: u64,
}

/// The store's side of a lease, for stores that keep it in memory.
#[derive(Clone, Copy, Debug)]
pub struct LeaseRecord {
    /// The lease.
    pub lease: Lease,
    /// When it ends unless renewed.
    pub expires: tokio::time::Instant,
}

impl LeaseRecord {
    /// Decides `holder`'s claim for `ttl` against `current` (the lease the store keeps, if
    /// any), at `now`: the new record when granted, `None` while another holder's lease runs.
    pub fn claim(
        current: Option<&Self>,
        holder: Uuid,
        ttl: Duration,
        now: tokio::time::Instant,
    ) -> Option<Self> {
        let generation = match current {
            None => 1,
            Some(record) if record.lease.holder == holder => record.lease.generation,
            Some(record) if record.expires <= now => record.lease.generation + 1,
            Some(_) => return None,
        };
        Some(Self {
            lease: Lease { holder, generation },
            expires: now + ttl,
        })
    }
}

/// How long a relay's lease lasts, and what follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LeaseTiming {
    pub(super) ttl: Duration,
}

impl LeaseTiming {
    /// A holder renews three times per time-to-live, so two lost renewals in a row (a slow
    /// store, a long batch) still leave it the lease.
    pub(super) fn renew_every(self) -> Duration {
        self.ttl / 3
    }

    /// A standby tries six times per time-to-live: it takes over at most a sixth of it after
    /// the expiry.
    pub(super) fn standby_every(self) -> Duration {
        self.ttl / 6
    }
}

/// What a relay knows of its own lease.
#[derive(Debug, Default)]
pub(super) struct Held {
    lease: Option<HeldLease>,
}

#[derive(Clone, Copy, Debug)]
struct HeldLease {
    lease: Lease,
    /// The claim's send time plus the time-to-live: no later than the store's expiry.
    valid_until: tokio::time::Instant,
    renew_at: tokio::time::Instant,
}

impl Held {
    /// The lease while it is valid by this relay's clock.
    pub(super) fn valid(&self, now: tokio::time::Instant) -> Option<Lease> {
        self.lease
            .filter(|held| now < held.valid_until)
            .map(|held| held.lease)
    }

    /// Whether the lease should be renewed (or claimed) now.
    pub(super) fn due(&self, now: tokio::time::Instant) -> bool {
        self.lease.is_none_or(|held| now >= held.renew_at)
    }

    /// When the next renewal is due, if this relay holds the lease.
    pub(super) fn renew_at(&self) -> Option<tokio::time::Instant> {
        self.lease.map(|held| held.renew_at)
    }

    /// The store granted `lease` to a claim sent at `sent`; returns whether this relay did
    /// not hold it before (a takeover, or the first claim).
    pub(super) fn granted(
        &mut self,
        lease: Lease,
        sent: tokio::time::Instant,
        timing: LeaseTiming,
    ) -> bool {
        let taken = self.lease.is_none_or(|held| held.lease != lease);
        self.lease = Some(HeldLease {
            lease,
            valid_until: sent + timing.ttl,
            renew_at: sent + timing.renew_every(),
        });
        taken
    }

    /// The lease is gone (refused, fenced, expired, released); returns it if it was held.
    pub(super) fn lost(&mut self) -> Option<Lease> {
        self.lease.take().map(|held| held.lease)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_takes_a_free_or_expired_lease_and_renews_its_own() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let ttl = Duration::from_secs(3);
        let now = tokio::time::Instant::now();
        let first = LeaseRecord::claim(None, a, ttl, now).expect("a free lease");
        assert_eq!(first.lease.generation, 1);
        assert!(LeaseRecord::claim(Some(&first), b, ttl, now).is_none());
        let renewed = LeaseRecord::claim(Some(&first), a, ttl, now + ttl).expect("its own");
        assert_eq!(
            renewed.lease.generation, 1,
            "a renewal keeps the generation"
        );
        let later = now + ttl * 2;
        let taken = LeaseRecord::claim(Some(&renewed), b, ttl, later).expect("expired");
        assert_eq!(
            taken.lease,
            Lease {
                holder: b,
                generation: 2
            }
        );
    }

    #[test]
    fn a_held_lease_is_valid_until_its_claim_was_sent_plus_the_ttl() {
        let timing = LeaseTiming {
            ttl: Duration::from_secs(3),
        };
        let sent = tokio::time::Instant::now();
        let lease = Lease {
            holder: Uuid::new_v4(),
            generation: 4,
        };
        let mut held = Held::default();
        assert!(held.due(sent));
        assert!(held.granted(lease, sent, timing), "the first grant takes");
        assert!(!held.granted(lease, sent, timing), "a renewal does not");
        assert!(!held.due(sent + Duration::from_millis(999)));
        assert!(held.due(sent + Duration::from_secs(1)));
        assert_eq!(held.valid(sent + Duration::from_millis(2999)), Some(lease));
        assert_eq!(held.valid(sent + timing.ttl), None);
        assert_eq!(held.lost(), Some(lease));
        assert_eq!(held.valid(sent), None);
    }
}
