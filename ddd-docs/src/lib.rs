//! A browsable catalog of a model, with pictures: `ddd docs` writes it, and so does
//! `ddd generate` into every workspace's `docs/site/`.
//!
//! [`site`] makes the static site (an index with the context map and the event flow, a page
//! per context and per event, the API documents, an offline search); [`svg`] draws the
//! pictures, laid out by [`layout`] (no Graphviz, nothing to install); [`diagrams`] turns
//! the model into those pictures; [`eventcatalog`] exports the same model as an
//! EventCatalog v2 folder. Everything is deterministic: the same model gives the same bytes.

pub mod diagrams;
pub mod eventcatalog;
pub mod html;
pub mod layout;
mod site;
pub mod svg;

pub use self::site::{Documents, Page, site};

/// The context map as a standalone SVG picture (`ddd graph --format svg`).
pub fn context_map_svg(system: &ddd_model::System) -> String {
    let graph = diagrams::context_map(system, diagrams::Links::None);
    let title = format!("Context map of {}", system.name);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        svg::render(&graph, "context-map", &title)
    )
}
