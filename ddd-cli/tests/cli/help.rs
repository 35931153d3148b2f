use crate::harness::Test;

#[test]
fn help_documents_the_exit_statuses() {
    Test::new()
        .arg("--help")
        .stdout_has("Exit status:\n  0  success")
        .stdout_has("  1  the model has errors")
        .stdout_has("  2  bad command line")
        .stdout_has("  3  a file could not be read or written")
        .stdout_has("check")
        .stdout_has("graph")
        .stdout_has("schema")
        .stdout_has("completions")
        .success();
}

#[test]
fn subcommand_help_has_headings() {
    Test::new()
        .args(["check", "--help"])
        .stdout_has("Model:")
        .stdout_has("Display:")
        .stdout_has("Output:")
        .stdout_has("--emit <NOTATION>")
        .success();
}

#[test]
fn generate_needs_an_output_directory() {
    Test::new()
        .args(["generate", "shop.ddd"])
        .stderr_has("--out <DIR>")
        .status(2);
}

#[test]
fn version() {
    Test::new()
        .arg("--version")
        .stdout_has("ddd 0.1.0")
        .success();
}

#[test]
fn no_subcommand_is_a_usage_error() {
    Test::new().status(2);
}
