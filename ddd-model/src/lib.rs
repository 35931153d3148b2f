//! The ddd domain language and its model.
//!
//! A `.ddd` file is lexed ([`lexer`]), parsed with error recovery ([`parser`]) into a spanned
//! syntax tree ([`ast`]) and lowered ([`lower`]) into the IR ([`ir`]): the one model that
//! validation, generation and diagrams read. JSON and YAML that follow [`schema`] read into
//! the same IR ([`read`](mod@read)); a model of several `.ddd` files is read through
//! [`sources`]. [`check`] resolves names, runs every rule and derives what the generator can
//! write by itself; [`diagnostic`] renders its findings like rustc does, each in its file.
//!
//! ```
//! let model = ddd_model::load(
//!     "system Shop\ncontext Sales {\n  aggregate Order {\n    command Place() creates emits Placed\n    event Placed()\n  }\n}\n",
//!     ddd_model::Format::Ddd,
//! )
//! .expect("a valid model");
//! assert_eq!(model.system.contexts[0].aggregates[0].name, "Order");
//! ```

pub mod ast;
pub mod convert;
pub mod diagnostic;
pub mod diff;
pub mod graph;
pub mod ir;
pub mod lexer;
pub mod lower;
pub mod name;
pub mod parser;
pub mod read;
pub mod schema;
pub mod sources;
pub mod symbol;
pub mod validate;

mod plans;
mod resolve;
mod suggest;
mod typing;
mod walk;

pub use diagnostic::{Code, Diagnostic, Severity, SourceFile};
pub use ir::System;
pub use name::{Name, Origin, Span};
pub use read::{Format, Loaded, Rejected, load, load_bytes, read};
pub use sources::Sources;
pub use validate::check;
