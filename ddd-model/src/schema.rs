//! The JSON Schema of the IR: what a JSON or YAML model must look like.

/// The schema of [`crate::ir::System`] (JSON Schema 2020-12).
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(crate::ir::System);
    schema.insert("title".into(), "ddd model".into());
    schema.insert(
        "description".into(),
        "A ddd domain model (the IR). Write it by hand in JSON or YAML, or let `ddd` read a `.ddd` file. \
         Fields marked derived are computed by `ddd` and ignored on input."
            .into(),
    );
    schema.to_value()
}
