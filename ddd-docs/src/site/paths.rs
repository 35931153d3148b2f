//! Where each file of the site is: the one place page names are made, so links and files
//! agree.

pub(crate) const INDEX: &str = "index.html";
pub(crate) const STYLE: &str = "assets/style.css";
pub(crate) const SCRIPT: &str = "assets/search.js";
pub(crate) const SEARCH_INDEX: &str = "search-index.js";
pub(crate) const ASYNCAPI: &str = "api/asyncapi.yaml";

/// From a page one directory down (contexts, events) back to the top.
pub(crate) const UP: &str = "../";

pub(crate) fn context(context: &str) -> String {
    format!("contexts/{}.html", file_safe(context))
}

/// Event names are unique in a context, not across contexts.
pub(crate) fn event(context: &str, event: &str) -> String {
    format!("events/{}.{}.html", file_safe(context), file_safe(event))
}

pub(crate) fn openapi(context: &str) -> String {
    format!("api/{}.openapi.json", file_safe(context))
}

/// The id of a thing on its context's page: `aggregate-Order`, `command-Cancel`,
/// `view-OrderSummary`.
pub(crate) fn anchor(kind: &str, name: &str) -> String {
    format!("{kind}-{}", file_safe(name))
}

/// Names of a checked model are identifiers already; anything else becomes `_`, so that no
/// name can leave its directory.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
