//! When a value of one type can fill a field of another, and how: the contract's mapping rule.
//! Types must be equal, or records (values, entities) with the same field names whose types
//! follow the same rule, element-wise inside `Vec`, `Map` and `Option`; a `T` also fills an
//! `Option<T>`.

use std::collections::HashSet;

use crate::ir::{
    Conversion, FieldConversion, RecordConversion, RecordPair, System, Type, TypePath,
};

/// Finds conversions and collects the record conversions they need.
#[derive(Debug)]
pub struct Converter<'a> {
    system: &'a System,
    done: Vec<RecordConversion>,
    /// Record pairs being converted right now: a recursive record (`children: Vec<Node>`)
    /// refers back to a pair in progress, which is assumed to convert.
    in_progress: HashSet<RecordPair>,
    /// Pairs known not to convert. A failure found while assuming that pairs in progress
    /// convert is final, since assuming success can only make a conversion easier; caching it
    /// keeps records that share a failing field type from being explored again and again.
    failed: HashSet<RecordPair>,
}

impl<'a> Converter<'a> {
    pub fn new(system: &'a System) -> Converter<'a> {
        Converter {
            system,
            done: Vec::new(),
            in_progress: HashSet::new(),
            failed: HashSet::new(),
        }
    }

    /// Every record conversion found so far, each once, dependencies first.
    pub fn into_conversions(self) -> Vec<RecordConversion> {
        self.done
    }

    /// How a `from` fills a `to`, if it can.
    pub fn convert(&mut self, from: &Type, to: &Type) -> Option<Conversion> {
        if from == to {
            return Some(Conversion::Same);
        }
        if let (Some(narrow), Some(wide)) = (from.integer_bounds(), to.integer_bounds()) {
            return (wide.0 <= narrow.0 && narrow.1 <= wide.1)
                .then(|| Conversion::Widen(to.clone()));
        }
        match (from, to) {
            (Type::Option(from), Type::Option(to)) => self
                .convert(from, to)
                .map(|c| Conversion::Option(Box::new(c))),
            (from, Type::Option(to)) => self
                .convert(from, to)
                .map(|c| Conversion::Some(Box::new(c))),
            (Type::Vec(from), Type::Vec(to)) => {
                self.convert(from, to).map(|c| Conversion::Vec(Box::new(c)))
            }
            (Type::Map(from), Type::Map(to)) => {
                self.convert(from, to).map(|c| Conversion::Map(Box::new(c)))
            }
            (Type::Value(from) | Type::Entity(from), Type::Value(to) | Type::Entity(to)) => {
                self.records(from, to)
            }
            _ => None,
        }
    }

    fn records(&mut self, from: &TypePath, to: &TypePath) -> Option<Conversion> {
        let pair = RecordPair {
            from: from.clone(),
            to: to.clone(),
        };
        let known = self.done.iter().any(|c| c.from == *from && c.to == *to);
        if known || self.in_progress.contains(&pair) {
            return Some(Conversion::Record(Box::new(pair)));
        }
        if self.failed.contains(&pair) {
            return None;
        }
        let (source, target) = (self.system.record(from)?, self.system.record(to)?);
        if source.fields.len() != target.fields.len() {
            self.failed.insert(pair);
            return None;
        }
        self.in_progress.insert(pair.clone());
        // Conversions found below may rest on the assumption that this pair converts: if it
        // does not, they go too.
        let checkpoint = self.done.len();
        let mut fields = Vec::with_capacity(target.fields.len());
        for field in &target.fields {
            let conversion = crate::ir::field(&source.fields, &field.name)
                .and_then(|s| self.convert(&s.ty, &field.ty));
            match conversion {
                Some(conversion) => fields.push(FieldConversion {
                    field: field.name.clone(),
                    conversion,
                }),
                None => {
                    self.in_progress.remove(&pair);
                    self.done.truncate(checkpoint);
                    self.failed.insert(pair);
                    return None;
                }
            }
        }
        self.in_progress.remove(&pair);
        self.done.push(RecordConversion {
            from: from.clone(),
            to: to.clone(),
            fields,
        });
        Some(Conversion::Record(Box::new(pair)))
    }
}

/// Whether a type still holds an unresolved name (after an unknown-type error): such types
/// are not compared, to avoid a second error about the same mistake.
pub(crate) fn is_unresolved(ty: &Type) -> bool {
    match ty {
        Type::Named(_) => true,
        Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => is_unresolved(inner),
        _ => false,
    }
}
