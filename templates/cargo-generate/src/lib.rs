//! {{project-name}}: one aggregate (`Item`), its commands over HTTP, events in SQLite.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ddd_core::memory::InMemoryEventStore;
use ddd_core::{Aggregate, Command, DomainEvent, EventStore, ExecuteError, Rejection, Repository};
use serde::{Deserialize, Serialize};
use serde_json::json;

ddd_core::aggregate_id! {
    /// Identifies an item.
    pub ItemId
}

/// What can be asked of an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Command)]
#[serde(deny_unknown_fields)]
#[command(aggregate = Item)]
pub enum ItemCommand {
    /// Creates the item.
    CreateItem {
        #[command(len(1..=200))]
        name: String,
    },
}

/// What happened to an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Item)]
pub enum ItemEvent {
    /// The item was created.
    ItemCreated { name: String },
}

/// An item.
#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = ItemId, command = ItemCommand, event = ItemEvent)]
pub struct Item {
    /// Its name.
    pub name: String,
    created: bool,
}

impl Item {
    fn handle_create_item(&self, name: String) -> Result<ItemEvent, Rejection> {
        if self.created {
            return Err(Rejection::new("the item exists already"));
        }
        Ok(ItemEvent::ItemCreated { name })
    }

    fn apply_item_created(&mut self, name: &str) {
        name.clone_into(&mut self.name);
        self.created = true;
    }
}

/// The routes: `POST /items`, `GET /items/{id}`, `GET /health/live`.
pub fn router<S: EventStore + Clone + Send + Sync + 'static>(items: Arc<Repository<Item, S>>) -> Router {
    Router::new()
        .route("/items", post(create::<S>))
        .route("/items/{id}", get(show::<S>))
        .route("/health/live", get(|| async { "ok" }))
        .with_state(items)
}

/// The router over an in-memory store, for tests.
pub fn in_memory() -> Router {
    router(Arc::new(Repository::new(InMemoryEventStore::new())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateItem {
    name: String,
}

async fn create<S: EventStore + Clone + Send + Sync + 'static>(
    State(items): State<Arc<Repository<Item, S>>>,
    axum::Json(body): axum::Json<CreateItem>,
) -> Response {
    let id = ItemId::new();
    match items.execute(&id, ItemCommand::CreateItem { name: body.name }).await {
        Ok(done) => (StatusCode::CREATED, axum::Json(json!({ "id": id, "version": done.version }))).into_response(),
        Err(ExecuteError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors.to_string()).into_response(),
        Err(ExecuteError::Rejected(reason)) => (StatusCode::CONFLICT, reason.to_string()).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn show<S: EventStore + Clone + Send + Sync + 'static>(
    State(items): State<Arc<Repository<Item, S>>>,
    Path(id): Path<ItemId>,
) -> Response {
    match items.load(&id).await {
        Ok(Some(item)) => axum::Json(json!({ "version": item.version(), "state": item.state() })).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use ddd_core::testing::AggregateTest;
    use tower::ServiceExt as _;

    use super::*;

    #[test]
    fn creating_an_item_records_its_name() {
        AggregateTest::<Item>::new()
            .when(ItemCommand::CreateItem { name: "tea".into() })
            .then([ItemEvent::ItemCreated { name: "tea".into() }]);
    }

    #[tokio::test]
    async fn items_are_created_over_http() {
        let request = Request::post("/items")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name": "tea"}"#))
            .expect("a request");
        let response = in_memory().oneshot(request).await.expect("a response");
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}
