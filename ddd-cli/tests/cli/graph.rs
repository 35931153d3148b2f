use crate::SHOP;
use crate::harness::Test;

#[test]
fn mermaid_shows_contexts_kinds_relations_roles_published_events_and_policies() {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["graph", "shop.ddd", "--format", "mermaid"])
        .stdout_has("flowchart LR\n")
        .stdout_has("  ctx_Catalog[\"<b>Catalog</b><br/>supporting subdomain<br/><i>publishes</i><br/>ProductCreated")
        .stdout_has("  ctx_Catalog -->|\"customer-supplier<br/>U: OHS, PL → D: CF\"| ctx_Cart\n")
        .stdout_has("  class ctx_Ordering core\n")
        .stdout_has("  ctx_Cart -.->|\"CartCheckedOut → Order.PlaceOrder\"| ctx_Ordering\n")
        .success();
}

#[test]
fn mermaid_is_the_default() {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["graph", "shop.ddd"])
        .stdout_has("flowchart LR")
        .success();
}

#[test]
fn dot_is_a_digraph() {
    let output = Test::new()
        .file("shop.ddd", SHOP)
        .args(["graph", "shop.ddd", "--format", "dot"])
        .stdout_has("digraph \"Shop\" {\n")
        .stdout_has("  \"Ordering\" -> \"Shipping\" [label=\"customer-supplier\", dir=none, labelfontsize=10, taillabel=<<table")
        .stdout_has("<tr><td>U</td><td>OHS</td></tr></table>>, headlabel=<<table")
        .stdout_has("  \"Ordering\" [label=<<b>Ordering</b><br/>core subdomain<br/>")
        .stdout_has("  \"Ordering\" -> \"Shipping\" [label=\"OrderPaid → Shipment.PrepareShipment\", style=dashed];\n")
        .success();
    assert!(output.stdout.trim_end().ends_with('}'));
}

#[test]
fn shared_kernels_point_both_ways() {
    let model = "system S\ncontext A { aggregate X { command C() creates emits E, event E() } }\ncontext B { aggregate Y { command C() creates emits E, event E() } }\nmap { A <-> B : shared-kernel }\n";
    Test::new()
        .file("m.ddd", model)
        .args(["graph", "m.ddd"])
        .stdout_has("ctx_A <-->|\"shared-kernel\"| ctx_B")
        .success();
    Test::new()
        .file("m.ddd", model)
        .args(["graph", "m.ddd", "--format", "dot"])
        .stdout_has("\"A\" -> \"B\" [label=\"shared-kernel\", dir=both];")
        .success();
}

#[test]
fn output_goes_to_a_file_and_not_when_the_model_is_wrong() {
    let output = Test::new()
        .file("shop.ddd", SHOP)
        .args(["graph", "shop.ddd", "-o", "map.mmd"])
        .stdout("")
        .success();
    let written = std::fs::read_to_string(output.path("map.mmd")).expect("map.mmd");
    assert!(written.starts_with("%% Context map of Shop"));
    let output = Test::new()
        .file("bad.ddd", "system Shop\ncontext A {\n")
        .args(["graph", "bad.ddd", "-o", "map.mmd"])
        .stderr_has("unclosed `{` of context `A`")
        .status(1);
    assert!(!output.path("map.mmd").exists());
}

#[test]
fn an_unknown_graph_format_is_a_usage_error() {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["graph", "shop.ddd", "--format", "png"])
        .stderr_has("invalid value 'png'")
        .status(2);
}

#[test]
fn an_unwritable_output_is_an_io_error() {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["graph", "shop.ddd", "-o", "missing/dir/map.mmd"])
        .stderr_has("error: cannot write the output")
        .status(3);
}
