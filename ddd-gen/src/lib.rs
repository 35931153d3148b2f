//! The ddd generator: a checked model in, the files of its Cargo workspace out.
//!
//! [`workspace`] turns the model into the views templates read ([`view`]), renders every
//! template of the tree (`templates/workspace/`, see [`templates`]) once per thing it is
//! for, and formats the Rust it wrote ([`format`]); [`write`] puts the files on disk with
//! the generation gap (generated files always rewritten, user-owned files created once) and
//! a manifest of hashes that notices a generated file a person edited. [`starter`] is the
//! model `ddd new` starts a service from, and the cargo-generate template made from it.

mod asyncapi;
mod chains;
mod evolution;
mod expr;
pub mod format;
pub mod history;
mod openapi;
mod parallel;
mod read;
mod runtime;
mod rust;
mod schemas;
mod simulate;
pub mod starter;
pub mod templates;
mod view;
pub mod write;

use std::collections::BTreeSet;
use std::path::PathBuf;

use ddd_model::System;
use ddd_model::ir::{Context, TypePath};
use ddd_names as names;
use serde::Serialize;
use serde_json::json;

use self::history::History;
pub use self::runtime::{Runtime, RuntimeError};
use self::rust::{Crate, Scope};
pub use self::templates::TemplateError;
use self::templates::{Each, Engine, Template};
use self::view::Names;

/// Who owns a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// Rewritten on every run; the manifest holds its hash.
    Generated,
    /// Written once, when missing; never overwritten.
    User,
}

/// One file of the output, relative to the output directory.
#[derive(Debug, Clone)]
pub struct File {
    pub path: PathBuf,
    pub contents: String,
    pub owner: Owner,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The model's file name, for the header of generated files.
    pub model: String,
    /// Where the generated crates find ddd's own.
    pub runtime: Runtime,
    /// A directory whose `.tera` files replace the embedded templates of the same path.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template `{template}` wrote Rust that does not parse:\n{message}")]
    InvalidRust { template: String, message: String },
    #[error("templates `{first}` and `{second}` both write `{}`", path.display())]
    Collision {
        path: PathBuf,
        first: String,
        second: String,
    },
    /// The model does not follow from the events' recorded versions (a version went down);
    /// located in the model, for the caller to show like a model's own errors.
    #[error("{} event(s) of the model go below the version this workspace recorded", .0.len())]
    Evolution(Vec<ddd_model::Diagnostic>),
}

#[derive(Debug, Serialize)]
struct ContextNames {
    name: String,
    /// The field holding the context where one struct holds them all: `ordering`.
    field: String,
    doc: Option<String>,
    dir: String,
    crate_name: String,
    lib: String,
    env: String,
    port: usize,
    /// Where the monolith mounts the context's routes (see [`monolith_prefixes`]).
    prefix: String,
    /// Its views, for the README: name, route, filters and sorts.
    views: Vec<ViewRoute>,
}

#[derive(Debug, Serialize)]
struct ViewRoute {
    name: String,
    /// The field of the context's `Views` holding its handle.
    field: String,
    route: String,
    filters: Vec<String>,
    sorts: Vec<String>,
}

fn view_routes(context: &Context) -> Vec<ViewRoute> {
    context
        .views
        .iter()
        .map(|view| ViewRoute {
            name: view.name.to_string(),
            field: read::handle_field(view),
            route: view.route(),
            filters: view
                .fields
                .iter()
                .filter(|f| f.filter)
                .map(|f| f.name.to_string())
                .collect(),
            sorts: view
                .fields
                .iter()
                .filter(|f| f.sort)
                .map(|f| f.name.to_string())
                .collect(),
        })
        .collect()
}

fn context_names(system: &System, index: usize, context: &Context, prefix: String) -> ContextNames {
    ContextNames {
        name: context.name.to_string(),
        field: names::ident(&context.name),
        doc: context.doc.clone(),
        dir: names::kebab(&context.name),
        crate_name: names::service_package(&system.name, &context.name),
        lib: names::service_lib(&system.name, &context.name),
        env: names::env_prefix(&context.name),
        port: port(index),
        prefix,
        views: view_routes(context),
    }
}

/// Where the monolith mounts each context's routes: at the root, unless two contexts have an
/// aggregate or a view of the same route (`Catalog.Product`, `Inventory.Product`: both
/// `/products`); then each of those contexts is mounted under `/<context>`. The services
/// keep their routes at the root either way.
pub(crate) fn monolith_prefixes(system: &System) -> Vec<String> {
    let routes = |context: &Context| -> BTreeSet<String> {
        context
            .aggregates
            .iter()
            .map(|a| names::route(&a.name))
            .chain(context.views.iter().map(ddd_model::ir::View::route))
            .collect()
    };
    let all: Vec<BTreeSet<String>> = system.contexts.iter().map(routes).collect();
    all.iter()
        .enumerate()
        .map(|(c, mine)| {
            let shared = all
                .iter()
                .enumerate()
                .any(|(other, theirs)| other != c && !mine.is_disjoint(theirs));
            if shared {
                format!("/{}", names::kebab(&system.contexts[c].name))
            } else {
                String::new()
            }
        })
        .collect()
}

/// Each context with its subdomain kind, for the context map's table.
fn subdomains(system: &System) -> Vec<serde_json::Value> {
    system
        .contexts
        .iter()
        .map(|c| {
            let summary = c.doc.as_deref().and_then(|doc| doc.lines().next());
            json!({
                "name": c.name.as_str(),
                "kind": c.kind.map(|k| k.as_str()),
                "summary": summary,
            })
        })
        .collect()
}

/// The context map's relations with the roles of each side, as written in the model.
fn relations(system: &System) -> Vec<serde_json::Value> {
    let roles = |kinds: &[ddd_model::ir::RelationKind]| -> Vec<&str> {
        kinds.iter().map(|k| k.as_str()).collect()
    };
    system
        .relations
        .iter()
        .map(|r| {
            json!({
                "from": r.from.as_str(),
                "to": r.to.as_str(),
                "arrow": if r.both_ways { "<->" } else { "->" },
                "kind": r.kind.as_str(),
                "from_roles": roles(&r.from_roles),
                "to_roles": roles(&r.to_roles),
            })
        })
        .collect()
}

/// Every lifecycle of the model with its state diagram.
fn lifecycles(system: &System) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for context in &system.contexts {
        for aggregate in &context.aggregates {
            for lifecycle in &aggregate.lifecycles {
                all.push(json!({
                    "context": context.name.as_str(),
                    "aggregate": aggregate.name.as_str(),
                    "field": lifecycle.field.as_str(),
                    "diagram": ddd_model::graph::lifecycle_mermaid(system, aggregate, lifecycle),
                }));
            }
        }
    }
    all
}

/// A rendered file and the template that wrote it.
struct Rendered {
    template: String,
    file: File,
}

/// Every file of the workspace for `system`, sorted by path, for a workspace generated for the
/// first time (see [`workspace_with_history`]).
pub fn workspace(system: &System, options: &Options) -> Result<Vec<File>, GenerateError> {
    workspace_with_history(system, options, &History::default())
}

/// Every file of the workspace for `system`, sorted by path, where `recorded` is the history
/// of the events' versions the workspace was generated with so far
/// ([`history::EVENTS`]): the new history is one of the files, and the steps between two
/// versions that need code get their upcaster stubs.
pub fn workspace_with_history(
    system: &System,
    options: &Options,
    recorded: &History,
) -> Result<Vec<File>, GenerateError> {
    let history = recorded.update(system).map_err(GenerateError::Evolution)?;
    let engine = Engine::new(options.templates.as_deref())?;
    let header = format!(
        "@generated by `ddd generate` from {}: do not edit, changes are overwritten.",
        options.model
    );
    let prefixes = monolith_prefixes(system);
    let contexts: Vec<ContextNames> = system
        .contexts
        .iter()
        .zip(&prefixes)
        .enumerate()
        .map(|(i, (c, prefix))| context_names(system, i, c, prefix.clone()))
        .collect();
    let ports: Vec<usize> = contexts.iter().map(|c| c.port).collect();
    let contract_types = view::contract_types(system);
    let globals = json!({
        "n": Names::of(system),
        "header": header,
        "model": options.model,
        "runtime": options.runtime.dependencies(),
        "runtime_spec": options.runtime.to_string(),
        "contexts": contexts,
        "contracts": contracts_view(system, &contract_types, &history),
        "map": ddd_model::graph::mermaid(system),
        "event_flow": ddd_model::graph::event_flow_mermaid(system),
        "subdomains": subdomains(system),
        "relations": relations(system),
        "lifecycles": lifecycles(system),
        "chains": chains::file(system, &contract_types),
    });
    let globals = tera_context(&globals)?;
    // The API documents are a third of the work at 1,000 aggregates and only the templates
    // that read them wait for them: everything else is rendered and formatted meanwhile.
    let documented = |template: &Template| template.reads_any(DOCUMENTS);
    std::thread::scope(|scope| {
        let documents = scope.spawn(|| {
            let (services, app) = openapi::documents(system, &ports, &prefixes, &header);
            (services, app, asyncapi::document(system, &header, &history))
        });
        let jobs: Vec<(&Context, &ContextNames)> = system.contexts.iter().zip(&contexts).collect();
        let views = parallel::map(&jobs, |(context, names)| {
            context_view(system, context, names, &contract_types, &history)
        });
        let steps: Vec<tera::Value> = evolution::step_files(&history, system)
            .iter()
            .map(templates::value)
            .collect();
        let mut rendered = render(&engine, &globals, &views, None, &|t| !documented(t))?;
        render_steps(&engine, &globals, &steps, &mut rendered)?;
        rendered.push(Rendered {
            template: "(history)".to_owned(),
            file: File {
                path: PathBuf::from(history::EVENTS),
                contents: history.to_text(&header),
                owner: Owner::Generated,
            },
        });
        format_rust(&mut rendered)?;
        let (service_documents, app_document, asyncapi) = documents
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let mut globals = globals;
        globals.insert("app_openapi", &app_document);
        globals.insert("asyncapi", &asyncapi);
        let mut late = render(
            &engine,
            &globals,
            &views,
            Some(&service_documents),
            &documented,
        )?;
        format_rust(&mut late)?;
        rendered.append(&mut late);
        rendered.extend(site_files(system, &header, &service_documents, &asyncapi));
        sorted(rendered)
    })
}

/// Where the catalog of the system (`ddd docs`) goes in a workspace.
const SITE_DIR: &str = "docs/site";

/// The catalog of the system as generated files of the workspace, from the API documents
/// made for it.
fn site_files(system: &System, header: &str, openapi: &[String], asyncapi: &str) -> Vec<Rendered> {
    let documents = ddd_docs::Documents {
        header,
        openapi,
        asyncapi,
    };
    ddd_docs::site(system, &documents)
        .into_iter()
        .map(|page| Rendered {
            template: "(ddd docs)".to_owned(),
            file: File {
                path: PathBuf::from(SITE_DIR).join(&page.path),
                contents: page.contents,
                owner: Owner::Generated,
            },
        })
        .collect()
}

/// The catalog of the system (`ddd docs`): the static site of [`ddd_docs::site`] with the
/// OpenAPI and AsyncAPI documents `ddd generate` writes, `header` their first comment.
pub fn docs_site(system: &System, header: &str) -> Vec<ddd_docs::Page> {
    let (openapi, asyncapi) = api_documents(system, header);
    ddd_docs::site(
        system,
        &ddd_docs::Documents {
            header,
            openapi: &openapi,
            asyncapi: &asyncapi,
        },
    )
}

/// Each context's OpenAPI document, in the model's order, and the AsyncAPI document, as the
/// workspace has them.
pub fn api_documents(system: &System, header: &str) -> (Vec<String>, String) {
    let ports: Vec<usize> = (0..system.contexts.len()).map(port).collect();
    std::thread::scope(|scope| {
        let asyncapi = scope.spawn(|| asyncapi::document(system, header, &History::default()));
        let services = openapi::service_documents(system, &ports, header);
        let asyncapi = asyncapi
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (services, asyncapi)
    })
}

/// A context's default HTTP port, by its place in the model.
fn port(index: usize) -> usize {
    8081 + index
}

/// The variables of the API documents, which are made beside the rest.
const DOCUMENTS: &[&str] = &["openapi", "app_openapi", "asyncapi"];

fn tera_context(value: &serde_json::Value) -> Result<tera::Context, GenerateError> {
    tera::Context::from_serialize(value).map_err(|error| {
        GenerateError::Template(TemplateError::Render {
            name: "(variables)".into(),
            message: error.to_string(),
        })
    })
}

/// The files of the templates `wanted` picks: the system's, then each context's (with its
/// service's OpenAPI document when `documents` are there).
fn render(
    engine: &Engine,
    globals: &tera::Context,
    views: &[ContextView],
    documents: Option<&[String]>,
    wanted: &(dyn Fn(&Template) -> bool + Sync),
) -> Result<Vec<Rendered>, GenerateError> {
    let mut rendered = Vec::new();
    let system = engine
        .templates()
        .iter()
        .filter(|t| t.each == Each::System && wanted(t));
    for template in system {
        render_one(engine, template, globals, &mut rendered)?;
    }
    let indexed: Vec<(usize, &ContextView)> = views.iter().enumerate().collect();
    let per_context = parallel::map(&indexed, |(index, view)| {
        let document = documents.and_then(|d| d.get(*index)).map(String::as_str);
        render_context(engine, globals, view, document, wanted)
    });
    for files in per_context {
        rendered.extend(files?);
    }
    Ok(rendered)
}

/// The upcaster stubs: one file per step between two versions of an event that needs code.
fn render_steps(
    engine: &Engine,
    globals: &tera::Context,
    steps: &[tera::Value],
    out: &mut Vec<Rendered>,
) -> Result<(), GenerateError> {
    let mut context = globals.clone();
    for template in engine.templates().iter().filter(|t| t.each == Each::Upcast) {
        for step in steps {
            context.insert_value("u", step.clone());
            render_one(engine, template, &context, out)?;
        }
    }
    Ok(())
}

fn render_one(
    engine: &Engine,
    template: &Template,
    context: &tera::Context,
    out: &mut Vec<Rendered>,
) -> Result<(), GenerateError> {
    if let Some((path, contents)) = engine.render(template, context)? {
        out.push(Rendered {
            template: template.name.clone(),
            file: File {
                path,
                contents,
                owner: template.owner,
            },
        });
    }
    Ok(())
}

/// The files of one context: its own, its aggregates' and its policies'.
fn render_context(
    engine: &Engine,
    globals: &tera::Context,
    view: &ContextView,
    openapi: Option<&str>,
    wanted: &(dyn Fn(&Template) -> bool + Sync),
) -> Result<Vec<Rendered>, GenerateError> {
    let mut context = globals.clone();
    context.insert_value("c", view.c.clone());
    context.insert_value("t", view.http_test.clone());
    context.insert_value("v", view.values.clone());
    context.insert_value("r", view.read.clone());
    if let Some(openapi) = openapi {
        context.insert("openapi", openapi);
    }
    let mut out = Vec::new();
    for template in engine.templates().iter().filter(|t| wanted(t)) {
        match template.each {
            Each::System | Each::Upcast => {}
            Each::Context => render_one(engine, template, &context, &mut out)?,
            Each::Aggregate => {
                for aggregate in &view.aggregates {
                    context.insert_value("a", aggregate.clone());
                    render_one(engine, template, &context, &mut out)?;
                }
            }
            Each::Policy => {
                for policy in &view.policies {
                    context.insert_value("p", policy.clone());
                    render_one(engine, template, &context, &mut out)?;
                }
            }
        }
    }
    Ok(out)
}

/// Formats the Rust files in place, on every core.
fn format_rust(rendered: &mut [Rendered]) -> Result<(), GenerateError> {
    let formatted = parallel::map(rendered, |r| {
        if !format::is_rust(&r.file.path) {
            return Ok(None);
        }
        format::rust(&r.file.contents)
            .map(Some)
            .map_err(|error| GenerateError::InvalidRust {
                template: r.template.clone(),
                message: format::describe(&r.file.path, &r.file.contents, &error),
            })
    });
    for (r, formatted) in rendered.iter_mut().zip(formatted) {
        if let Some(contents) = formatted? {
            r.file.contents = contents;
        }
    }
    Ok(())
}

/// The files sorted by path, once each: two templates may not write one path.
fn sorted(mut rendered: Vec<Rendered>) -> Result<Vec<File>, GenerateError> {
    rendered.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    if let Some(pair) = rendered
        .windows(2)
        .find(|w| w[0].file.path == w[1].file.path)
    {
        return Err(GenerateError::Collision {
            path: pair[0].file.path.clone(),
            first: pair[0].template.clone(),
            second: pair[1].template.clone(),
        });
    }
    Ok(rendered.into_iter().map(|r| r.file).collect())
}

/// A `Cargo.lock` copied from ddd's own, when the runtime is a ddd source tree: the
/// generated workspace starts from versions that build together (cargo drops what it does
/// not need and adds the rest). Yours from then on.
pub fn seed_lock(runtime: &Runtime) -> Option<File> {
    let lock = std::fs::read_to_string(runtime.local_root()?.join("Cargo.lock")).ok()?;
    Some(File {
        path: PathBuf::from("Cargo.lock"),
        contents: lock,
        owner: Owner::User,
    })
}

/// What the templates of one context see, converted for tera once.
struct ContextView {
    c: tera::Value,
    http_test: tera::Value,
    values: tera::Value,
    /// The read side: `services/<context>/src/views.rs`; null without views.
    read: tera::Value,
    aggregates: Vec<tera::Value>,
    policies: Vec<tera::Value>,
}

fn context_view(
    system: &System,
    context: &Context,
    c: &ContextNames,
    contract_types: &BTreeSet<TypePath>,
    history: &History,
) -> ContextView {
    let aggregates: Vec<view::AggregateView> = context
        .aggregates
        .iter()
        .map(|a| view::aggregate(system, context, a, contract_types, history))
        .collect();
    let (policies, policy_uses, policy_test_uses) = policies(system, context, contract_types);
    let values = values_view(system, context, contract_types);
    let publishes: Vec<String> = context
        .publishes
        .iter()
        .filter_map(|name| {
            let (aggregate, event) = context.event(name)?;
            Some(format!(
                "{}::{}Event::{}",
                names::module(&aggregate.name),
                aggregate.name,
                event.name
            ))
        })
        .collect();
    // Each aggregate and policy is converted for tera once, and shared (reference-counted)
    // by the context's view and the files made for it.
    let aggregates: Vec<tera::Value> = aggregates.iter().map(templates::value).collect();
    let policies: Vec<tera::Value> = policies.iter().map(templates::value).collect();
    let c_view = json!({
        "name": c.name, "doc": c.doc, "dir": c.dir, "crate_name": c.crate_name, "lib": c.lib,
        "port": c.port, "has_values": values.is_some(), "publishes": publishes,
        "policy_uses": policy_uses, "policy_test_uses": policy_test_uses,
    });
    let mut c_view = templates::value(&c_view).into_map().unwrap_or_default();
    c_view.insert("aggregates".into(), aggregates.clone().into());
    c_view.insert("policies".into(), policies.clone().into());
    ContextView {
        c: c_view.into(),
        http_test: templates::value(&http_test(system, context, contract_types)),
        values: templates::value(&values),
        read: templates::value(&read::views_file(system, context, contract_types)),
        aggregates,
        policies,
    }
}

fn contracts_view(
    system: &System,
    contract_types: &BTreeSet<TypePath>,
    history: &History,
) -> serde_json::Value {
    let ids: Vec<serde_json::Value> = system
        .contexts
        .iter()
        .filter(|c| !c.aggregates.is_empty())
        .map(|c| {
            let aggregates: Vec<&str> = c.aggregates.iter().map(|a| a.name.as_str()).collect();
            json!({ "context": c.name.as_str(), "module": names::module(&c.name), "aggregates": aggregates })
        })
        .collect();
    let mut kernel = Scope::new(system, Crate::Contracts, "crate::kernel", contract_types);
    for name in system
        .values
        .iter()
        .map(|r| &r.name)
        .chain(system.enums.iter().map(|e| &e.name))
    {
        kernel.define(name.to_string());
    }
    let records: Vec<_> = system
        .values
        .iter()
        .map(|r| view::record(&kernel, r))
        .collect();
    let enums: Vec<_> = system.enums.iter().map(view::enumeration).collect();
    derives(
        &kernel,
        !records.is_empty(),
        !records.is_empty() || !enums.is_empty(),
        false,
    );
    let kernel_view = json!({
        "uses": kernel.uses(),
        "std": kernel.std_names(),
        "records": records,
        "enums": enums,
    });
    let published: Vec<serde_json::Value> = system
        .contexts
        .iter()
        .map(|c| published_view(system, c, contract_types, history))
        .collect();
    json!({ "ids": ids, "kernel": kernel_view, "published": published })
}

fn derives(scope: &Scope<'_>, value_object: bool, serde: bool, event: bool) {
    if serde {
        scope.name("serde::Serialize");
        scope.name("serde::Deserialize");
    }
    if value_object {
        scope.name("ddd_core::ValueObject");
    }
    if event {
        scope.name("ddd_core::DomainEvent");
    }
}

fn published_view(
    system: &System,
    context: &Context,
    contract_types: &BTreeSet<TypePath>,
    history: &History,
) -> serde_json::Value {
    let module = names::module(&context.name);
    let mut scope = Scope::new(
        system,
        Crate::Contracts,
        format!("crate::{module}"),
        contract_types,
    );
    let mine: Vec<&TypePath> = contract_types
        .iter()
        .filter(|p| p.context.as_deref() == Some(context.name.as_str()))
        .collect();
    for path in &mine {
        scope.define(path.name.to_string());
    }
    scope.define("Published");
    let mut records = Vec::new();
    let mut enums = Vec::new();
    for path in &mine {
        match system.type_def(path) {
            Some(ddd_model::ir::TypeDef::Value(r) | ddd_model::ir::TypeDef::Entity(r)) => {
                records.push(view::record(&scope, r));
            }
            Some(ddd_model::ir::TypeDef::Enum(e)) => enums.push(view::enumeration(e)),
            None => {}
        }
    }
    let events: Vec<serde_json::Value> = context
        .publishes
        .iter()
        .filter_map(|name| context.event(name))
        .map(|(aggregate, event)| {
            let (fields, defaults) = view::event_fields(&scope, event);
            json!({
                "name": event.name.as_str(),
                "doc": event.doc,
                "attr": evolution::event_attr(history, context, &aggregate.name, event, true),
                "fields": fields,
                "defaults": defaults,
            })
        })
        .collect();
    derives(
        &scope,
        !records.is_empty(),
        !records.is_empty() || !enums.is_empty() || !events.is_empty(),
        !events.is_empty(),
    );
    json!({
        "name": context.name.as_str(),
        "doc": context.doc,
        "module": module,
        "uses": scope.uses(),
        "std": scope.std_names(),
        "records": records,
        "enums": enums,
        "events": events,
        "upcasts": evolution::published_chains(history, context),
    })
}

fn values_view(
    system: &System,
    context: &Context,
    contract_types: &BTreeSet<TypePath>,
) -> Option<serde_json::Value> {
    let local = |name: &ddd_model::Name| {
        !contract_types.contains(&TypePath::context(context.name.clone(), name.clone()))
    };
    let mut scope = Scope::new(
        system,
        Crate::Service(&context.name),
        "crate::values",
        contract_types,
    );
    for name in context
        .values
        .iter()
        .map(|r| &r.name)
        .chain(context.enums.iter().map(|e| &e.name))
    {
        scope.define(name.to_string());
    }
    let records: Vec<_> = context
        .values
        .iter()
        .filter(|r| local(&r.name))
        .map(|r| view::record(&scope, r))
        .collect();
    let enums: Vec<_> = context
        .enums
        .iter()
        .filter(|e| local(&e.name))
        .map(view::enumeration)
        .collect();
    if records.is_empty() && enums.is_empty() {
        return None;
    }
    derives(&scope, !records.is_empty(), true, false);
    Some(json!({
        "uses": scope.uses(),
        "std": scope.std_names(),
        "records": records,
        "enums": enums,
    }))
}

fn policies(
    system: &System,
    context: &Context,
    contract_types: &BTreeSet<TypePath>,
) -> (Vec<serde_json::Value>, Vec<String>, Vec<String>) {
    let scope = Scope::new(
        system,
        Crate::Service(&context.name),
        "crate::policies",
        contract_types,
    );
    let test_scope = Scope::new(
        system,
        Crate::Service(&context.name),
        "crate::policies::tests",
        contract_types,
    );
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for policy in &context.policies {
        let mut name = view::policy_name(policy);
        if !taken.insert(name.clone()) {
            name = names::pascal(&view::consumer_name(context, policy));
            taken.insert(name.clone());
        }
        let Some(p) = view::policy(&scope, &test_scope, system, context, policy, name) else {
            continue;
        };
        let mut value = serde_json::to_value(&p).unwrap_or_default();
        let source = names::module(&policy.on.context);
        let target = names::module(&policy.run.aggregate);
        if let Some(map) = value.as_object_mut() {
            map.insert("target_module".into(), json!(target));
            map.insert(
                "event_path".into(),
                json!(format!("contracts::{source}::Published")),
            );
            map.insert(
                "target_path".into(),
                json!(format!("crate::{target}::{}", policy.run.aggregate)),
            );
        }
        out.push(value);
    }
    if !out.is_empty() {
        for name in [
            "ddd_core::Policy",
            "ddd_core::Envelope",
            "ddd_core::PolicyError",
            "ddd_core::Reaction",
        ] {
            scope.name(name);
        }
    }
    (out, scope.uses(), test_scope.uses())
}

/// The HTTP test of a service: its first aggregate whose creating command has a sample.
fn http_test(
    system: &System,
    context: &Context,
    contract_types: &BTreeSet<TypePath>,
) -> serde_json::Value {
    let scope = Scope::new(
        system,
        Crate::Service(&context.name),
        "crate::http::tests",
        contract_types,
    );
    for aggregate in &context.aggregates {
        let Some(create) = aggregate.commands.iter().find(|c| c.creates) else {
            continue;
        };
        if create.emit_plans.iter().flat_map(|p| &p.fields).any(|f| {
            !matches!(
                f.source,
                ddd_model::ir::Source::CommandField { .. }
                    | ddd_model::ir::Source::StateField { .. }
            )
        }) {
            continue;
        }
        let command_ty = scope.name(&format!(
            "crate::{}::{}Command",
            names::module(&aggregate.name),
            aggregate.name
        ));
        let literal =
            |command: &ddd_model::ir::Command, replace: Option<(&str, String)>| -> Option<String> {
                let fields = command
                    .params
                    .iter()
                    .map(|p| match &replace {
                        Some((field, value)) if *field == p.name.as_str() => {
                            Some(format!("{}: {value}", p.name))
                        }
                        _ => Some(format!(
                            "{}: {}",
                            p.name,
                            scope.sample(&p.ty, &p.constraints)?
                        )),
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(format!(
                    "{command_ty}::{} {{ {} }}",
                    command.name,
                    fields.join(", ")
                ))
            };
        let Some(create_literal) = literal(create, None) else {
            continue;
        };
        let other = aggregate
            .commands
            .iter()
            .find(|c| !c.creates)
            .and_then(|c| Some((c, literal(c, None)?)));
        let invalid = create.params.iter().find_map(|p| {
            let min_len = p.constraints.iter().any(
                |c| matches!(c, ddd_model::ir::Constraint::Len { min: Some(m), .. } if *m > 0),
            );
            (p.ty == ddd_model::ir::Type::String && min_len).then(|| {
                (
                    p.name.to_string(),
                    literal(create, Some((p.name.as_str(), "String::new()".into()))),
                )
            })
        });
        let (invalid_field, invalid) = match invalid {
            Some((field, Some(body))) => (Some(field), Some(body)),
            _ => (None, None),
        };
        return json!({
            "snake": names::snake(&aggregate.name),
            "route": names::route(&aggregate.name),
            "create": create_literal,
            "created_events": create.emits.len(),
            "other": other.as_ref().map(|(_, l)| l),
            "other_kebab": other.as_ref().map(|(c, _)| names::command_path(&c.name)),
            "invalid": invalid,
            "invalid_field": invalid_field,
            "views": context
                .views
                .iter()
                .filter(|v| v.aggregate() == Some(&aggregate.name))
                .map(ddd_model::ir::View::route)
                .collect::<Vec<_>>(),
            "uses": scope.uses(),
            "std": scope.std_names(),
        });
    }
    serde_json::Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = include_str!("../../examples/shop/shop.ddd");

    fn shop() -> Vec<File> {
        let system = ddd_model::load(SHOP, ddd_model::Format::Ddd)
            .map_err(|rejected| format!("{rejected:?}"))
            .expect("the shop is a valid model");
        let options = Options {
            model: "shop.ddd".into(),
            runtime: Runtime::Path(PathBuf::from("/ddd")),
            templates: None,
        };
        workspace(&system.system, &options).expect("the shop generates")
    }

    #[test]
    fn every_rust_file_parses() {
        for file in shop() {
            if file.path.extension().is_some_and(|e| e == "rs")
                && let Err(error) = syn::parse_file(&file.contents)
            {
                panic!("{}: {error}\n{}", file.path.display(), file.contents);
            }
        }
    }

    #[test]
    fn generated_and_user_files_say_which_they_are() {
        for file in shop() {
            let marked = match file.owner {
                Owner::Generated => file
                    .contents
                    .contains("@generated by `ddd generate` from shop.ddd"),
                Owner::User => {
                    file.contents.starts_with("// Yours")
                        || file.path.extension().is_none_or(|e| e != "rs")
                }
            };
            assert!(marked, "{}", file.path.display());
        }
    }

    #[test]
    fn generated_rust_is_left_alone_by_rustfmt_and_user_rust_is_not() {
        for file in shop().iter().filter(|f| format::is_rust(&f.path)) {
            let skips = file
                .contents
                .contains("#![cfg_attr(rustfmt, rustfmt::skip)]");
            assert_eq!(
                skips,
                file.owner == Owner::Generated,
                "{}",
                file.path.display()
            );
        }
    }

    #[test]
    fn runtime_crates_are_path_dependencies() {
        let files = shop();
        let manifest = files
            .iter()
            .find(|f| f.path == std::path::Path::new("Cargo.toml"))
            .expect("a workspace manifest");
        assert!(
            manifest
                .contents
                .contains(r#"ddd-core = { path = "/ddd/ddd-core" }"#),
            "{}",
            manifest.contents
        );
    }

    #[test]
    fn the_same_model_gives_the_same_bytes() {
        let first = shop();
        let second = shop();
        assert_eq!(first.len(), second.len());
        for (a, b) in first.iter().zip(&second) {
            assert_eq!((&a.path, &a.contents), (&b.path, &b.contents));
        }
    }
}
