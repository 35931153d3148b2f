//! The views' routes in a service's document: a filtered, sorted, paged list, a row by key
//! and the rebuild, with the consistency token a read may pass.

use ddd_model::ir::{Context, Field, Type, View, ViewSource};
use serde_json::{Map, Value, json};

use super::{add, error, status};
use crate::schemas::{Schemas, describe};
use ddd_names::http;
use ddd_names::http::{VIEW_PAGE_DEFAULT as DEFAULT_LIMIT, VIEW_PAGE_MAX as MAX_LIMIT};

/// A value the service issues (a consistency token, a cursor): unpadded base64url, which
/// is all a client can know of it.
fn opaque() -> Value {
    json!({ "type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$" })
}

/// The `Consistency-Token` a read may send.
fn token() -> Value {
    json!({
        "name": "Consistency-Token",
        "in": "header",
        "required": false,
        "description": "The token of a command's response: the read waits (bounded) until the view shows that command, or answers 503. Opaque: a token the service did not issue is a 400.",
        "schema": opaque(),
    })
}

/// Adds `GET <route>`, `GET <route>/{key}` and `POST <route>/rebuild` of `view`.
pub(super) fn routes(
    schemas: &mut Schemas<'_>,
    context: &Context,
    view: &View,
    paths: &mut Map<String, Value>,
) {
    let route = view.route();
    let scope = format!("{}.{}", context.name, view.name);
    let tag = view.name.as_str();
    let mut row = schemas.object(&row_fields(context, view));
    describe(&mut row, view.doc.as_deref());
    let row = schemas.define(format!("{scope}.row"), row);
    let (key_name, key_type) = key(context, view);
    let key_schema = schemas.ty(&key_type);
    list(schemas, &scope, tag, view, &route, &row, paths);
    let one = |operation_id: String, summary: String, key: Option<Value>| {
        let parameters: Vec<Value> = key.into_iter().chain([token()]).collect();
        json!({
            "operationId": operation_id,
            "tags": [tag],
            "summary": summary,
            "parameters": parameters,
            "responses": {
                status(http::OK): {
                    "description": "The row.",
                    "content": { "application/json": { "schema": row } },
                },
                status(http::BAD_TOKEN): error(http::BAD_TOKEN),
                status(http::NOT_FOUND): error(http::NOT_FOUND),
                status(http::INTERNAL): error(http::INTERNAL),
                status(http::VIEW_BEHIND): error(http::VIEW_BEHIND),
            },
        })
    };
    add(
        paths,
        format!("{route}/{{{key_name}}}"),
        "get",
        one(
            format!("{scope}.get"),
            format!("One row of {}, by its `{key_name}`.", view.name),
            Some(json!({ "name": key_name, "in": "path", "required": true, "schema": key_schema })),
        ),
    );
    // The rebuild's path is also the path of a row keyed `rebuild`, which a GET reads.
    add(
        paths,
        format!("{route}/rebuild"),
        "get",
        one(
            format!("{scope}.get_rebuild"),
            format!(
                "The row of {} whose `{key_name}` is `rebuild`, which this path shadows.",
                view.name
            ),
            None,
        ),
    );
    add(
        paths,
        format!("{route}/rebuild"),
        "post",
        json!({
            "operationId": format!("{scope}.rebuild"),
            "tags": [tag],
            "summary": format!("Refolds {} from every event into a fresh table and swaps it in; reads keep the old rows until then.", view.name),
            "security": [{ "bearer": [] }],
            "responses": {
                status(http::OK): {
                    "description": "Rebuilt.",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "view": { "const": view.name.as_str() },
                            "applied": { "type": "integer", "minimum": 0, "description": "Events folded." },
                            "position": { "type": "integer", "minimum": 0, "description": "The store position the view is at." },
                            "took_ms": { "type": "integer", "minimum": 0 },
                        },
                        "required": ["view", "applied", "position", "took_ms"],
                        "additionalProperties": false,
                    } } },
                },
                status(http::UNAUTHORIZED): error(http::UNAUTHORIZED),
                status(http::FORBIDDEN): error(http::FORBIDDEN),
                status(http::INTERNAL): error(http::INTERNAL),
                status(http::VIEW_STOPPED): error(http::VIEW_STOPPED),
            },
        }),
    );
}

fn list(
    schemas: &mut Schemas<'_>,
    scope: &str,
    tag: &str,
    view: &View,
    route: &str,
    row: &Value,
    paths: &mut Map<String, Value>,
) {
    let mut parameters: Vec<Value> = view
        .fields
        .iter()
        .filter(|field| field.filter)
        .map(|field| {
            json!({
                "name": field.name.as_str(),
                "in": "query",
                "required": false,
                "description": format!("Only rows whose `{}` equals this.", field.name),
                "schema": schemas.ty(&field.ty),
            })
        })
        .collect();
    let sorts: Vec<String> = view
        .fields
        .iter()
        .filter(|field| field.sort)
        .flat_map(|field| [field.name.to_string(), format!("-{}", field.name)])
        .collect();
    if !sorts.is_empty() {
        parameters.push(json!({
            "name": "sort",
            "in": "query",
            "required": false,
            "description": "The order: a field, smallest first, or `-field`, largest first; ties by key. By key without one.",
            "schema": { "type": "string", "enum": sorts },
        }));
    }
    parameters.push(json!({
        "name": "limit",
        "in": "query",
        "required": false,
        "description": "At most this many rows.",
        "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT },
    }));
    parameters.push(json!({
        "name": "after",
        "in": "query",
        "required": false,
        "description": "The `next` cursor of the previous page (with the same `sort`). Opaque: a cursor the service did not issue is a 400.",
        "schema": opaque(),
    }));
    parameters.push(token());
    let mut operation = json!({
        "operationId": format!("{scope}.list"),
        "tags": [tag],
        "summary": format!("Rows of {}: filtered, sorted, a page at a time.", view.name),
        "parameters": parameters,
        "responses": {
            status(http::OK): {
                "description": "A page of rows.",
                "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": {
                        "items": { "type": "array", "items": row },
                        "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page; null on the last." },
                    },
                    "required": ["items", "next"],
                    "additionalProperties": false,
                } } },
            },
            status(http::BAD_QUERY): error(http::BAD_QUERY),
            status(http::INTERNAL): error(http::INTERNAL),
            status(http::VIEW_BEHIND): error(http::VIEW_BEHIND),
        },
    });
    describe(&mut operation, view.doc.as_deref());
    add(paths, route.to_owned(), "get", operation);
}

/// The key's name and type: a `from` view's rows are keyed by the aggregate's id.
fn key(context: &Context, view: &View) -> (String, Type) {
    match &view.source {
        ViewSource::From(aggregate) => ("id".to_owned(), Type::id(&context.name, aggregate)),
        ViewSource::By(key) => (key.name.to_string(), key.ty.clone()),
    }
}

/// A served row's fields: the implicit ones with the declared ones, in the order the
/// generated row type has them.
fn row_fields(context: &Context, view: &View) -> Vec<Field> {
    let declared = view.fields.iter().map(|field| field.as_field());
    let implicit = |name: &str, ty: Type| Field {
        name: ddd_model::Name::new(name),
        doc: None,
        ty,
        constraints: Vec::new(),
        key: false,
        default: None,
        ty_origin: ddd_model::Origin::NONE,
    };
    match &view.source {
        ViewSource::From(aggregate) => [
            implicit("id", Type::id(&context.name, aggregate)),
            implicit("version", Type::U64),
            implicit("created_at", Type::DateTime),
            implicit("updated_at", Type::DateTime),
        ]
        .into_iter()
        .chain(declared)
        .collect(),
        ViewSource::By(key) => std::iter::once((**key).clone())
            .chain(declared)
            .chain([
                implicit("version", Type::U64),
                implicit("updated_at", Type::DateTime),
            ])
            .collect(),
    }
}
