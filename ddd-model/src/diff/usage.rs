//! Where each value, entity and enum of a model is used: the roles of the fields that carry it
//! (directly, or inside another record), and the events whose payloads do. A change to a
//! record's fields breaks what a change to those fields themselves would.

use std::collections::{HashMap, HashSet};

use super::fields::Roles;
use crate::ir::{Field, System, Type, TypePath};
use crate::name::Name;

/// An event, by its context and name.
pub(super) type EventKey = (Name, Name);

#[derive(Debug, Default)]
pub(super) struct Use {
    pub(super) roles: Roles,
    /// The events whose payloads carry the type.
    pub(super) events: HashSet<EventKey>,
}

/// The uses of every type a field of `system` carries.
pub(super) fn usage(system: &System) -> HashMap<TypePath, Use> {
    let mut marker = Marker {
        system,
        uses: HashMap::new(),
    };
    for context in &system.contexts {
        for aggregate in &context.aggregates {
            marker.fields(&aggregate.fields, Roles::RESPONSE, None);
            for command in &aggregate.commands {
                marker.fields(&command.params, Roles::REQUEST, None);
            }
            for event in &aggregate.events {
                let roles = Roles {
                    published: context.publishes(&event.name),
                    ..Roles::STORED
                };
                let key = (context.name.clone(), event.name.clone());
                marker.fields(&event.fields, roles, Some(&key));
            }
        }
        for view in &context.views {
            let fields = view.fields.iter().map(|field| &field.ty);
            for ty in fields.chain(view.key().map(|key| &key.ty)) {
                marker.ty(ty, Roles::RESPONSE, None);
            }
        }
    }
    marker.uses
}

struct Marker<'a> {
    system: &'a System,
    uses: HashMap<TypePath, Use>,
}

impl Marker<'_> {
    fn fields(&mut self, fields: &[Field], roles: Roles, event: Option<&EventKey>) {
        for field in fields {
            self.ty(&field.ty, roles, event);
        }
    }

    fn ty(&mut self, ty: &Type, roles: Roles, event: Option<&EventKey>) {
        match ty {
            Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => {
                self.ty(inner, roles, event);
            }
            Type::Value(path) | Type::Entity(path) | Type::Enum(path) => {
                self.path(path, roles, event);
            }
            _ => {}
        }
    }

    /// Marks a type and, the first time a role or an event reaches it, what its fields carry.
    fn path(&mut self, path: &TypePath, roles: Roles, event: Option<&EventKey>) {
        let used = self.uses.entry(path.clone()).or_default();
        let wider = used.roles.union(roles);
        let mut new = wider != used.roles;
        used.roles = wider;
        if let Some(event) = event {
            new |= used.events.insert(event.clone());
        }
        if !new {
            return;
        }
        let system = self.system;
        if let Some(record) = system.record(path) {
            self.fields(&record.fields, roles, event);
        }
    }
}
