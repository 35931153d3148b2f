//! Every bad model under `tests/models/bad/` against its `.expect` file (severity, code,
//! `line:col` or IR path, and the "did you mean" suggestion of each diagnostic, in order) and
//! against an insta snapshot of the rendered output (source line and caret included).

use std::collections::BTreeSet;
use std::path::Path;

use ddd_model::diagnostic::{self, Code, Diagnostic, Severity, SourceFile};
use ddd_model::{Format, load};

fn diagnostics(path: &Path, text: &str) -> (bool, Vec<Diagnostic>) {
    let format = Format::from_path(path).expect("a model extension");
    match load(text, format) {
        Ok(loaded) => (true, loaded.diagnostics),
        Err(rejected) => (false, rejected.diagnostics),
    }
}

/// `error[unknown-type] 5:16 help: did you mean `OrderLine`?`, the format of `.expect` files.
fn describe(diagnostic: &Diagnostic, text: &str) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let at = match diagnostic.line_col(text) {
        Some((line, column)) => format!("{line}:{column}"),
        None => diagnostic
            .location
            .as_ref()
            .and_then(|l| l.path.clone())
            .unwrap_or_default(),
    };
    let mut line = format!("{severity}[{}] {at}", diagnostic.code);
    if let Some(help) = diagnostic
        .help
        .as_ref()
        .filter(|h| h.starts_with("did you mean"))
    {
        line.push_str(&format!(" help: {help}"));
    }
    line
}

fn name_of(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("a file name")
}

#[test]
fn bad_models_report_what_their_expect_files_say() {
    insta::glob!("models/bad/*.{ddd,json,yaml}", |path| {
        let text = std::fs::read_to_string(path).expect("readable model");
        let expected =
            std::fs::read_to_string(path.with_extension("expect")).expect("an .expect file");
        let (accepted, diagnostics) = diagnostics(path, &text);
        let actual: Vec<String> = diagnostics.iter().map(|d| describe(d, &text)).collect();
        let expected: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(actual, expected, "{}", path.display());
        let expects_errors = expected.iter().any(|l| l.starts_with("error"));
        assert_eq!(
            accepted,
            !expects_errors,
            "{}: accepted iff no errors",
            path.display()
        );

        let name = name_of(path);
        let rendered = diagnostic::render_to_string(SourceFile { name, text: &text }, &diagnostics);
        for (line, diagnostic) in expected.iter().zip(&diagnostics) {
            let at = line.split_whitespace().nth(1).expect("a location");
            if let Some((row, column)) = diagnostic.line_col(&text) {
                assert!(
                    rendered.contains(&format!("┌─ {name}:{row}:{column}")),
                    "{name}: {line}"
                );
            } else {
                assert!(
                    rendered.contains(&format!("┌─ {name} at {at}")),
                    "{name}: {line}"
                );
            }
        }
        let carets = rendered.lines().filter(|l| l.contains('^')).count();
        let located = diagnostics
            .iter()
            .filter(|d| d.line_col(&text).is_some())
            .count();
        assert!(
            carets >= located,
            "{name}: a caret under every located diagnostic"
        );
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn every_diagnostic_code_is_exercised_by_a_bad_model() {
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir("tests/models/bad").expect("the bad models") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "expect") {
            let text = std::fs::read_to_string(&path).expect("readable");
            for line in text.lines() {
                if let Some(code) = line
                    .split('[')
                    .nth(1)
                    .and_then(|rest| rest.split(']').next())
                {
                    seen.insert(code.to_owned());
                }
            }
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        // An import is about other files: imports are tested with files of their own.
        .filter(|c| **c != Code::Import)
        // Evolution compares two models: `ddd diff`'s tests give it pairs.
        .filter(|c| **c != Code::Evolution)
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no bad model exercises {missing:?}");
}

#[test]
fn invalid_utf8_is_reported_at_the_first_bad_byte() {
    let mut bytes = b"system Shop\n// caf".to_vec();
    bytes.extend([0xff, 0xfe]);
    let rejected = ddd_model::load_bytes(&bytes, Format::Ddd).expect_err("not UTF-8");
    assert_eq!(rejected.diagnostics.len(), 1);
    let lossy = String::from_utf8_lossy(&bytes);
    assert_eq!(rejected.diagnostics[0].line_col(&lossy), Some((2, 7)));
}

#[test]
fn an_empty_file_has_no_system() {
    let rejected = load("", Format::Ddd).expect_err("empty");
    let codes: Vec<Code> = rejected.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::MissingSystem]);
    let rendered = diagnostic::render_to_string(
        SourceFile {
            name: "empty.ddd",
            text: "",
        },
        &rejected.diagnostics,
    );
    assert!(rendered.contains("error[missing-system]"), "{rendered}");
}
