//! The fold of one batch, shared by every store: decode the events after the checkpoint,
//! load the rows they touch, fold, write. The store wraps it in one transaction.

use std::collections::HashMap;

use crate::event::{Envelope, Position, RawEnvelope};
use crate::store::StoreError;

use super::{Advanced, ColumnValue, RowMeta, View, ViewError};

/// A row as a store holds it: the fold's state as JSON (the served row when the state is the
/// row) and its [`RowMeta`].
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    /// The key.
    pub key: String,
    /// The fold's state, JSON.
    pub state: String,
    /// Version and times.
    pub meta: RowMeta,
}

/// A row to insert or replace.
#[derive(Clone, Debug, PartialEq)]
pub struct RowWrite {
    /// The key.
    pub key: String,
    /// The served row, JSON.
    pub row: String,
    /// The fold's state, JSON, when it is more than the row.
    pub state: Option<String>,
    /// The indexed columns' values, in the schema's order.
    pub columns: Vec<ColumnValue>,
    /// Version and times.
    pub meta: RowMeta,
}

/// What folding a batch produced.
#[derive(Debug)]
pub struct Folded {
    /// The rows to write, in the order the batch first touched them.
    pub writes: Vec<RowWrite>,
    /// How far the batch got; the checkpoint to save with the writes.
    pub advanced: Advanced,
    /// The event the batch stopped before, if one failed: save the writes and the
    /// checkpoint, then report it.
    pub failure: Option<ViewError>,
}

/// The events of one step of a view, decoded, with the key of the row each one changes.
pub struct ViewBatch<V: View> {
    from: Position,
    /// Positions of every event read, the view's or not.
    positions: Vec<Position>,
    /// The view's events: the index of their position, their key, the event.
    events: Vec<(usize, String, Envelope<V::Event>)>,
    /// An event that did not decode: the batch ends before it.
    undecodable: Option<(usize, String)>,
}

impl<V: View> std::fmt::Debug for ViewBatch<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewBatch")
            .field("view", &V::SCHEMA.name)
            .field("from", &self.from)
            .field("read", &self.positions.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl<V: View> ViewBatch<V> {
    /// The events `raw` (in global order, after the checkpoint `from`) that the view reads.
    pub fn decode(from: Position, raw: Vec<RawEnvelope>) -> Self {
        let mut batch = Self {
            from,
            positions: Vec::with_capacity(raw.len()),
            events: Vec::new(),
            undecodable: None,
        };
        for raw in raw {
            let index = batch.positions.len();
            batch.positions.push(raw.position);
            match raw.decode::<V::Event>() {
                Ok(Some(event)) => {
                    if let Some(key) = V::key(&event) {
                        batch.events.push((index, key, event));
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    batch.undecodable = Some((index, error.to_string()));
                    break;
                }
            }
        }
        batch
    }

    /// Whether the batch read nothing: the view is caught up.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The keys of the rows the batch changes, each once, to load before [`fold`](Self::fold).
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.events.iter().map(|(_, key, _)| key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Folds the batch into `loaded` (the stored rows of [`keys`](Self::keys); missing
    /// ones start fresh). When an event fails, the rows are those of the events before it.
    ///
    /// # Errors
    /// A row that cannot be written as JSON (a bug in the view's types).
    pub fn fold(&self, loaded: &[StoredRow]) -> Result<Folded, StoreError> {
        let end = self
            .undecodable
            .as_ref()
            .map_or(self.positions.len(), |(index, _)| *index);
        let (rows, end, failure) = match self.fold_until(loaded, end) {
            Ok(rows) => {
                let failure = self
                    .undecodable
                    .as_ref()
                    .map(|(index, reason)| self.failure(*index, reason.clone()));
                (rows, end, failure)
            }
            // Refold without the failing event: its `apply` may have changed its row halfway.
            Err((index, reason)) => match self.fold_until(loaded, index) {
                Ok(rows) => (rows, index, Some(self.failure(index, reason))),
                Err((_, again)) => {
                    return Err(StoreError::permanent(format!(
                        "view `{}` failed twice on one batch: {reason}; {again}",
                        V::SCHEMA.name
                    )));
                }
            },
        };
        let writes = rows
            .into_iter()
            .map(|(key, state, meta)| write::<V>(key, &state, meta))
            .collect::<Result<_, _>>()?;
        let applied = self
            .events
            .iter()
            .take_while(|(index, ..)| *index < end)
            .count();
        let checkpoint = end
            .checked_sub(1)
            .map_or(self.from, |last| self.positions[last]);
        Ok(Folded {
            writes,
            advanced: Advanced {
                read: end,
                applied,
                checkpoint,
            },
            failure,
        })
    }

    fn failure(&self, index: usize, reason: String) -> ViewError {
        ViewError::Event {
            view: V::SCHEMA.name,
            position: self.positions[index],
            reason,
        }
    }

    /// Folds the events read before `end` into the rows they touch, in the order they were
    /// first touched; on a failing event, its index and why.
    #[expect(
        clippy::type_complexity,
        reason = "a private step's result, named where used"
    )]
    fn fold_until<'a>(
        &'a self,
        loaded: &[StoredRow],
        end: usize,
    ) -> Result<Vec<(&'a str, V::State, RowMeta)>, (usize, String)> {
        let stored: HashMap<&str, &StoredRow> =
            loaded.iter().map(|row| (row.key.as_str(), row)).collect();
        let mut slots: HashMap<&str, usize> = HashMap::new();
        let mut rows: Vec<(&str, V::State, RowMeta)> = Vec::new();
        for (index, key, event) in self.events.iter().take_while(|(index, ..)| *index < end) {
            let slot = match slots.get(key.as_str()) {
                Some(&slot) => slot,
                None => {
                    let (state, meta) = match stored.get(key.as_str()) {
                        Some(row) => (
                            serde_json::from_str(&row.state).map_err(|error| {
                                (*index, format!("stored row `{key}` does not read: {error}"))
                            })?,
                            row.meta,
                        ),
                        None => (
                            V::State::default(),
                            RowMeta {
                                version: 0,
                                created_at: event.recorded_at,
                                updated_at: event.recorded_at,
                            },
                        ),
                    };
                    slots.insert(key.as_str(), rows.len());
                    rows.push((key.as_str(), state, meta));
                    rows.len() - 1
                }
            };
            let (_, state, meta) = &mut rows[slot];
            V::apply(state, event).map_err(|reason| (*index, reason))?;
            meta.version += 1;
            meta.updated_at = event.recorded_at;
        }
        Ok(rows)
    }
}

fn write<V: View>(key: &str, state: &V::State, meta: RowMeta) -> Result<RowWrite, StoreError> {
    let not_json = |error: serde_json::Error| {
        StoreError::permanent(format!(
            "view `{}`: row `{key}` is not JSON: {error}",
            V::SCHEMA.name
        ))
    };
    let row = V::row(key, state, &meta);
    let state = if V::SCHEMA.state_is_row {
        None
    } else {
        Some(serde_json::to_string(state).map_err(not_json)?)
    };
    Ok(RowWrite {
        key: key.to_owned(),
        row: serde_json::to_string(&row).map_err(not_json)?,
        columns: V::columns(&row),
        state,
        meta,
    })
}
