//! Events across versions in the generated code: the schema version each event carries, the
//! serde defaults that read older payloads, and the upcasters for the steps defaults cannot
//! bridge (see [`crate::history`]).
//!
//! An upcaster of a published event is shared by the context's aggregate (reading its
//! stream) and the contracts crate (other contexts reading the bus): both decode the same
//! payload, and the contracts crate cannot see the service's code, so it lives there. An
//! upcaster of an event no other context reads lives beside its aggregate. Each step between
//! two versions is a file of its own, written once and owned by a person, so that a later
//! step gets a fresh stub instead of a file that exists already; the generated chain runs
//! the steps an old payload needs, oldest first.

use ddd_model::ir::{Context, Event, Field};
use ddd_names as names;
use serde::Serialize;

use crate::expr::{Arithmetic, Writer};
use crate::history::{EventHistory, FieldSchema, History};
use crate::rust::Scope;

/// A field's default as the function serde calls when an older payload lacks the field.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DefaultView {
    /// `default_order_cancelled_cancelled_by`
    name: String,
    event: String,
    field: String,
    ty: String,
    value: String,
}

/// The generated chain of an event's upcast steps: `fn <snake>(from, payload)`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChainView {
    snake: String,
    event: String,
    version: u32,
    steps: Vec<StepView>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepView {
    /// The module of the step's file: `order_cancelled_v2`.
    module: String,
    from: u32,
    to: u32,
}

/// The user's file of one step, for the `upcast` template.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepFile {
    /// The directory of the module holding the chain: `services/ordering/src/order`.
    dir: String,
    module: String,
    event: String,
    from: u32,
    to: u32,
    /// `reason: String` per field of the older version, and of the newer.
    old: Vec<String>,
    new: Vec<String>,
    /// Fields of the older version that may be missing from its payloads (they have a
    /// default there).
    optional: Vec<String>,
}

/// Where an event's upcaster lives.
enum Home<'a> {
    /// Beside its aggregate: `services/<context>/src/<aggregate>/upcast/`.
    Aggregate {
        context: &'a Context,
        module: String,
    },
    /// In the contracts crate: `contracts/src/<context>/upcast/`.
    Contracts { context: &'a Context },
}

impl Home<'_> {
    fn of<'a>(context: &'a Context, aggregate: &str, event: &Event) -> Home<'a> {
        if context.publishes(&event.name) {
            Home::Contracts { context }
        } else {
            Home::Aggregate {
                context,
                module: names::module(aggregate),
            }
        }
    }

    fn dir(&self) -> String {
        match self {
            Home::Aggregate { context, module } => {
                format!("services/{}/src/{module}", names::kebab(&context.name))
            }
            Home::Contracts { context } => {
                format!("contracts/src/{}", names::module(&context.name))
            }
        }
    }
}

/// `#[event(version = N)]`, with `upcast = <chain>` when a step needs code; empty for a
/// first version that needs nothing (the derive's default).
pub(crate) fn event_attr(
    history: &History,
    context: &Context,
    aggregate: &str,
    event: &Event,
    in_contracts: bool,
) -> String {
    let chain = chain(history, context, aggregate, event).map(|chain| {
        let path = match (Home::of(context, aggregate, event), in_contracts) {
            (Home::Contracts { .. }, true) => format!("upcast::{}", chain.snake),
            (Home::Contracts { context }, false) => format!(
                "::contracts::{}::upcast::{}",
                names::module(&context.name),
                chain.snake
            ),
            (Home::Aggregate { .. }, _) => format!("upcast::{}", chain.snake),
        };
        format!(", upcast = {path}")
    });
    if event.version == 1 && chain.is_none() {
        return String::new();
    }
    format!(
        "#[event(version = {}{})]",
        event.version,
        chain.unwrap_or_default()
    )
}

/// The chain of an event whose recorded history has steps that need code.
pub(crate) fn chain(
    history: &History,
    context: &Context,
    aggregate: &str,
    event: &Event,
) -> Option<ChainView> {
    let recorded = history.of(context, aggregate, &event.name)?;
    let steps: Vec<StepView> = recorded
        .upcast_steps()
        .into_iter()
        .filter(|&to| to <= event.version)
        .filter_map(|to| {
            let (from, _) = recorded.before(to)?;
            Some(StepView {
                module: step_module(event, to),
                from,
                to,
            })
        })
        .collect();
    (!steps.is_empty()).then(|| ChainView {
        snake: names::ident(&event.name),
        event: event.name.to_string(),
        version: event.version,
        steps,
    })
}

fn step_module(event: &Event, to: u32) -> String {
    format!("{}_v{to}", names::snake(&event.name))
}

/// The chains whose upcasters live beside `aggregate`.
pub(crate) fn aggregate_chains(
    history: &History,
    context: &Context,
    aggregate: &ddd_model::ir::Aggregate,
) -> Vec<ChainView> {
    aggregate
        .events
        .iter()
        .filter(|event| !context.publishes(&event.name))
        .filter_map(|event| chain(history, context, &aggregate.name, event))
        .collect()
}

/// The chains of the events `context` publishes, for its module of the contracts crate.
pub(crate) fn published_chains(history: &History, context: &Context) -> Vec<ChainView> {
    context
        .publishes
        .iter()
        .filter_map(|name| {
            let (aggregate, event) = context.event(name)?;
            chain(history, context, &aggregate.name, event)
        })
        .collect()
}

/// Every step file of the system: one per step that needs code.
pub(crate) fn step_files(history: &History, system: &ddd_model::System) -> Vec<StepFile> {
    let mut files = Vec::new();
    for context in &system.contexts {
        for aggregate in &context.aggregates {
            for event in &aggregate.events {
                let Some(recorded) = history.of(context, &aggregate.name, &event.name) else {
                    continue;
                };
                let Some(chain) = chain(history, context, &aggregate.name, event) else {
                    continue;
                };
                let dir = Home::of(context, &aggregate.name, event).dir();
                files.extend(
                    chain
                        .steps
                        .iter()
                        .filter_map(|step| step_file(&dir, event, recorded, step)),
                );
            }
        }
    }
    files
}

fn step_file(
    dir: &str,
    event: &Event,
    recorded: &EventHistory,
    step: &StepView,
) -> Option<StepFile> {
    let old = recorded.versions.get(&step.from)?;
    let new = recorded.versions.get(&step.to)?;
    let show = |fields: &[FieldSchema]| -> Vec<String> {
        fields
            .iter()
            .map(|f| match &f.default {
                Some(default) => format!("{}: {} = {default}", f.name, f.ty),
                None => format!("{}: {}", f.name, f.ty),
            })
            .collect()
    };
    Some(StepFile {
        dir: dir.to_owned(),
        module: step.module.clone(),
        event: event.name.to_string(),
        from: step.from,
        to: step.to,
        old: show(&old.fields),
        new: show(&new.fields),
        optional: old
            .fields
            .iter()
            .filter(|f| f.default.is_some() || f.ty.starts_with("Option<"))
            .map(|f| f.name.clone())
            .collect(),
    })
}

/// The default functions of an event's fields that have one, and per field its serde
/// attribute (empty without a default).
pub(crate) fn defaults(scope: &Scope<'_>, event: &Event) -> (Vec<DefaultView>, Vec<String>) {
    let mut functions = Vec::new();
    let attrs = event
        .fields
        .iter()
        .map(|field| match default_view(scope, event, field) {
            Some(view) => {
                let attr = format!("#[serde(default = {:?})]", view.name);
                functions.push(view);
                attr
            }
            None => String::new(),
        })
        .collect();
    (functions, attrs)
}

fn default_view(scope: &Scope<'_>, event: &Event, field: &Field) -> Option<DefaultView> {
    let typed = field.default.as_ref()?.checked()?;
    Some(DefaultView {
        name: format!(
            "default_{}_{}",
            names::snake(&event.name),
            names::snake(&field.name)
        ),
        event: event.name.to_string(),
        field: field.name.to_string(),
        ty: scope.ty(&field.ty),
        value: Writer::new(scope, Arithmetic::Saturating, "state").value(typed),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::history::{self, History};
    use crate::{File, Options, Owner, Runtime, workspace_with_history};

    const MODEL: &str = "system Evolving\ncontext Sales {\n  aggregate Deal {\n    command Open(note: String) creates emits Opened\n    EVENT\n  }\n  publishes PUBLISHED\n}\n";

    /// The files of the model with `event` (and `published` published), generated over
    /// `recorded`, and the history they record.
    fn generate(event: &str, published: &str, recorded: &History) -> (Vec<File>, History) {
        let publishes = if published.is_empty() {
            String::new()
        } else {
            format!("  publishes {published}\n")
        };
        let model = MODEL
            .replace("EVENT", event)
            .replace("  publishes PUBLISHED\n", &publishes);
        let system = ddd_model::load(&model, ddd_model::Format::Ddd)
            .map_err(|rejected| format!("{rejected:?}"))
            .expect("a valid model")
            .system;
        let options = Options {
            model: "evolving.ddd".into(),
            runtime: Runtime::Path(PathBuf::from("/ddd")),
            templates: None,
        };
        let files = workspace_with_history(&system, &options, recorded).expect("it generates");
        let text = &file(&files, history::EVENTS).contents;
        let history = History::parse(text).expect("the history reads back");
        (files, history)
    }

    fn file<'a>(files: &'a [File], path: &str) -> &'a File {
        files
            .iter()
            .find(|f| f.path == std::path::Path::new(path))
            .unwrap_or_else(|| panic!("no {path}"))
    }

    fn stubs(files: &[File]) -> Vec<String> {
        files
            .iter()
            .filter(|f| f.path.components().any(|c| c.as_os_str() == "upcast"))
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_default_needs_no_code_and_a_retyped_field_gets_a_stub_of_its_own() {
        let (_, v1) = generate("event Opened(note: String)", "Opened", &History::default());
        let (files, v2) = generate(
            r#"event Opened v2(note: String, by: String = "me")"#,
            "Opened",
            &v1,
        );
        assert_eq!(stubs(&files), Vec::<String>::new());
        let aggregate = &file(&files, "services/sales/src/deal/mod.rs").contents;
        assert!(aggregate.contains("#[event(version = 2)]"), "{aggregate}");
        assert!(
            aggregate.contains(r#"#[serde(default = "default_opened_by")]"#),
            "{aggregate}"
        );
        let contracts = &file(&files, "contracts/src/lib.rs").contents;
        assert!(contracts.contains("#[event(version = 2)]"), "{contracts}");

        let (files, _) = generate(
            r#"event Opened v3(note: u64, by: String = "me")"#,
            "Opened",
            &v2,
        );
        let stub = "contracts/src/sales/upcast/opened_v3.rs";
        assert_eq!(stubs(&files), [stub]);
        assert_eq!(file(&files, stub).owner, Owner::User);
        assert!(
            file(&files, stub)
                .contents
                .contains("no upcaster from v2 to v3")
        );
        let aggregate = &file(&files, "services/sales/src/deal/mod.rs").contents;
        assert!(
            aggregate
                .contains("#[event(version = 3, upcast = ::contracts::sales::upcast::opened)]"),
            "{aggregate}"
        );
        let contracts = &file(&files, "contracts/src/lib.rs").contents;
        assert!(
            contracts.contains("#[event(version = 3, upcast = upcast::opened)]")
                && contracts.contains("if from < 3"),
            "{contracts}"
        );
        // The AsyncAPI document keeps the versions a reader may still meet.
        let asyncapi = &file(&files, "docs/asyncapi.yaml").contents;
        for version in ["Sales.Opened.v1:", "Sales.Opened.v2:", "x-version: 3"] {
            assert!(asyncapi.contains(version), "{version}\n{asyncapi}");
        }
    }

    #[test]
    fn an_event_no_other_context_reads_keeps_its_upcaster_beside_its_aggregate() {
        let (_, v1) = generate("event Opened(note: String)", "", &History::default());
        let (files, _) = generate("event Opened v2(text: String)", "", &v1);
        assert_eq!(
            stubs(&files),
            ["services/sales/src/deal/upcast/opened_v2.rs"]
        );
        let aggregate = &file(&files, "services/sales/src/deal/mod.rs").contents;
        assert!(
            aggregate.contains("#[event(version = 2, upcast = upcast::opened)]")
                && aggregate.contains("mod opened_v2;"),
            "{aggregate}"
        );
    }
}
