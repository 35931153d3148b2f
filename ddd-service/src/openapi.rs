//! The OpenAPI document a service serves at `/openapi.json`, true of the running service.
//!
//! The generated document describes every deployment: its writes declare the bearer scheme
//! and the answers only authentication gives (401, 403). A service running without JWT
//! settings takes writes without a token, so it serves the document without those
//! declarations rather than promise checks it does not make.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::auth::Auth;

/// The statuses only the authentication middleware answers.
const AUTH_STATUSES: [&str; 2] = ["401", "403"];

const RESPONSES: &str = "#/components/responses/";

/// `document` as this service, authenticating as `auth` says, serves it.
pub(crate) fn served(document: &'static str, auth: &Auth) -> Cow<'static, str> {
    if auth.is_enabled() {
        return Cow::Borrowed(document);
    }
    let mut parsed: Value = match serde_json::from_str(document) {
        Ok(parsed) => parsed,
        Err(error) => {
            // The service still starts: a broken document is no reason to refuse commands.
            tracing::warn!(%error, "the OpenAPI document is not JSON; served unchanged");
            return Cow::Borrowed(document);
        }
    };
    without_security(&mut parsed);
    Cow::Owned(parsed.to_string())
}

/// Drops the security requirements and schemes, the answers only authentication gives
/// from the operations that had a requirement, and the response components nothing
/// refers to any more.
fn without_security(document: &mut Value) {
    let Some(root) = document.as_object_mut() else {
        return;
    };
    root.remove("security");
    let mut dropped: Vec<String> = operations(root)
        .flat_map(unsecured)
        .filter_map(|reference| reference.strip_prefix(RESPONSES).map(str::to_owned))
        .collect();
    dropped.sort_unstable();
    dropped.dedup();
    let unused: Vec<String> = dropped
        .into_iter()
        .filter(|name| !refers_to(document, &format!("{RESPONSES}{name}")))
        .collect();
    let Some(components) = document
        .get_mut("components")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    components.remove("securitySchemes");
    if let Some(responses) = components
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        for name in unused {
            responses.remove(&name);
        }
    }
}

/// Every operation of every path.
fn operations(root: &mut Map<String, Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    root.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(Value::as_object_mut)
}

/// Drops the operation's security requirement and, if it had one, its answers that only
/// authentication gives; returns the references those answers made.
fn unsecured(operation: &mut Map<String, Value>) -> Vec<String> {
    if operation.remove("security").is_none() {
        return Vec::new();
    }
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return Vec::new();
    };
    AUTH_STATUSES
        .iter()
        .filter_map(|status| responses.remove(*status))
        .filter_map(|response| match response.get("$ref") {
            Some(Value::String(reference)) => Some(reference.clone()),
            _ => None,
        })
        .collect()
}

/// Whether anything in `value` refers to `reference`.
fn refers_to(value: &Value, reference: &str) -> bool {
    match value {
        Value::Object(members) => members.iter().any(|(key, member)| {
            (key == "$ref" && member.as_str() == Some(reference)) || refers_to(member, reference)
        }),
        Value::Array(items) => items.iter().any(|item| refers_to(item, reference)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::AuthConfig;

    fn document() -> &'static str {
        let document = json!({
            "openapi": "3.1.0",
            "paths": {
                "/tickets": {
                    "post": {
                        "security": [{ "bearer": [] }],
                        "responses": {
                            "201": { "description": "Created." },
                            "401": { "$ref": "#/components/responses/unauthorized" },
                            "403": { "$ref": "#/components/responses/forbidden" },
                            "422": { "$ref": "#/components/responses/unprocessable" },
                        },
                    },
                },
                "/tickets/{id}": {
                    "get": {
                        "responses": {
                            "200": { "description": "The ticket." },
                            "404": { "$ref": "#/components/responses/not_found" },
                        },
                    },
                },
            },
            "components": {
                "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
                "responses": {
                    "unauthorized": { "description": "No token." },
                    "forbidden": { "description": "No scope." },
                    "unprocessable": { "description": "Broken constraints." },
                    "not_found": { "description": "No such ticket." },
                },
            },
        });
        Box::leak(document.to_string().into_boxed_str())
    }

    fn keys(object: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = object
            .as_object()
            .into_iter()
            .flat_map(|members| members.keys().map(String::as_str))
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn with_authentication_the_document_is_served_as_generated() {
        let auth = Auth::jwt(AuthConfig::hs256(&[7; 32]).expect("a long secret"));
        assert!(matches!(served(document(), &auth), Cow::Borrowed(_)));
    }

    #[test]
    fn without_authentication_no_write_asks_for_a_token_or_answers_401_or_403() {
        let served: Value = serde_json::from_str(&served(document(), &Auth::none())).expect("JSON");
        let post = &served["paths"]["/tickets"]["post"];
        assert_eq!(post.get("security"), None);
        assert_eq!(keys(&post["responses"]), ["201", "422"]);
        let components = &served["components"];
        assert_eq!(components.get("securitySchemes"), None);
        assert_eq!(
            keys(&components["responses"]),
            ["not_found", "unprocessable"]
        );
        assert_eq!(
            served["paths"]["/tickets/{id}"],
            serde_json::from_str::<Value>(document()).expect("JSON")["paths"]["/tickets/{id}"],
        );
    }

    #[test]
    fn a_document_that_is_not_json_is_served_unchanged() {
        assert_eq!(served("not json", &Auth::none()), "not json");
    }
}
