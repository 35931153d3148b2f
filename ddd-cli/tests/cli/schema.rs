use crate::harness::Test;

#[test]
fn schema_is_json_schema_of_the_ir() {
    let output = Test::new().args(["schema"]).success();
    let schema: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["title"], "ddd model");
    for definition in ["Context", "Aggregate", "Policy", "Type", "RelationKind"] {
        assert!(schema["$defs"][definition].is_object(), "{definition}");
    }
}

#[test]
fn schema_goes_to_a_file() {
    let output = Test::new()
        .args(["schema", "--output", "model.schema.json"])
        .stdout("")
        .success();
    let written = std::fs::read_to_string(output.path("model.schema.json")).expect("written");
    assert!(written.contains("\"$defs\""));
}
