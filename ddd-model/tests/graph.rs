//! The context map as Mermaid and DOT, and lifecycles as Mermaid state diagrams.

use ddd_model::{Format, graph, load};

fn shop() -> ddd_model::System {
    load(include_str!("../../examples/shop/shop.ddd"), Format::Ddd)
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
fn event_flow() {
    insta::assert_snapshot!(graph::event_flow_mermaid(&shop()).expect("the shop has policies"));
}

#[test]
fn a_model_without_policies_has_no_event_flow() {
    let system = load(
        "system Solo
context Alone {
  aggregate Thing {
    n: u32
    command Make(n: u32) creates emits Made
    event Made(n: u32)
  }
}",
        Format::Ddd,
    )
    .expect("a model")
    .system;
    assert_eq!(graph::event_flow_mermaid(&system), None);
}

#[test]
fn the_same_model_gives_the_same_text() {
    assert_eq!(graph::mermaid(&shop()), graph::mermaid(&shop()));
    assert_eq!(graph::dot(&shop()), graph::dot(&shop()));
    assert_eq!(
        graph::event_flow_mermaid(&shop()),
        graph::event_flow_mermaid(&shop())
    );
}

fn lifecycle(aggregate: &str) -> String {
    let system = shop();
    let (_, aggregate) = system.aggregate(aggregate).expect("aggregate");
    graph::lifecycle_mermaid(&system, aggregate, &aggregate.lifecycles[0])
}

#[test]
fn order_lifecycle() {
    insta::assert_snapshot!(lifecycle("Order"));
}

#[test]
fn payment_lifecycle() {
    insta::assert_snapshot!(lifecycle("Payment"));
}

/// Contexts and states named like Mermaid keywords, commands sharing a transition, a variant
/// no transition names, a context without a kind and a shared kernel.
const KEYWORDS: &str = "system S
context End : core {
  enum Step { State, Note, Class, Unused }
  aggregate Job {
    step: Step
    lifecycle step {
      State -> Note by Go, Jump
      State, Note -> Class by Stop
    }
    command Start() creates emits Started
    command Go() emits Moved
    command Jump() emits Moved
    command Stop() emits Stopped
    event Started()
    event Moved()
    event Stopped()
  }
  publishes Started
}
context Graph : generic { aggregate G { command Make() creates emits Made, event Made() } }
context Style { aggregate H { command Make() creates emits Made, event Made() } }
map {
  End <-> Graph : shared-kernel
  End [open-host] -> [anticorruption-layer, conformist] Style : customer-supplier
}
";

fn keywords() -> ddd_model::System {
    load(KEYWORDS, Format::Ddd).expect("keywords").system
}

#[test]
fn keyword_names_and_several_commands() {
    let system = keywords();
    let (_, job) = system.aggregate("Job").expect("Job");
    insta::assert_snapshot!(graph::lifecycle_mermaid(&system, job, &job.lifecycles[0]));
}

#[test]
fn keyword_contexts_mermaid() {
    insta::assert_snapshot!(graph::mermaid(&keywords()));
}

#[test]
fn keyword_contexts_dot() {
    insta::assert_snapshot!(graph::dot(&keywords()));
}

#[test]
fn a_lifecycle_over_an_unknown_enum_starts_at_the_first_source_state() {
    let system = keywords();
    let (_, job) = system.aggregate("Job").expect("Job");
    let mut job = job.clone();
    job.fields.clear();
    let text = graph::lifecycle_mermaid(&system, &job, &job.lifecycles[0]);
    assert!(text.contains("  [*] --> st_State\n"), "{text}");
    assert!(text.contains("  st_Class --> [*]\n"), "{text}");
}
