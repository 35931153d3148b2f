//! Views in memory: each a table of rows under the store's lock, folded atomically with
//! reading the log, queried by the same rules the SQL stores follow.

use std::collections::{BTreeMap, HashMap};

use crate::event::{EventId, Position};
use crate::store::StoreError;
use crate::view::{
    Advanced, ColumnValue, Progress, RowMeta, RowWrite, StoredRow, View, ViewBatch, ViewError,
    ViewPage, ViewQuery, ViewRecord, ViewSchema, ViewStore, ViewTarget, select,
};

use super::InMemoryEventStore;
use super::store::State;

/// Every view's table and checkpoint.
#[derive(Default)]
pub(super) struct Tables {
    tables: HashMap<String, Table>,
    checkpoints: HashMap<String, Position>,
}

#[derive(Default)]
struct Table {
    rows: BTreeMap<String, Row>,
}

struct Row {
    row: String,
    state: Option<String>,
    columns: Vec<ColumnValue>,
    meta: RowMeta,
}

impl Table {
    fn stored(&self, key: &str) -> Option<StoredRow> {
        self.rows.get(key).map(|row| StoredRow {
            key: key.to_owned(),
            state: row.state.clone().unwrap_or_else(|| row.row.clone()),
            meta: row.meta,
        })
    }

    fn write(&mut self, write: RowWrite) {
        self.rows.insert(
            write.key,
            Row {
                row: write.row,
                state: write.state,
                columns: write.columns,
                meta: write.meta,
            },
        );
    }
}

/// One step of `V` into `target`, under the lock.
fn advance<V: View>(
    state: &mut State,
    target: &ViewTarget,
    limit: usize,
) -> Result<Advanced, ViewError> {
    let from = state
        .views
        .checkpoints
        .get(&target.checkpoint)
        .copied()
        .unwrap_or(0);
    let raw = state.raw_after(from, limit).map_err(StoreError::from)?;
    let batch = ViewBatch::<V>::decode(from, raw);
    if batch.is_empty() {
        return Ok(Advanced {
            checkpoint: from,
            ..Advanced::default()
        });
    }
    let table = state.views.tables.entry(target.table.clone()).or_default();
    let loaded: Vec<StoredRow> = batch
        .keys()
        .into_iter()
        .filter_map(|key| table.stored(key))
        .collect();
    let folded = batch.fold(&loaded)?;
    for write in folded.writes {
        table.write(write);
    }
    state
        .views
        .checkpoints
        .insert(target.checkpoint.clone(), folded.advanced.checkpoint);
    match folded.failure {
        Some(failure) => Err(failure),
        None => Ok(folded.advanced),
    }
}

impl ViewStore for InMemoryEventStore {
    async fn prepare_view(&self, schema: &'static ViewSchema) -> Result<(), StoreError> {
        self.lock()
            .views
            .tables
            .entry(schema.table.to_owned())
            .or_default();
        Ok(())
    }

    async fn advance_view<V: View>(
        &self,
        target: &ViewTarget,
        limit: usize,
    ) -> Result<Advanced, ViewError> {
        advance::<V>(&mut self.lock(), target, limit)
    }

    async fn rebuild_view<V: View>(&self, batch: usize) -> Result<Advanced, ViewError> {
        let live = ViewTarget::live(&V::SCHEMA);
        let fresh = ViewTarget::rebuild(&V::SCHEMA);
        let mut state = self.lock();
        state.views.tables.remove(&fresh.table);
        state.views.checkpoints.remove(&fresh.checkpoint);
        let mut total = Advanced::default();
        loop {
            let step = advance::<V>(&mut state, &fresh, batch)?;
            total.read += step.read;
            total.applied += step.applied;
            total.checkpoint = step.checkpoint;
            if step.read < batch.max(1) {
                break;
            }
        }
        let table = state.views.tables.remove(&fresh.table).unwrap_or_default();
        state.views.tables.insert(live.table, table);
        state.views.checkpoints.remove(&fresh.checkpoint);
        state
            .views
            .checkpoints
            .insert(live.checkpoint, total.checkpoint);
        Ok(total)
    }

    async fn view_progress(&self, schema: &'static ViewSchema) -> Result<Progress, StoreError> {
        let state = self.lock();
        let checkpoint = state
            .views
            .checkpoints
            .get(&schema.checkpoint())
            .copied()
            .unwrap_or(0);
        Ok(Progress {
            checkpoint,
            head: state.head(),
            oldest_pending: state.recorded_at(checkpoint + 1),
        })
    }

    async fn query_view(
        &self,
        schema: &'static ViewSchema,
        query: &ViewQuery,
    ) -> Result<ViewPage, StoreError> {
        let state = self.lock();
        let Some(table) = state.views.tables.get(schema.table) else {
            return Ok(ViewPage::default());
        };
        let rows = table
            .rows
            .iter()
            .map(|(key, row)| (key.as_str(), row.row.as_str(), row.columns.as_slice()));
        Ok(select(schema, query, rows))
    }

    async fn view_row(
        &self,
        schema: &'static ViewSchema,
        key: &str,
    ) -> Result<Option<ViewRecord>, StoreError> {
        let state = self.lock();
        Ok(state
            .views
            .tables
            .get(schema.table)
            .and_then(|table| table.rows.get(key))
            .map(|row| ViewRecord {
                key: key.to_owned(),
                row: row.row.clone(),
            }))
    }

    async fn event_position(&self, event_id: EventId) -> Result<Option<Position>, StoreError> {
        Ok(self.lock().position_of(event_id))
    }
}
