//! What each outcome of an HTTP request to a generated service answers: one table that the
//! service shell serves and the generator documents in OpenAPI. Several outcomes may share a
//! status and so an OpenAPI response (a refused command and a lost race are both a `409`),
//! each with the title of its own problem.

/// An outcome of a request, with its status and the problem's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub status: u16,
    pub title: &'static str,
    /// The name of the response in the OpenAPI document's `components.responses`.
    pub response: &'static str,
}

/// A `creates` command succeeded: `201 Created` with the new id.
pub const CREATED: Outcome = Outcome {
    status: 201,
    title: "Created",
    response: "Created",
};
/// A command on an existing aggregate succeeded, or a read found what it asked for.
pub const OK: Outcome = Outcome {
    status: 200,
    title: "OK",
    response: "Ok",
};
/// A body that is JSON but not the command's fields: not an object, a type error, an
/// unknown or missing field (the problem's `field` member names it).
pub const BAD_REQUEST: Outcome = Outcome {
    status: 400,
    title: "Malformed command",
    response: "BadRequest",
};
/// A body that is not JSON.
pub const MALFORMED_JSON: Outcome = Outcome {
    status: 400,
    title: "Malformed JSON",
    response: "BadRequest",
};
/// An `If-Match` that is not a version number.
pub const BAD_IF_MATCH: Outcome = Outcome {
    status: 400,
    title: "Bad If-Match",
    response: "BadRequest",
};
/// A body that could not be read (the connection failed while sending it).
pub const UNREADABLE_BODY: Outcome = Outcome {
    status: 400,
    title: "Unreadable body",
    response: "BadRequest",
};
/// A view query parameter that the view does not take or whose value does not read (the
/// problem's `parameter` member names it).
pub const BAD_QUERY: Outcome = Outcome {
    status: 400,
    title: "Bad query parameter",
    response: "BadRequest",
};
/// A consistency token that is malformed or from another context.
pub const BAD_TOKEN: Outcome = Outcome {
    status: 400,
    title: "Bad consistency token",
    response: "BadRequest",
};
/// A write without valid credentials when authentication is configured.
pub const UNAUTHORIZED: Outcome = Outcome {
    status: 401,
    title: "Unauthorized",
    response: "Unauthorized",
};
/// Valid credentials without the required scope.
pub const FORBIDDEN: Outcome = Outcome {
    status: 403,
    title: "Forbidden",
    response: "Forbidden",
};
/// No aggregate with that id, no such command, or no such route.
pub const NOT_FOUND: Outcome = Outcome {
    status: 404,
    title: "Not found",
    response: "NotFound",
};
/// A route that exists, but not for this method.
pub const METHOD_NOT_ALLOWED: Outcome = Outcome {
    status: 405,
    title: "Method not allowed",
    response: "MethodNotAllowed",
};
/// The aggregate refused the command (a rule, a guard).
pub const REJECTED: Outcome = Outcome {
    status: 409,
    title: "Command rejected",
    response: "Conflict",
};
/// A write raced another, or the command was already processed.
pub const CONFLICT: Outcome = Outcome {
    status: 409,
    title: "Conflict",
    response: "Conflict",
};
/// `If-Match` named a version that is not the current one.
pub const PRECONDITION_FAILED: Outcome = Outcome {
    status: 412,
    title: "Version mismatch",
    response: "PreconditionFailed",
};
/// A body over the configured limit.
pub const CONTENT_TOO_LARGE: Outcome = Outcome {
    status: 413,
    title: "Body too large",
    response: "ContentTooLarge",
};
/// A body sent as something else than JSON (its `Content-Type`).
pub const UNSUPPORTED_MEDIA_TYPE: Outcome = Outcome {
    status: 415,
    title: "Unsupported media type",
    response: "UnsupportedMediaType",
};
/// A command whose fields break their constraints: the violations name the fields.
pub const UNPROCESSABLE: Outcome = Outcome {
    status: 422,
    title: "Invalid command",
    response: "UnprocessableContent",
};
/// The store or the bus did not answer.
pub const UNAVAILABLE: Outcome = Outcome {
    status: 503,
    title: "Service unavailable",
    response: "ServiceUnavailable",
};
/// A view read with a consistency token waited its bound and the view had still not folded
/// the command's events (the problem says how far behind it is).
pub const VIEW_BEHIND: Outcome = Outcome {
    status: 503,
    title: "View behind",
    response: "ServiceUnavailable",
};
/// The view stopped at an event it could not fold; it serves its rows from before it.
pub const VIEW_STOPPED: Outcome = Outcome {
    status: 503,
    title: "View stopped",
    response: "ServiceUnavailable",
};
/// A bug, or a store that failed: the cause goes to the log, not to the client.
pub const INTERNAL: Outcome = Outcome {
    status: 500,
    title: "Internal error",
    response: "InternalError",
};

/// The most digits of the version an `If-Match` names: every number of 19 digits is a
/// `u64`, and no aggregate gets near 10^19 events.
pub const IF_MATCH_DIGITS: usize = 19;
/// An `If-Match` a command takes, as the OpenAPI document states it: the `ETag` as sent
/// (`"7"`) or the bare version (`7`), of at most [`IF_MATCH_DIGITS`] digits.
pub const IF_MATCH_PATTERN: &str = r#"^("[0-9]{1,19}"|[0-9]{1,19})$"#;

/// The header a command's response carries its consistency token in, and a view read
/// passes it back in to see the command's effects.
pub const CONSISTENCY_TOKEN: &str = "consistency-token";

/// How many rows a view's page has when the query does not say.
pub const VIEW_PAGE_DEFAULT: usize = 50;
/// The most rows a query may ask one page of a view for.
pub const VIEW_PAGE_MAX: usize = 500;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_if_match_pattern_allows_the_digits_the_service_reads() {
        let digits = format!("[0-9]{{1,{IF_MATCH_DIGITS}}}");
        assert_eq!(IF_MATCH_PATTERN, format!("^(\"{digits}\"|{digits})$"));
    }
}
