//! The rules for one field: what adding, removing or changing it breaks, by the roles of
//! what holds it (an event's payload is read back from the store and may be published; a
//! command's parameters are what HTTP clients send; state and view fields what they read).

use super::Audiences;
use crate::ir::{Constraint, Field, Number, Type};

/// Where the values of a field go: who reads or writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Roles {
    /// In an event's payload: stored, and read back on replay.
    pub(super) stored: bool,
    /// In a published event's payload: read by other contexts.
    pub(super) published: bool,
    /// Sent by HTTP clients (a command's parameter).
    pub(super) request: bool,
    /// Read by HTTP clients (a state or view field).
    pub(super) response: bool,
}

impl Roles {
    pub(super) const STORED: Roles = Roles {
        stored: true,
        published: false,
        request: false,
        response: false,
    };
    pub(super) const REQUEST: Roles = Roles {
        request: true,
        ..Roles::NONE
    };
    pub(super) const RESPONSE: Roles = Roles {
        response: true,
        ..Roles::NONE
    };
    const NONE: Roles = Roles {
        stored: false,
        published: false,
        request: false,
        response: false,
    };

    pub(super) fn union(self, other: Roles) -> Roles {
        Roles {
            stored: self.stored || other.stored,
            published: self.published || other.published,
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }

    /// Everyone who reads or writes the values: what losing them, or a value of another
    /// type, breaks.
    pub(super) fn all(self) -> Audiences {
        Audiences::when(self.stored, Audiences::STORED)
            .union(Audiences::when(self.published, Audiences::CONTEXTS))
            .union(Audiences::when(
                self.request || self.response,
                Audiences::HTTP,
            ))
    }

    /// Those who read values written by someone else (stored payloads, published events,
    /// responses) and so get values they do not expect.
    fn readers(self) -> Audiences {
        Audiences::when(self.published, Audiences::CONTEXTS)
            .union(Audiences::when(self.response, Audiences::HTTP))
    }

    /// Those whose old values the new model reads (stored payloads, requests) and so must
    /// accept.
    fn writers(self) -> Audiences {
        Audiences::when(self.stored, Audiences::STORED)
            .union(Audiences::when(self.request, Audiences::HTTP))
    }
}

/// A field that only the new model has: an old payload or request lacks it.
pub(super) fn added(field: &Field, roles: Roles) -> Audiences {
    let optional = matches!(field.ty, Type::Option(_));
    let stored = roles.stored && !optional && field.default.is_none();
    Audiences::when(stored, Audiences::STORED)
        .union(Audiences::when(roles.request && !optional, Audiences::HTTP))
}

/// How a field differs, and whom that breaks; `None` when it does not.
pub(super) fn changed(old: &Field, new: &Field, roles: Roles) -> Option<(Vec<String>, Audiences)> {
    let mut details = Vec::new();
    let mut breaks = Audiences::NONE;
    if let Some((detail, audiences)) = retyped(&old.ty, &new.ty, roles) {
        details.push(detail);
        breaks = breaks.union(audiences);
    }
    if let Some((detail, audiences)) = constrained(&old.constraints, &new.constraints, roles) {
        details.push(detail);
        breaks = breaks.union(audiences);
    }
    if let Some((detail, audiences)) = defaulted(old, new, roles) {
        details.push(detail);
        breaks = breaks.union(audiences);
    }
    if old.key != new.key {
        let now = if new.key { "now" } else { "no longer" };
        details.push(format!("{now} the entity's `@key`"));
    }
    if old.doc != new.doc {
        details.push("doc changed".to_owned());
    }
    (!details.is_empty()).then_some((details, breaks))
}

/// A type's change, as it shows to whoever holds old values or reads new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shift {
    Same,
    /// `T` → `Option<T>`: every old value is still one; a reader may now get none.
    Optional,
    /// `Option<T>` → `T`: an old none is no longer a value.
    Required,
    /// Every old value fits (`u32` → `u64`, `f32` → `f64`); a reader may get a larger one.
    Widened,
    Other,
}

fn shift(old: &Type, new: &Type) -> Shift {
    if old == new {
        return Shift::Same;
    }
    match (old, new) {
        (Type::Option(old), Type::Option(new))
        | (Type::Vec(old), Type::Vec(new))
        | (Type::Map(old), Type::Map(new)) => match shift(old, new) {
            Shift::Widened => Shift::Widened,
            _ => Shift::Other,
        },
        (old, Type::Option(new)) if old == &**new => Shift::Optional,
        (Type::Option(old), new) if &**old == new => Shift::Required,
        (old, new) if widens(old, new) => Shift::Widened,
        _ => Shift::Other,
    }
}

fn widens(old: &Type, new: &Type) -> bool {
    match (old.integer_bounds(), new.integer_bounds()) {
        (Some((old_min, old_max)), Some((new_min, new_max))) => {
            new_min <= old_min && old_max <= new_max
        }
        _ => matches!((old, new), (Type::F32, Type::F64)),
    }
}

fn retyped(old: &Type, new: &Type, roles: Roles) -> Option<(String, Audiences)> {
    let (what, breaks) = match shift(old, new) {
        Shift::Same => return None,
        Shift::Optional => ("now optional", roles.readers()),
        Shift::Required => ("now required", roles.writers()),
        Shift::Widened => ("widened", roles.readers()),
        Shift::Other => ("retyped", roles.all()),
    };
    Some((format!("{what}: type `{old}` → `{new}`"), breaks))
}

/// Constraints are checked when a command is built, so only a request can break on them:
/// when the new ones reject a value the old ones let through.
fn constrained(
    old: &[Constraint],
    new: &[Constraint],
    roles: Roles,
) -> Option<(String, Audiences)> {
    if old == new {
        return None;
    }
    let tighter = !new.iter().all(|n| old.iter().any(|o| admits_all(n, o)));
    let show = |list: &[Constraint]| {
        if list.is_empty() {
            "none".to_owned()
        } else {
            let shown: Vec<String> = list.iter().map(|c| format!("`{c}`")).collect();
            shown.join(" ")
        }
    };
    let what = if tighter { "tightened" } else { "loosened" };
    let detail = format!("constraints {what}: {} → {}", show(old), show(new));
    Some((
        detail,
        Audiences::when(tighter && roles.request, Audiences::HTTP),
    ))
}

/// Whether `new` admits every value `old` does.
fn admits_all(new: &Constraint, old: &Constraint) -> bool {
    match (new, old) {
        (
            Constraint::Len { min, max, .. },
            Constraint::Len {
                min: old_min,
                max: old_max,
                ..
            },
        ) => {
            min.unwrap_or(0) <= old_min.unwrap_or(0)
                && max.is_none_or(|max| old_max.is_some_and(|old| old <= max))
        }
        (
            Constraint::Range { min, max, .. },
            Constraint::Range {
                min: old_min,
                max: old_max,
                ..
            },
        ) => {
            let below = |bound: &Number, old: &Option<Number>| {
                old.is_some_and(|old| bound.as_f64() <= old.as_f64())
            };
            let above = |bound: &Number, old: &Option<Number>| {
                old.is_some_and(|old| old.as_f64() <= bound.as_f64())
            };
            min.as_ref().is_none_or(|min| below(min, old_min))
                && max.as_ref().is_none_or(|max| above(max, old_max))
        }
        (Constraint::Pattern { regex, .. }, Constraint::Pattern { regex: old, .. }) => regex == old,
        _ => false,
    }
}

/// A default fills a field missing from an old payload: removing or changing it makes the
/// payloads written before the field existed unreadable or read otherwise.
fn defaulted(old: &Field, new: &Field, roles: Roles) -> Option<(String, Audiences)> {
    let optional = matches!(new.ty, Type::Option(_));
    match (&old.default, &new.default) {
        (None, None) => None,
        (None, Some(value)) => Some((format!("default `{value}` added"), Audiences::NONE)),
        (Some(value), None) => Some((
            format!("default `{value}` removed"),
            Audiences::when(roles.stored && !optional, Audiences::STORED),
        )),
        (Some(old), Some(new)) if old == new => None,
        (Some(old), Some(new)) => Some((
            format!("default `{old}` → `{new}`"),
            Audiences::when(roles.stored, Audiences::STORED),
        )),
    }
}
