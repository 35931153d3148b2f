//! What each outcome of an HTTP request to a generated service answers: one table that the
//! service shell serves and the generator documents in OpenAPI.

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
/// Malformed JSON, an unknown field, a bad query parameter.
pub const BAD_REQUEST: Outcome = Outcome {
    status: 400,
    title: "Bad request",
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
/// No aggregate with that id, or no such command.
pub const NOT_FOUND: Outcome = Outcome {
    status: 404,
    title: "Not found",
    response: "NotFound",
};
/// The aggregate refused the command (a rule, a guard), or a write raced another.
pub const CONFLICT: Outcome = Outcome {
    status: 409,
    title: "Conflict",
    response: "Conflict",
};
/// `If-Match` named a version that is not the current one.
pub const PRECONDITION_FAILED: Outcome = Outcome {
    status: 412,
    title: "Precondition failed",
    response: "PreconditionFailed",
};
/// A body over the configured limit.
pub const CONTENT_TOO_LARGE: Outcome = Outcome {
    status: 413,
    title: "Content too large",
    response: "ContentTooLarge",
};
/// A command whose fields break their constraints: the violations name the fields.
pub const UNPROCESSABLE: Outcome = Outcome {
    status: 422,
    title: "Validation failed",
    response: "UnprocessableContent",
};
/// The store or the bus did not answer.
pub const UNAVAILABLE: Outcome = Outcome {
    status: 503,
    title: "Service unavailable",
    response: "ServiceUnavailable",
};
/// A bug: never by design.
pub const INTERNAL: Outcome = Outcome {
    status: 500,
    title: "Internal server error",
    response: "InternalError",
};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";
