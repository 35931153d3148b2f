//! A model made of several files: `import`, read through an in-memory loader.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use ddd_model::diagnostic::{self, Code, Diagnostic, Severity};
use ddd_model::sources::{self, Outcome};
use ddd_model::{Format, Sources};

const ROOT: &str = r#"// The shop, a file per context.
system Shop

import "kernel.ddd"
import "contexts/sales.ddd"
import "contexts/billing.ddd"

map {
  Sales [published-language] -> Billing : customer-supplier
}
"#;

const KERNEL: &str = r#"/// Money in minor units, shared by every context.
value Money {
  amount_cents: i64 @range(0..)
  currency: String @len(3)
}

/// How many of one product.
type Quantity = u32 @range(1..=99)
"#;

const SALES: &str = r#"/// Orders, from placement on.
context Sales : core {
  aggregate Order {
    customer: Uuid
    total: Money
    quantity: Quantity

    command PlaceOrder(customer: Uuid, total: Money, quantity: Quantity) creates emits OrderPlaced
    event OrderPlaced(customer: Uuid, total: Money, quantity: Quantity)
  }

  publishes OrderPlaced
}
"#;

const BILLING: &str = r#"import "../kernel.ddd"

/// Invoices for placed orders.
context Billing : supporting {
  aggregate Invoice {
    order: OrderId
    amount: Money

    command OpenInvoice(order: OrderId, amount: Money) creates emits InvoiceOpened
    event InvoiceOpened(order: OrderId, amount: Money)
  }

  on Sales.OrderPlaced run Invoice.OpenInvoice with amount = total
}
"#;

/// Files in memory; every read is recorded.
struct Disk {
    files: BTreeMap<PathBuf, String>,
    reads: RefCell<Vec<PathBuf>>,
}

impl Disk {
    fn new(files: &[(&str, &str)]) -> Disk {
        Disk {
            files: files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
                .collect(),
            reads: RefCell::new(Vec::new()),
        }
    }

    fn shop() -> Disk {
        Disk::new(&[
            ("shop.ddd", ROOT),
            ("kernel.ddd", KERNEL),
            ("contexts/sales.ddd", SALES),
            ("contexts/billing.ddd", BILLING),
        ])
    }

    fn with(mut self, path: &str, text: &str) -> Disk {
        self.files.insert(PathBuf::from(path), text.to_owned());
        self
    }

    fn load(&self, root: &str) -> Outcome {
        self.load_as(root, Format::Ddd).expect("the root is there")
    }

    fn load_as(&self, root: &str, format: Format) -> io::Result<Outcome> {
        sources::load(Path::new(root), format, |path| {
            self.reads.borrow_mut().push(path.to_path_buf());
            self.files
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        })
    }

    fn reads(&self) -> Vec<String> {
        let reads = self.reads.borrow();
        reads.iter().map(|p| p.display().to_string()).collect()
    }
}

fn rejected(outcome: &Outcome) -> &[Diagnostic] {
    match &outcome.result {
        Ok(_) => panic!("the model must be rejected"),
        Err(rejected) => &rejected.diagnostics,
    }
}

/// The one diagnostic of a rejected model, and where it is.
fn the_one(outcome: &Outcome) -> (&Diagnostic, (&str, usize, usize)) {
    let diagnostics = rejected(outcome);
    assert_eq!(diagnostics.len(), 1, "{}", rendered(outcome));
    let at = outcome.sources.line_col(&diagnostics[0]).expect("located");
    (&diagnostics[0], at)
}

fn rendered(outcome: &Outcome) -> String {
    let diagnostics = match &outcome.result {
        Ok(loaded) => &loaded.diagnostics,
        Err(rejected) => &rejected.diagnostics,
    };
    diagnostic::render_to_string(&outcome.sources, diagnostics)
}

/// The four files as one, in the order the files are merged.
fn one_file() -> String {
    [ROOT, KERNEL, SALES, BILLING]
        .iter()
        .flat_map(|text| text.lines())
        .filter(|line| !line.starts_with("import "))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn a_model_over_several_files_equals_it_in_one() {
    let disk = Disk::shop();
    let outcome = disk.load("shop.ddd");
    let split = outcome
        .result
        .unwrap_or_else(|_| panic!("accepted:\n{}", rendered(&disk.load("shop.ddd"))));
    let single = ddd_model::load(&one_file(), Format::Ddd).expect("accepted in one file");
    assert_eq!(split.system, single.system);
    let summary = |diagnostics: &[Diagnostic]| -> Vec<(Severity, Code, String)> {
        diagnostics
            .iter()
            .map(|d| (d.severity, d.code, d.message.clone()))
            .collect()
    };
    assert_eq!(summary(&split.diagnostics), summary(&single.diagnostics));
    let contexts: Vec<&str> = split
        .system
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(contexts, ["Sales", "Billing"]);
}

#[test]
fn each_file_is_read_once_and_has_a_range_of_its_own() {
    let disk = Disk::shop();
    let outcome = disk.load("shop.ddd");
    assert!(outcome.result.is_ok(), "{}", rendered(&outcome));
    // Depth first: billing's import of the kernel finds it read already.
    assert_eq!(
        disk.reads(),
        [
            "shop.ddd",
            "kernel.ddd",
            "contexts/sales.ddd",
            "contexts/billing.ddd"
        ]
    );
    let files = outcome.sources.files();
    let names: Vec<&str> = files.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "shop.ddd",
            "kernel.ddd",
            "contexts/sales.ddd",
            "contexts/billing.ddd"
        ]
    );
    for pair in files.windows(2) {
        assert!(pair[0].base() as usize + pair[0].text().len() < pair[1].base() as usize);
    }
    // The names of the model point into their own files.
    let system = outcome.result.expect("accepted").system;
    let invoice = &system.contexts[1].aggregates[0].name;
    let span = invoice.span().expect("located");
    assert_eq!(outcome.sources.text(span), Some("Invoice"));
    let (file, _) = outcome.sources.locate(span).expect("in a file");
    assert_eq!(files[file].name(), "contexts/billing.ddd");
}

#[test]
fn an_error_in_an_imported_file_names_that_file_and_line() {
    let disk = Disk::shop().with(
        "contexts/billing.ddd",
        &BILLING.replace("amount: Money\n", "amount: Mony\n"),
    );
    let outcome = disk.load("shop.ddd");
    let errors: Vec<_> = rejected(&outcome).iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{}", rendered(&outcome));
    assert_eq!(errors[0].code, Code::UnknownType);
    assert_eq!(
        outcome.sources.line_col(errors[0]),
        Some(("contexts/billing.ddd", 7, 13))
    );
    let text = rendered(&outcome);
    assert!(text.contains("┌─ contexts/billing.ddd:7:13"), "{text}");
    assert!(text.contains("7 │     amount: Mony"), "{text}");
    assert!(text.contains("did you mean `Money`?"), "{text}");
}

#[test]
fn a_diagnostic_may_point_into_two_files() {
    let disk = Disk::shop().with(
        "contexts/billing.ddd",
        &BILLING.replace("context Billing", "context Sales"),
    );
    let outcome = disk.load("shop.ddd");
    let duplicate = rejected(&outcome)
        .iter()
        .find(|d| d.code == Code::DuplicateName)
        .unwrap_or_else(|| panic!("a duplicate:\n{}", rendered(&outcome)));
    assert_eq!(
        outcome.sources.line_col(duplicate),
        Some(("contexts/billing.ddd", 4, 9))
    );
    let text = diagnostic::render_to_string(&outcome.sources, std::slice::from_ref(duplicate));
    assert!(text.contains("┌─ contexts/billing.ddd:4:9"), "{text}");
    assert!(text.contains("┌─ contexts/sales.ddd:2:9"), "{text}");
}

#[test]
fn a_missing_file_is_an_error_at_its_import() {
    let disk = Disk::shop().with(
        "contexts/sales.ddd",
        &format!("import \"payments.ddd\"\n{SALES}"),
    );
    let outcome = disk.load("shop.ddd");
    // Only that: the names the file would have defined are not reported unknown elsewhere.
    let (diagnostic, at) = the_one(&outcome);
    assert_eq!(diagnostic.code, Code::Import);
    assert_eq!(diagnostic.message, "cannot read `contexts/payments.ddd`");
    assert_eq!(at, ("contexts/sales.ddd", 1, 1));
    let text = rendered(&outcome);
    assert!(text.contains("= note: no such file"), "{text}");
}

#[test]
fn a_missing_root_is_an_io_error() {
    let error = Disk::shop()
        .load_as("nowhere.ddd", Format::Ddd)
        .expect_err("no root");
    assert_eq!(error.kind(), io::ErrorKind::NotFound);
}

#[test]
fn an_import_cycle_is_an_error_at_the_import_that_closes_it() {
    let disk = Disk::new(&[
        ("shop.ddd", "system Shop\nimport \"a.ddd\"\n"),
        ("a.ddd", "import \"b.ddd\"\nvalue A { x: u32 }\n"),
        ("b.ddd", "value B { x: u32 }\nimport \"a.ddd\"\n"),
    ]);
    let outcome = disk.load("shop.ddd");
    let (diagnostic, at) = the_one(&outcome);
    assert_eq!(diagnostic.code, Code::Import);
    assert_eq!(
        diagnostic.message,
        "import cycle: `a.ddd` → `b.ddd` → `a.ddd`"
    );
    assert_eq!(at, ("b.ddd", 2, 1));
    let text = rendered(&outcome);
    assert!(text.contains("┌─ a.ddd:1:1"), "the chain is shown:\n{text}");
    assert_eq!(disk.reads(), ["shop.ddd", "a.ddd", "b.ddd"]);
}

#[test]
fn a_file_importing_itself_or_the_root_closes_a_cycle() {
    let disk = Disk::new(&[
        ("shop.ddd", "system Shop\nimport \"a.ddd\"\n"),
        ("a.ddd", "import \"./a.ddd\"\nimport \"shop.ddd\"\n"),
    ]);
    let outcome = disk.load("shop.ddd");
    let messages: Vec<&str> = rejected(&outcome)
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "`a.ddd` imports itself",
            "import cycle: `shop.ddd` → `a.ddd` → `shop.ddd`"
        ]
    );
}

#[test]
fn the_same_file_imported_twice_is_read_once() {
    // By two files (the kernel, by the root and by billing: see the shop), and by one file
    // under two names, which is worth a warning.
    let disk = Disk::shop().with(
        "shop.ddd",
        &ROOT.replace(
            "import \"kernel.ddd\"\n",
            "import \"kernel.ddd\"\nimport \"contexts/../kernel.ddd\"\n",
        ),
    );
    let outcome = disk.load("shop.ddd");
    let Ok(loaded) = &outcome.result else {
        panic!("accepted:\n{}", rendered(&outcome));
    };
    assert_eq!(
        disk.reads().iter().filter(|p| *p == "kernel.ddd").count(),
        1
    );
    assert_eq!(loaded.system.values.len(), 1);
    let warnings: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].message, "`kernel.ddd` is imported twice");
    assert_eq!(
        outcome.sources.line_col(warnings[0]),
        Some(("shop.ddd", 5, 1))
    );
}

#[test]
fn only_the_root_declares_the_system() {
    let disk = Disk::shop().with("kernel.ddd", &format!("system Kernel\n{KERNEL}"));
    let outcome = disk.load("shop.ddd");
    let (diagnostic, at) = the_one(&outcome);
    assert_eq!(diagnostic.code, Code::SystemPlacement);
    assert_eq!(at, ("kernel.ddd", 1, 1));
    let text = rendered(&outcome);
    assert!(
        text.contains("┌─ shop.ddd:4:1"),
        "where it was imported:\n{text}"
    );
}

#[test]
fn an_import_before_the_system_is_out_of_place() {
    let disk = Disk::shop().with(
        "shop.ddd",
        "import \"kernel.ddd\"\nsystem Shop\nimport \"contexts/sales.ddd\"\nimport \"contexts/billing.ddd\"\n",
    );
    let outcome = disk.load("shop.ddd");
    let codes: Vec<Code> = rejected(&outcome).iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::SystemPlacement], "{}", rendered(&outcome));
}

#[test]
fn only_ddd_files_are_imported() {
    let disk = Disk::shop().with("shop.ddd", &format!("{ROOT}import \"catalog.json\"\n"));
    let outcome = disk.load("shop.ddd");
    let (diagnostic, at) = the_one(&outcome);
    assert_eq!(diagnostic.message, "cannot import `catalog.json`");
    assert_eq!(at, ("shop.ddd", 11, 1));
    assert!(!disk.reads().contains(&"catalog.json".to_owned()));
}

#[test]
fn an_imported_file_that_is_not_utf8_is_located_in_it() {
    let outcome = sources::load(Path::new("shop.ddd"), Format::Ddd, |path| {
        Ok(match path.to_str() {
            Some("shop.ddd") => b"system Shop\nimport \"kernel.ddd\"\n".to_vec(),
            _ => b"value Money {\n  \xff\n}\n".to_vec(),
        })
    })
    .expect("the root is there");
    let (diagnostic, at) = the_one(&outcome);
    assert_eq!(diagnostic.message, "the file is not valid UTF-8");
    assert_eq!(at, ("kernel.ddd", 2, 3));
}

#[test]
fn a_model_read_from_one_text_cannot_import() {
    let rejected = ddd_model::load(ROOT, Format::Ddd).expect_err("nothing to import from");
    let imports: Vec<_> = rejected
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::Import)
        .collect();
    assert_eq!(imports.len(), 3);
    assert_eq!(imports[0].line_col(ROOT), Some((4, 1)));
}

#[test]
fn a_json_model_is_one_file() {
    let json = serde_json::to_string(
        &ddd_model::load(&one_file(), Format::Ddd)
            .expect("accepted")
            .system,
    )
    .expect("serializes");
    let outcome = Disk::new(&[("shop.json", &json)])
        .load_as("shop.json", Format::Json)
        .expect("the root is there");
    assert!(outcome.result.is_ok());
    assert_eq!(outcome.sources.files().len(), 1);
}

#[test]
fn one_text_renders_as_before() {
    let text = "system Shop\ncontext Sales {\n  aggregate Order { x: Nope }\n}\n";
    let rejected = ddd_model::load(text, Format::Ddd).expect_err("unknown type");
    let one = diagnostic::render_to_string(
        ddd_model::SourceFile {
            name: "m.ddd",
            text,
        },
        &rejected.diagnostics,
    );
    let many = diagnostic::render_to_string(&Sources::single("m.ddd", text), &rejected.diagnostics);
    assert_eq!(one, many);
    assert!(one.contains("┌─ m.ddd:3:24"), "{one}");
}
