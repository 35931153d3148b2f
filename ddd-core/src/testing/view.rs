use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::event::Envelope;
use crate::view::{StoredRow, View, ViewBatch};

/// Given / then for a view: events in, rows out, folded exactly as a store folds them (the
/// same [`ViewBatch`]), without a store.
///
/// ```ignore
/// ViewTest::<CustomerTotals>::new()
///     .given("Order", order_id, [order_placed(customer, 1_000)])
///     .given("Order", other_order, [order_placed(customer, 500)])
///     .then_row(&customer.to_string(), json!({"customer": customer, "orders": 2, "spent_cents": 1_500}));
/// ```
pub struct ViewTest<V: View> {
    rows: BTreeMap<String, (StoredRow, Value)>,
    versions: HashMap<(String, String), u64>,
    position: u64,
    view: std::marker::PhantomData<fn() -> V>,
}

impl<V: View> std::fmt::Debug for ViewTest<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewTest")
            .field("view", &V::SCHEMA.name)
            .field("rows", &self.rows.len())
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl<V: View> Default for ViewTest<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: View> ViewTest<V> {
    /// A view with no rows.
    pub fn new() -> Self {
        Self {
            rows: BTreeMap::new(),
            versions: HashMap::new(),
            position: 0,
            view: std::marker::PhantomData,
        }
    }

    /// Folds events recorded by one aggregate, in order, after any given before.
    #[track_caller]
    #[must_use]
    pub fn given(
        mut self,
        aggregate_type: &'static str,
        aggregate_id: impl Into<String>,
        events: impl IntoIterator<Item = V::Event>,
    ) -> Self {
        let aggregate_id = aggregate_id.into();
        for event in events {
            let version = self
                .versions
                .entry((aggregate_type.to_owned(), aggregate_id.clone()))
                .or_default();
            *version += 1;
            let envelope = super::envelope(aggregate_type, aggregate_id.clone(), *version, event);
            self = self.given_envelope(envelope);
        }
        self
    }

    /// Folds one complete envelope (its position is set to the next in order).
    #[track_caller]
    #[must_use]
    pub fn given_envelope(mut self, mut envelope: Envelope<V::Event>) -> Self {
        self.position += 1;
        envelope.position = self.position;
        let raw = match envelope.to_raw() {
            Ok(raw) => raw,
            Err(error) => panic!(
                "view `{}`: the event does not encode: {error}",
                V::SCHEMA.name
            ),
        };
        let batch = ViewBatch::<V>::decode(self.position - 1, vec![raw]);
        let loaded: Vec<StoredRow> = batch
            .keys()
            .into_iter()
            .filter_map(|key| self.rows.get(key).map(|(stored, _)| stored.clone()))
            .collect();
        let folded = match batch.fold(&loaded) {
            Ok(folded) => folded,
            Err(error) => panic!("view `{}`: {error}", V::SCHEMA.name),
        };
        if let Some(failure) = folded.failure {
            panic!("view `{}` refused {envelope:?}: {failure}", V::SCHEMA.name);
        }
        for write in folded.writes {
            let row: Value = serde_json::from_str(&write.row).unwrap_or(Value::Null);
            let stored = StoredRow {
                key: write.key.clone(),
                state: write.state.unwrap_or_else(|| write.row.clone()),
                meta: write.meta,
            };
            self.rows.insert(write.key, (stored, row));
        }
        self
    }

    /// The row with `key`, as served.
    pub fn row(&self, key: &str) -> Option<&Value> {
        self.rows.get(key).map(|(_, row)| row)
    }

    /// Every row, by key.
    pub fn rows(&self) -> Vec<&Value> {
        self.rows.values().map(|(_, row)| row).collect()
    }

    /// Asserts that the row with `key` is `expected` (its JSON, as served).
    #[track_caller]
    pub fn then_row(self, key: &str, expected: Value) -> Self {
        match self.row(key) {
            Some(row) => assert_eq!(
                row,
                &expected,
                "view `{}`, row `{key}`:\n  found:    {row}\n  expected: {expected}",
                V::SCHEMA.name
            ),
            None => panic!(
                "view `{}` has no row `{key}`; its keys: {:?}",
                V::SCHEMA.name,
                self.rows.keys().collect::<Vec<_>>()
            ),
        }
        self
    }

    /// Asserts on every row, by key.
    #[track_caller]
    pub fn then(self, check: impl FnOnce(&[&Value])) -> Self {
        check(&self.rows());
        self
    }
}
