//! Models for the tests: the shop, and generated ones of any size.

use std::fmt::Write as _;

use ddd_model::{Format, System};

pub(crate) fn shop() -> System {
    let text = include_str!("../../../examples/shop/shop.ddd");
    load(text)
}

pub(crate) fn load(text: &str) -> System {
    match ddd_model::load(text, Format::Ddd) {
        Ok(loaded) => loaded.system,
        Err(rejected) => panic!("the model has errors: {:#?}", rejected.diagnostics),
    }
}

/// `contexts` contexts of one aggregate each, related along a chain and across it (every
/// seventh context upstream of the next but six, a shared kernel every tenth), each reacting
/// to the previous one's events with a policy.
pub(crate) fn generated(contexts: usize) -> String {
    let kinds = ["core", "supporting", "generic"];
    let mut text = String::from("system Big\n\n");
    for i in 0..contexts {
        let _ = writeln!(
            text,
            "/// Context number {i}.\ncontext C{i} : {kind} {{\n  aggregate A{i} {{\n    title: String\n    open: bool\n    command Create{i}(title: String) creates emits Created{i}\n    command Close{i}() requires open else \"closed already\" emits Closed{i}\n    /// Raised when number {i} is made.\n    event Created{i}(title: String) sets open = true\n    event Closed{i}() sets open = false\n  }}\n  publishes Created{i}, Closed{i}",
            kind = kinds[i % 3]
        );
        if i > 0 {
            let _ = writeln!(text, "  on C{}.Created{} run A{i}.Create{i}", i - 1, i - 1);
        }
        text.push_str("}\n\n");
    }
    text.push_str("map {\n");
    for i in 1..contexts {
        let roles = if i % 3 == 0 {
            " [open-host, published-language]"
        } else {
            ""
        };
        let _ = writeln!(text, "  C{}{roles} -> C{i} : customer-supplier", i - 1);
        if i % 7 == 0 && i + 6 < contexts {
            let _ = writeln!(
                text,
                "  C{i} -> [anticorruption-layer] C{} : conformist",
                i + 6
            );
        }
        if i % 10 == 0 && i + 5 < contexts {
            let _ = writeln!(text, "  C{i} <-> C{} : shared-kernel", i + 5);
        }
    }
    text.push_str("}\n");
    text
}
