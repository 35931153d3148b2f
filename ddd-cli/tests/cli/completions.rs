use crate::harness::Test;

#[test]
fn completions_for_each_shell() {
    Test::new()
        .args(["completions", "bash"])
        .stdout_has("_ddd()")
        .stdout_has("check")
        .success();
    Test::new()
        .args(["completions", "zsh"])
        .stdout_has("#compdef ddd")
        .success();
    Test::new()
        .args(["completions", "fish"])
        .stdout_has("complete -c ddd")
        .success();
    Test::new()
        .args(["completions", "powershell"])
        .stdout_has("ddd")
        .success();
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    Test::new()
        .args(["completions", "tcsh"])
        .stderr_has("invalid value 'tcsh'")
        .status(2);
}
