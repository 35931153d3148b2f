use crate::event::Envelope;
use crate::projection::Projection;

/// Given / then for a projection: events in, the read model to assert on.
#[derive(Debug)]
pub struct ProjectionTest<P> {
    projection: P,
    position: u64,
}

impl<P: Projection> ProjectionTest<P> {
    /// A test of `projection`.
    pub fn new(projection: P) -> Self {
        Self {
            projection,
            position: 0,
        }
    }

    /// Applies events recorded by one aggregate, in order.
    #[track_caller]
    pub fn given(
        mut self,
        aggregate_type: &'static str,
        aggregate_id: &str,
        events: impl IntoIterator<Item = P::Event>,
    ) -> Self {
        for (version, event) in (1..).zip(events) {
            self.position += 1;
            let mut envelope = super::envelope(aggregate_type, aggregate_id, version, event);
            envelope.position = self.position;
            self = self.given_envelope(envelope);
        }
        self
    }

    /// Applies one complete envelope.
    #[track_caller]
    pub fn given_envelope(mut self, envelope: Envelope<P::Event>) -> Self {
        if let Err(error) = self.projection.apply(&envelope) {
            panic!("projection `{}` refused {envelope:?}: {error}", P::NAME);
        }
        self
    }

    /// Asserts on the read model.
    #[track_caller]
    pub fn then(self, check: impl FnOnce(&P)) -> Self {
        check(&self.projection);
        self
    }

    /// The read model.
    pub fn into_projection(self) -> P {
        self.projection
    }
}
