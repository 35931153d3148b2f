//! Parse → check: everything between the token stream and the expansion.

pub(crate) mod ast;
pub(crate) mod attr;
pub(crate) mod case;
pub(crate) mod check;
pub(crate) mod constraints;
pub(crate) mod ctxt;
pub(crate) mod symbol;
