//! The context map of the shop, as Mermaid and DOT.

use ddd_model::{Format, graph, load};

fn shop() -> ddd_model::System {
    load(include_str!("../../models/shop.ddd"), Format::Ddd)
        .expect("shop")
        .system
}

#[test]
fn mermaid() {
    insta::assert_snapshot!(graph::mermaid(&shop()));
}

#[test]
fn dot() {
    insta::assert_snapshot!(graph::dot(&shop()));
}

#[test]
fn the_same_model_gives_the_same_text() {
    assert_eq!(graph::mermaid(&shop()), graph::mermaid(&shop()));
    assert_eq!(graph::dot(&shop()), graph::dot(&shop()));
}
