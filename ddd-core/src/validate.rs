//! Field constraints (`len`, `range`, `pattern`) and the errors that report every violation.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Something with constraints to check: commands, values and entities (derived), and the
/// containers that hold them.
pub trait Validate {
    /// Adds every violation found under `path` to `errors`.
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);

    /// Checks everything and reports all violations at once.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.validate_at(&FieldPath::Root, &mut errors);
        errors.into_result()
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        self.as_slice().validate_at(path, errors);
    }
}

impl<T: Validate> Validate for [T] {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        for (index, item) in self.iter().enumerate() {
            item.validate_at(&FieldPath::Index(path, index), errors);
        }
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if let Some(inner) = self {
            inner.validate_at(path, errors);
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        (**self).validate_at(path, errors);
    }
}

impl<K: fmt::Display, T: Validate, S> Validate for HashMap<K, T, S> {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        for (key, item) in self {
            item.validate_at(&FieldPath::Key(path, &key.to_string()), errors);
        }
    }
}

impl<K: fmt::Display, T: Validate> Validate for BTreeMap<K, T> {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        for (key, item) in self {
            item.validate_at(&FieldPath::Key(path, &key.to_string()), errors);
        }
    }
}

/// Where a field sits inside the value being validated, built on the stack as validation
/// descends: `lines[2].quantity`.
#[derive(Clone, Copy, Debug)]
pub enum FieldPath<'a> {
    /// The value itself.
    Root,
    /// A named field of the value at the parent path.
    Field(&'a FieldPath<'a>, &'static str),
    /// An element of a list.
    Index(&'a FieldPath<'a>, usize),
    /// An entry of a map.
    Key(&'a FieldPath<'a>, &'a str),
}

impl FieldPath<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Self::Root => {}
            Self::Field(parent, name) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Self::Index(parent, index) => {
                parent.write(out);
                out.push_str(&format!("[{index}]"));
            }
            Self::Key(parent, key) => {
                parent.write(out);
                out.push_str(&format!("[{key:?}]"));
            }
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

/// One violated constraint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The field, as a path: `lines[2].quantity`.
    pub field: String,
    /// Which constraint: `len`, `range`, `pattern`, or a custom code.
    pub constraint: Cow<'static, str>,
    /// What was expected, for a person.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Every violated constraint of a command or value, in field order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrors {
    violations: Vec<Violation>,
}

impl ValidationErrors {
    /// Records a violation.
    pub fn push(
        &mut self,
        path: &FieldPath<'_>,
        constraint: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) {
        self.violations.push(Violation {
            field: path.to_string(),
            constraint: constraint.into(),
            message: message.into(),
        });
    }

    /// The violations, in the order they were found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Whether nothing was violated.
    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// The names of the violated fields.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.violations
            .iter()
            .map(|violation| violation.field.as_str())
    }

    /// `Ok` when nothing was violated.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid input: ")?;
        for (index, violation) in self.violations.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// A value whose length a `len` constraint can check: strings count characters, collections
/// count elements, and `None` is never too short or too long.
pub trait HasLen {
    /// The length, or `None` when there is nothing to check.
    fn constraint_len(&self) -> Option<usize>;
}

impl HasLen for str {
    fn constraint_len(&self) -> Option<usize> {
        Some(self.chars().count())
    }
}

impl HasLen for String {
    fn constraint_len(&self) -> Option<usize> {
        self.as_str().constraint_len()
    }
}

impl<T> HasLen for Vec<T> {
    fn constraint_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<T> HasLen for [T] {
    fn constraint_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<K, V, S> HasLen for HashMap<K, V, S> {
    fn constraint_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<K, V> HasLen for BTreeMap<K, V> {
    fn constraint_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<T: HasLen + ?Sized> HasLen for Box<T> {
    fn constraint_len(&self) -> Option<usize> {
        (**self).constraint_len()
    }
}

impl<T: HasLen> HasLen for Option<T> {
    fn constraint_len(&self) -> Option<usize> {
        self.as_ref().and_then(HasLen::constraint_len)
    }
}

/// A value a `range` constraint can check; `Option<T>` is checked only when present.
pub trait RangeValue {
    /// The comparable value inside.
    type Value: PartialOrd + fmt::Display;
    /// The value, or `None` when there is nothing to check.
    fn range_value(&self) -> Option<&Self::Value>;
}

macro_rules! range_value {
    ($($ty:ty),*) => {$(
        impl RangeValue for $ty {
            type Value = $ty;
            fn range_value(&self) -> Option<&$ty> {
                Some(self)
            }
        }
    )*};
}

range_value!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

impl<T: RangeValue> RangeValue for Option<T> {
    type Value = T::Value;
    fn range_value(&self) -> Option<&T::Value> {
        self.as_ref().and_then(RangeValue::range_value)
    }
}

/// A value a `pattern` constraint can check.
pub trait PatternValue {
    /// The text, or `None` when there is nothing to check.
    fn pattern_text(&self) -> Option<&str>;
}

impl PatternValue for str {
    fn pattern_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl PatternValue for String {
    fn pattern_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: PatternValue> PatternValue for Option<T> {
    fn pattern_text(&self) -> Option<&str> {
        self.as_ref().and_then(PatternValue::pattern_text)
    }
}

impl<T: PatternValue + ?Sized> PatternValue for Box<T> {
    fn pattern_text(&self) -> Option<&str> {
        (**self).pattern_text()
    }
}

/// Checks a `len` constraint (`min` and `max` inclusive).
pub fn check_len<T: HasLen + ?Sized>(
    value: &T,
    min: Option<usize>,
    max: Option<usize>,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) {
    let Some(len) = value.constraint_len() else {
        return;
    };
    let too_short = min.is_some_and(|min| len < min);
    let too_long = max.is_some_and(|max| len > max);
    if too_short || too_long {
        errors.push(path, "len", len_message(min, max, len));
    }
}

fn len_message(min: Option<usize>, max: Option<usize>, len: usize) -> String {
    let expected = match (min, max) {
        (Some(min), Some(max)) if min == max => format!("length must be exactly {min}"),
        (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
        (Some(min), None) => format!("length must be at least {min}"),
        (None, Some(max)) => format!("length must be at most {max}"),
        (None, None) => "length is unconstrained".to_owned(),
    };
    format!("{expected} (is {len})")
}

/// Checks a `range` constraint (`min` and `max` inclusive).
pub fn check_range<T: RangeValue + ?Sized>(
    value: &T,
    min: Option<T::Value>,
    max: Option<T::Value>,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) {
    let Some(value) = value.range_value() else {
        return;
    };
    // `partial_cmp` is `None` for NaN, which must fail every bound rather than pass it.
    let below = min
        .as_ref()
        .is_some_and(|min| value.partial_cmp(min).is_none_or(|o| o.is_lt()));
    let above = max
        .as_ref()
        .is_some_and(|max| value.partial_cmp(max).is_none_or(|o| o.is_gt()));
    if below || above {
        let expected = match (&min, &max) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            (None, None) => "must be a number".to_owned(),
        };
        errors.push(path, "range", format!("{expected} (is {value})"));
    }
}

/// Checks a `pattern` constraint. `source` is the pattern as written, for the message.
pub fn check_pattern<T: PatternValue + ?Sized>(
    value: &T,
    pattern: &regex::Regex,
    path: &FieldPath<'_>,
    errors: &mut ValidationErrors,
) {
    let Some(text) = value.pattern_text() else {
        return;
    };
    if !pattern.is_match(text) {
        errors.push(
            path,
            "pattern",
            format!("must match `{}`", pattern.as_str()),
        );
    }
}

/// Lets derived code validate nested fields whose types implement [`Validate`] and skip the
/// rest, without the user marking which is which ("autoref specialization"). Call it as
/// `(&&NestedField(&value)).ddd_validate_nested(path, errors)` with both traits in scope:
/// method lookup tries `&&NestedField<T>` first, which only `ValidateNested` has and only
/// when `T: Validate`; otherwise it auto-derefs to `&NestedField<T>`, where `SkipNested`
/// does nothing.
#[doc(hidden)]
pub mod nested {
    use super::{FieldPath, Validate, ValidationErrors};

    #[allow(
        missing_debug_implementations,
        reason = "a borrowed wrapper that lives only inside derived code"
    )]
    pub struct NestedField<'a, T: ?Sized>(pub &'a T);

    pub trait ValidateNested {
        fn ddd_validate_nested(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);
    }

    impl<T: Validate + ?Sized> ValidateNested for &NestedField<'_, T> {
        fn ddd_validate_nested(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
            self.0.validate_at(path, errors);
        }
    }

    pub trait SkipNested {
        fn ddd_validate_nested(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);
    }

    impl<T: ?Sized> SkipNested for NestedField<'_, T> {
        fn ddd_validate_nested(&self, _: &FieldPath<'_>, _: &mut ValidationErrors) {}
    }
}

#[cfg(test)]
mod tests {
    use super::nested::{NestedField, SkipNested as _, ValidateNested as _};
    use super::*;

    struct Line {
        quantity: u32,
    }

    impl Validate for Line {
        fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
            check_range(
                &self.quantity,
                Some(1),
                Some(99),
                &FieldPath::Field(path, "quantity"),
                errors,
            );
        }
    }

    #[test]
    fn len_counts_characters_not_bytes() {
        let mut errors = ValidationErrors::default();
        check_len("äöü", Some(3), Some(3), &FieldPath::Root, &mut errors);
        assert!(errors.is_empty());
        check_len(
            "äöüx",
            Some(3),
            Some(3),
            &FieldPath::Field(&FieldPath::Root, "currency"),
            &mut errors,
        );
        assert_eq!(errors.violations()[0].field, "currency");
        assert_eq!(
            errors.violations()[0].message,
            "length must be exactly 3 (is 4)"
        );
    }

    #[test]
    fn range_rejects_nan_and_reports_bounds() {
        let mut errors = ValidationErrors::default();
        check_range(&f64::NAN, Some(0.0), None, &FieldPath::Root, &mut errors);
        check_range(&5_i64, None, Some(4), &FieldPath::Root, &mut errors);
        check_range(
            &Option::<i64>::None,
            Some(1),
            None,
            &FieldPath::Root,
            &mut errors,
        );
        let messages: Vec<_> = errors
            .violations()
            .iter()
            .map(|v| v.message.as_str())
            .collect();
        assert_eq!(
            messages,
            ["must be at least 0 (is NaN)", "must be at most 4 (is 5)"]
        );
    }

    #[test]
    #[allow(
        clippy::needless_borrow,
        reason = "the double borrow is what selects the impl"
    )]
    fn nested_paths_name_the_element() {
        let lines = vec![Line { quantity: 1 }, Line { quantity: 0 }];
        let mut errors = ValidationErrors::default();
        let root = FieldPath::Root;
        let path = FieldPath::Field(&root, "lines");
        (&&NestedField(&lines)).ddd_validate_nested(&path, &mut errors);
        // A type without constraints is skipped, not a compile error.
        (&&NestedField(&"plain")).ddd_validate_nested(&path, &mut errors);
        assert_eq!(errors.fields().collect::<Vec<_>>(), ["lines[1].quantity"]);
        assert_eq!(
            errors.to_string(),
            "invalid input: lines[1].quantity: must be between 1 and 99 (is 0)"
        );
    }

    #[test]
    fn pattern_applies_to_present_text_only() {
        let re = regex::Regex::new("^[A-Z]{3}$").unwrap();
        let mut errors = ValidationErrors::default();
        check_pattern(&Some("EUR".to_owned()), &re, &FieldPath::Root, &mut errors);
        check_pattern(&Option::<String>::None, &re, &FieldPath::Root, &mut errors);
        check_pattern("eur", &re, &FieldPath::Root, &mut errors);
        assert_eq!(errors.violations().len(), 1);
        assert_eq!(errors.violations()[0].constraint, "pattern");
    }
}
