//! An aggregate's HTTP surface:
//!
//! - `POST /<aggregates>`: its creating command on a new id → 201, `Location`, `ETag`;
//! - `POST /<aggregates>/{id}/<command>` → 200 with the new version; `If-Match: <version>`
//!   makes it conditional (412 when the aggregate is elsewhere);
//! - `GET /<aggregates>/{id}` → state and version; `GET /<aggregates>/{id}/events`.
//!
//! A command's response names the last event it recorded in a `Consistency-Token` header and
//! a `consistency_token` member; a view read that passes it back sees the command's effects.
//!
//! A body is the command's fields as a JSON object. Every error is a [`Problem`]: 400 for a
//! body that is not the command (naming the field), 413 over the size limit, 415 for a
//! body sent as something else than JSON, 422 for broken constraints (every violation, by
//! field path), 404, 409 for a refused command.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use ddd_core::{
    Aggregate, Command as _, CommandMeta, ConsistencyToken, DomainEvent as _, EventStore,
    ExecuteError, ExpectedVersion, Repository, Version,
};
use ddd_names::http;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Problem;
use crate::problem::status;
use crate::request::RequestContext;

/// One command of an aggregate's HTTP surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRoute {
    /// The path segment: `add-item`.
    pub path: &'static str,
    /// The command's variant name, as its JSON is tagged: `AddItem`.
    pub name: &'static str,
    /// Whether it creates the aggregate (`POST /<aggregates>` runs the first such one).
    pub creates: bool,
}

/// The HTTP surface of one aggregate type over its repository.
pub struct AggregateApi<A: Aggregate, S> {
    repository: Arc<Repository<A, S>>,
    route: Cow<'static, str>,
    commands: &'static [CommandRoute],
    context: Option<&'static str>,
}

impl<A: Aggregate, S> std::fmt::Debug for AggregateApi<A, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateApi")
            .field("aggregate", &A::TYPE)
            .field("route", &self.route)
            .field("commands", &self.commands)
            .finish_non_exhaustive()
    }
}

impl<A, S> AggregateApi<A, S>
where
    A: Aggregate + Serialize,
    A::Command: DeserializeOwned,
    A::Id: From<uuid::Uuid>,
    S: EventStore + Send + Sync + 'static,
{
    /// The surface at `route` (`/shopping-carts`, or `/catalog/products` where a monolith
    /// mounts two contexts' aggregates of one name apart) for `commands`.
    pub fn new(
        repository: Arc<Repository<A, S>>,
        route: impl Into<Cow<'static, str>>,
        commands: &'static [CommandRoute],
    ) -> Self {
        Self {
            repository,
            route: route.into(),
            commands,
            context: None,
        }
    }

    /// Gives every command's response a consistency token of `context` (the context whose
    /// views read this aggregate's store).
    #[must_use]
    pub fn context(mut self, context: &'static str) -> Self {
        self.context = Some(context);
        self
    }

    /// The routes, ready to merge into a service's router.
    pub fn router(self) -> Router {
        let route = self.route.clone();
        Router::new()
            .route(&route, post(create::<A, S>))
            .route(&format!("{route}/{{id}}"), get(state::<A, S>))
            .route(&format!("{route}/{{id}}/events"), get(events::<A, S>))
            .route(
                &format!("{route}/{{id}}/{{command}}"),
                post(execute::<A, S>),
            )
            .with_state(Arc::new(self))
    }

    /// 200 with the id, the version and, when the command recorded events, their token.
    fn answer(&self, id: &str, done: &Done) -> Response {
        let token = self
            .context
            .zip(done.last_event)
            .map(|(context, (event_id, position))| {
                ConsistencyToken {
                    context: context.to_owned(),
                    event_id,
                    position,
                }
                .encode()
            });
        let body = match &token {
            Some(token) => json!({ "id": id, "version": done.version, "consistency_token": token }),
            None => json!({ "id": id, "version": done.version }),
        };
        let mut response = ([(header::ETAG, etag(done.version))], axum::Json(body)).into_response();
        if let Some(value) = token.and_then(|token| HeaderValue::from_str(&token).ok()) {
            response
                .headers_mut()
                .insert(http::CONSISTENCY_TOKEN, value);
        }
        response
    }

    fn find(&self, path: &str) -> Option<CommandRoute> {
        self.commands.iter().copied().find(|c| c.path == path)
    }
}

type Api<A, S> = State<Arc<AggregateApi<A, S>>>;

/// A request body, with the size limit's rejection as a problem.
#[derive(Debug)]
pub struct Body(pub Bytes);

impl<St: Send + Sync> FromRequest<St> for Body {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &St) -> Result<Self, Problem> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(is_json);
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                // axum answers 413 over the limit, 400 for a body it could not read.
                let outcome = if rejection.status().as_u16() == http::CONTENT_TOO_LARGE.status {
                    http::CONTENT_TOO_LARGE
                } else {
                    http::UNREADABLE_BODY
                };
                Problem::of(outcome, rejection.body_text())
            })?;
        // A command without fields may come without a body, and so without a type.
        if !json && !body.iter().all(u8::is_ascii_whitespace) {
            return Err(Problem::of(
                http::UNSUPPORTED_MEDIA_TYPE,
                "a command's body is JSON: send it as `Content-Type: application/json`",
            ));
        }
        Ok(Body(body))
    }
}

/// Whether a `Content-Type` is JSON: `application/json` or a `+json` type, any parameters.
fn is_json(value: &HeaderValue) -> bool {
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(kind, suffix)| kind.contains('/') && suffix.eq_ignore_ascii_case("json"))
}

async fn create<A, S>(
    State(api): Api<A, S>,
    context: Option<Extension<RequestContext>>,
    Body(body): Body,
) -> Response
where
    A: Aggregate + Serialize,
    A::Command: DeserializeOwned,
    A::Id: From<uuid::Uuid>,
    S: EventStore + Send + Sync + 'static,
{
    let Some(route) = api.commands.iter().find(|c| c.creates) else {
        return Problem::not_found(format!("{} has no creating command", A::TYPE)).into_response();
    };
    let id = A::Id::from(uuid::Uuid::now_v7());
    // The id was made for this request: there is no stream to read first.
    let meta = meta(context, Some(ExpectedVersion::NoStream));
    let outcome = match parse_command::<A::Command>(route.name, &body) {
        Ok(command) => run(&api.repository, &id, command, meta).await,
        Err(problem) => Err(problem),
    };
    match outcome {
        Ok(done) => {
            let mut response = api.answer(&id.to_string(), &done);
            *response.status_mut() = status(http::CREATED);
            if let Ok(location) = HeaderValue::from_str(&format!("{}/{id}", api.route)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(problem) => problem.into_response(),
    }
}

async fn execute<A, S>(
    State(api): Api<A, S>,
    Path((id, command)): Path<(String, String)>,
    context: Option<Extension<RequestContext>>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, Problem>
where
    A: Aggregate + Serialize,
    A::Command: DeserializeOwned,
    A::Id: From<uuid::Uuid>,
    S: EventStore + Send + Sync + 'static,
{
    let route = api
        .find(&command)
        .ok_or_else(|| Problem::not_found(format!("{} has no command `{command}`", A::TYPE)))?;
    let id = parse_id::<A>(&id)?;
    let expected = if_match(&headers)?;
    let command = parse_command::<A::Command>(route.name, &body)?;
    let mut meta = meta(context, expected);
    if !route.creates {
        meta = meta.on_existing();
    }
    let done = run(&api.repository, &id, command, meta).await?;
    Ok(api.answer(&id.to_string(), &done))
}

async fn state<A, S>(State(api): Api<A, S>, Path(id): Path<String>) -> Result<Response, Problem>
where
    A: Aggregate + Serialize,
    S: EventStore + Send + Sync + 'static,
{
    let id = parse_id::<A>(&id)?;
    let root = api
        .repository
        .load(&id)
        .await
        .map_err(Problem::internal)?
        .ok_or_else(|| not_found::<A>(&id.to_string()))?;
    Ok((
        [(header::ETAG, etag(root.version()))],
        axum::Json(
            json!({ "id": id.to_string(), "version": root.version(), "state": root.state() }),
        ),
    )
        .into_response())
}

async fn events<A, S>(State(api): Api<A, S>, Path(id): Path<String>) -> Result<Response, Problem>
where
    A: Aggregate,
    S: EventStore + Send + Sync + 'static,
{
    let id = parse_id::<A>(&id)?;
    let recorded = api
        .repository
        .events(&id, 0)
        .await
        .map_err(Problem::internal)?;
    if recorded.is_empty() {
        return Err(not_found::<A>(&id.to_string()));
    }
    let events = recorded
        .iter()
        .map(|envelope| {
            Ok(json!({
                "event_id": envelope.event_id,
                "version": envelope.version,
                "type": envelope.event_type,
                "recorded_at": envelope.recorded_at,
                "correlation_id": envelope.correlation_id,
                "causation_id": envelope.causation_id,
                "payload": envelope.payload.encode()?,
            }))
        })
        .collect::<Result<Vec<Value>, ddd_core::CodecError>>()
        .map_err(Problem::internal)?;
    Ok(axum::Json(events).into_response())
}

/// What a handled command left: the aggregate's version and its last event (id and global
/// position, 0 when the store assigns positions later), if it recorded any.
struct Done {
    version: Version,
    last_event: Option<(ddd_core::EventId, ddd_core::Position)>,
}

/// The request's metadata (trace, correlation) and the version it expects: its `If-Match`,
/// or no stream at all for an id made for it.
fn meta(
    context: Option<Extension<RequestContext>>,
    expected: Option<ExpectedVersion>,
) -> CommandMeta {
    let meta = context.map_or_else(CommandMeta::default, |Extension(context)| {
        context.command_meta()
    });
    match expected {
        Some(expected) => meta.expect(expected),
        None => meta,
    }
}

/// Executes `command`, counting and timing it by type and outcome.
async fn run<A, S>(
    repository: &Repository<A, S>,
    id: &A::Id,
    command: A::Command,
    meta: CommandMeta,
) -> Result<Done, Problem>
where
    A: Aggregate,
    S: EventStore,
{
    // Only an `If-Match` makes a conflict a failed precondition (412).
    let conditional = matches!(meta.expected, ExpectedVersion::Exact(_));
    let name = command.command_name();
    let started = Instant::now();
    let outcome = repository.execute_with(id, command, meta).await;
    let label = match &outcome {
        Ok(_) => "handled",
        Err(ExecuteError::Invalid(_)) => "invalid",
        Err(ExecuteError::Rejected(_)) => "rejected",
        Err(ExecuteError::Conflict { .. } | ExecuteError::AlreadyProcessed(_)) => "conflict",
        Err(ExecuteError::NotFound(_)) => "not_found",
        Err(ExecuteError::Store(_)) => "failed",
    };
    crate::metrics::command(A::TYPE, name, label, started.elapsed());
    match outcome {
        Ok(done) => {
            tracing::info!(aggregate = A::TYPE, command = name, %id, version = done.version, "command handled");
            Ok(Done {
                version: done.version,
                last_event: done
                    .events
                    .last()
                    .map(|event| (event.event_id, event.position)),
            })
        }
        Err(ExecuteError::Invalid(errors)) => {
            Err(Problem::of(http::UNPROCESSABLE, errors.to_string())
                .with("violations", json!(errors.violations())))
        }
        Err(ExecuteError::Rejected(reason)) => {
            tracing::info!(aggregate = A::TYPE, command = name, %id, %reason, "command rejected");
            Err(rejected(&reason))
        }
        Err(ExecuteError::NotFound(_)) => Err(not_found::<A>(&id.to_string())),
        Err(conflict @ ExecuteError::Conflict { .. }) if conditional => {
            Err(Problem::of(http::PRECONDITION_FAILED, conflict.to_string()))
        }
        Err(error @ (ExecuteError::Conflict { .. } | ExecuteError::AlreadyProcessed(_))) => {
            Err(Problem::of(http::CONFLICT, error.to_string()))
        }
        Err(error @ ExecuteError::Store(_)) => Err(Problem::internal(error)),
    }
}

/// The command named `name` from a body holding its fields; a type error or an unknown or
/// missing field is a 400 that names the field.
pub fn parse_command<C: DeserializeOwned>(name: &str, body: &[u8]) -> Result<C, Problem> {
    let mut fields: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|error| Problem::of(http::MALFORMED_JSON, error.to_string()))?
    };
    integral_numbers(&mut fields);
    if !fields.is_object() {
        return Err(Problem::of(
            http::BAD_REQUEST,
            format!("the body of `{name}` must be a JSON object of its fields"),
        ));
    }
    let empty = fields.as_object().is_some_and(serde_json::Map::is_empty);
    let tagged = json!({ name: fields });
    let parsed = serde_path_to_error::deserialize(tagged);
    // A command without fields may be a unit variant, which serde writes as its bare name.
    // When that fails too, the first error (a missing field) says more than the second.
    let parsed = match parsed {
        Err(first) if empty => {
            serde_path_to_error::deserialize(Value::String(name.to_owned())).map_err(|_| first)
        }
        parsed => parsed,
    };
    parsed.map_err(|error| {
        let field = field_of(&error);
        let mut problem = Problem::of(
            http::BAD_REQUEST,
            match &field {
                Some(field) => format!("{name}.{field}: {}", error.inner()),
                None => format!("{name}: {}", error.inner()),
            },
        );
        if let Some(field) = field {
            problem = problem.with("field", Value::String(field));
        }
        problem
    })
}

/// Writes every number without a fraction (`27.0`, `1e3`) as the integer it is, where an
/// `i64` or `u64` holds it: JSON Schema counts such numbers as integers, so the document's
/// integer fields promise to take them, while serde's integers refuse a float. A float
/// field takes the integer as well.
fn integral_numbers(value: &mut Value) {
    match value {
        // An integer as written stays as it is: through an f64 it could lose digits.
        Value::Number(number) if number.is_f64() => {
            if let Some(integer) = number.as_f64().and_then(as_integer) {
                *number = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(members) => members.values_mut().for_each(integral_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) | Value::Number(_) => {}
    }
}

/// `float` as an integer, when it is one that fits.
fn as_integer(float: f64) -> Option<serde_json::Number> {
    // 2^63 and 2^64 are exact in an f64; below them, a float without a fraction converts
    // exactly.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    if float.fract() != 0.0 {
        return None;
    }
    if (-I64_END..I64_END).contains(&float) {
        Some((float as i64).into())
    } else if (0.0..U64_END).contains(&float) {
        Some((float as u64).into())
    } else {
        None
    }
}

/// The field a deserialization error is about: its path below the command's tag, or the
/// field an unknown/missing-field message names.
fn field_of(error: &serde_path_to_error::Error<serde_json::Error>) -> Option<String> {
    let path = error.path().to_string();
    let below_tag = path.split_once('.').map(|(_, rest)| rest.to_owned());
    let message = error.inner().to_string();
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.split_once(prefix))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(field, _)| field.to_owned());
    match (below_tag, named) {
        (Some(path), Some(field)) if message.starts_with("missing field") => {
            Some(format!("{path}.{field}"))
        }
        (Some(path), _) => Some(path),
        (None, named) => named,
    }
}

fn if_match(headers: &HeaderMap) -> Result<Option<ExpectedVersion>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(version_tag)
        .map(|version| Some(ExpectedVersion::Exact(version)))
        .ok_or_else(|| {
            Problem::of(
                http::BAD_IF_MATCH,
                "If-Match must be a version number (its ETag), quoted or not",
            )
        })
}

/// The version an `If-Match` names: `"7"` (the `ETag` as sent) or `7`, of at most
/// [`http::IF_MATCH_DIGITS`] digits, as the OpenAPI document's pattern says.
fn version_tag(text: &str) -> Option<Version> {
    let text = text.trim();
    let digits = text
        .strip_prefix('"')
        .and_then(|quoted| quoted.strip_suffix('"'))
        .unwrap_or(text);
    let well_formed = (1..=http::IF_MATCH_DIGITS).contains(&digits.len())
        && digits.bytes().all(|byte| byte.is_ascii_digit());
    well_formed.then(|| digits.parse().ok()).flatten()
}

fn etag(version: Version) -> String {
    format!("\"{version}\"")
}

fn parse_id<A: Aggregate>(id: &str) -> Result<A::Id, Problem> {
    id.parse().map_err(|_| not_found::<A>(id))
}

fn not_found<A: Aggregate>(id: &str) -> Problem {
    Problem::not_found(format!("no {} `{id}`", A::TYPE))
}

/// 409 for a command the domain refused; a [`ddd_core::Rejection`] that says why (a broken
/// rule, a state the command cannot start from) adds that to the body.
fn rejected<E: std::error::Error + 'static>(reason: &E) -> Problem {
    let problem = Problem::of(http::REJECTED, reason.to_string());
    let cause = (reason as &dyn std::any::Any)
        .downcast_ref::<ddd_core::Rejection>()
        .and_then(ddd_core::Rejection::cause);
    match cause {
        Some(ddd_core::Cause::Rule(rule)) => problem.with("rule", json!(rule)),
        Some(ddd_core::Cause::State {
            field,
            current,
            allowed,
        }) => problem
            .with("field", json!(field))
            .with("current", json!(current))
            .with("allowed", json!(allowed)),
        None => problem,
    }
}
