//! What a scenario expects, and matching it against what the system recorded.

use std::fmt;

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::observe::{self, Observed, POLL, Recorded, Rows};
use crate::report::{ContextDiff, Mismatch, ViewDiff};
use crate::{Scenario, System};

/// An event a context is expected to record: its type, and optionally the aggregate type it
/// belongs to and fields its payload must have (a subset: fields left out may be anything,
/// such as ids the system derives).
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    event_type: String,
    aggregate_type: Option<String>,
    fields: Option<Value>,
}

impl Expect {
    /// An event of type `event_type` (`"OrderPlaced"`), whatever its payload.
    pub fn event(event_type: impl Into<String>) -> Self {
        Self {
            event_type: event_type.into(),
            aggregate_type: None,
            fields: None,
        }
    }

    /// Only of the aggregate type `aggregate_type` (`"Order"`).
    #[must_use]
    pub fn of(mut self, aggregate_type: impl Into<String>) -> Self {
        self.aggregate_type = Some(aggregate_type.into());
        self
    }

    /// Whose payload has `fields` (a JSON object; nested objects match by subset too, arrays
    /// element by element, numbers by value).
    #[must_use]
    pub fn with(mut self, fields: Value) -> Self {
        self.fields = Some(fields);
        self
    }

    /// Whose payload's field `name` holds `value` as it serializes (a record matches by
    /// subset, as with [`with`](Expect::with)). Adds to the fields expected so far.
    ///
    /// # Panics
    /// When `value` does not serialize to JSON (a map with keys that are not strings), or
    /// the fields expected so far are not an object.
    #[must_use]
    pub fn field<T: Serialize>(mut self, name: &str, value: T) -> Self {
        let value = serde_json::to_value(value)
            .unwrap_or_else(|e| panic!("the value expected of `{name}` is not JSON: {e}"));
        let fields = self
            .fields
            .get_or_insert_with(|| Value::Object(serde_json::Map::new()));
        let Value::Object(fields) = fields else {
            panic!("`field` adds to an object, and `with` gave {fields}");
        };
        fields.insert(name.to_owned(), value);
        self
    }

    /// How the closest recorded event of the same type differs from the fields expected.
    fn nearest(&self, recorded: &[&Recorded]) -> Option<Vec<String>> {
        let fields = self.fields.as_ref()?;
        let same_type = recorded
            .iter()
            .copied()
            .filter(|event| event.event_type == self.event_type);
        nearest(same_type, |event| &event.payload, fields)
    }

    fn matches(&self, recorded: &Recorded) -> bool {
        recorded.event_type == self.event_type
            && self
                .aggregate_type
                .as_ref()
                .is_none_or(|aggregate| *aggregate == recorded.aggregate_type)
            && self
                .fields
                .as_ref()
                .is_none_or(|fields| contains(&recorded.payload, fields))
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(aggregate) = &self.aggregate_type {
            write!(f, "{aggregate}.")?;
        }
        f.write_str(&self.event_type)?;
        if let Some(fields) = &self.fields {
            write!(f, " with {fields}")?;
        }
        Ok(())
    }
}

/// Whether `actual` has everything `expected` has.
pub(crate) fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|field| contains(field, value))),
        (Value::Array(actual), Value::Array(expected)) => {
            actual.len() == expected.len()
                && actual.iter().zip(expected).all(|(a, e)| contains(a, e))
        }
        (Value::Number(actual), Value::Number(expected)) => {
            actual == expected || actual.as_f64() == expected.as_f64()
        }
        _ => actual == expected,
    }
}

/// Where `actual` differs from `expected` (by subset, as [`contains`]): one line per field,
/// `total.amount_cents: expected 1220, recorded 770`.
pub(crate) fn differences(actual: &Value, expected: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_differences(actual, expected, "", &mut out);
    out
}

fn collect_differences(actual: &Value, expected: &Value, path: &str, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, value) in expected {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match actual.get(key) {
                    Some(field) => collect_differences(field, value, &at, out),
                    None => out.push(format!("{at}: expected {value}, absent")),
                }
            }
        }
        _ if contains(actual, expected) => {}
        _ => {
            let at = if path.is_empty() { "the value" } else { path };
            out.push(format!("{at}: expected {expected}, found {actual}"));
        }
    }
}

/// The candidate that differs least from `expected`, with the differences.
pub(crate) fn nearest<'a, T>(
    candidates: impl IntoIterator<Item = &'a T>,
    payload: impl Fn(&T) -> &Value,
    expected: &Value,
) -> Option<Vec<String>>
where
    T: 'a,
{
    candidates
        .into_iter()
        .map(|candidate| differences(payload(candidate), expected))
        .min_by_key(Vec::len)
}

/// What the last `when` should have caused, built up and then checked with
/// [`verify`](Then::verify) or [`assert`](Then::assert).
///
/// Every context that records an event must be named with [`events`](Then::events) (a
/// context left out is expected to record nothing), and every dead letter must be expected
/// with [`dead_letter`](Then::dead_letter).
#[must_use = "a `then` checks nothing until verified or asserted"]
pub struct Then<'s, S: System> {
    scenario: &'s Scenario<S>,
    events: Vec<(String, Vec<Expect>)>,
    rows: Vec<(String, String, Vec<Value>)>,
    dead_letters: Vec<String>,
}

impl<S: System> fmt::Debug for Then<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Then")
            .field("events", &self.events)
            .field("rows", &self.rows)
            .field("dead_letters", &self.dead_letters)
            .finish_non_exhaustive()
    }
}

impl<'s, S: System> Then<'s, S> {
    pub(crate) fn new(scenario: &'s Scenario<S>) -> Self {
        Self {
            scenario,
            events: Vec::new(),
            rows: Vec::new(),
            dead_letters: Vec::new(),
        }
    }

    /// The context `context` records exactly these events, in any order.
    pub fn events(mut self, context: &str, expected: impl IntoIterator<Item = Expect>) -> Self {
        self.events
            .push((context.to_owned(), expected.into_iter().collect()));
        self
    }

    /// The view `view` of `context` holds exactly these rows, each matched by subset (see
    /// [`Expect::with`]), in any order.
    pub fn rows(
        mut self,
        context: &str,
        view: &str,
        expected: impl IntoIterator<Item = Value>,
    ) -> Self {
        self.rows.push((
            context.to_owned(),
            view.to_owned(),
            expected.into_iter().collect(),
        ));
        self
    }

    /// A consumer whose name contains `consumer` dead-letters an event.
    pub fn dead_letter(mut self, consumer: &str) -> Self {
        self.dead_letters.push(consumer.to_owned());
        self
    }

    /// Waits until the system has done what is expected (up to the scenario's timeout),
    /// then until it settles, and compares once more, so a late or second reaction counts.
    ///
    /// # Errors
    /// The difference, context by context, with the dead letters seen.
    pub async fn verify(self) -> Result<(), Mismatch> {
        let problems = self.unknown_names();
        if !problems.is_empty() {
            return Err(Mismatch::names(problems));
        }
        let views = self.view_indices();
        let started = Instant::now();
        let deadline = started + self.scenario.timeout;
        loop {
            let observed = observe::observe(self.scenario, &views).await;
            let mismatch = self.compare(&observed);
            if mismatch.is_none() {
                let left = deadline.saturating_duration_since(Instant::now());
                let settled = observe::settle(self.scenario, left).await;
                let observed = observe::observe(self.scenario, &views).await;
                return match (self.compare(&observed), settled) {
                    (None, Ok(())) => Ok(()),
                    (Some(mismatch), _) => Err(mismatch.settled(started.elapsed())),
                    (None, Err(busy)) => Err(Mismatch::unsettled(busy, started.elapsed())),
                };
            }
            if Instant::now() >= deadline {
                return Err(mismatch
                    .expect("checked above")
                    .timed_out(started.elapsed()));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// [`verify`](Then::verify), panicking with the difference.
    ///
    /// # Panics
    /// When the system did not do what is expected.
    pub async fn assert(self) {
        if let Err(mismatch) = self.verify().await {
            panic!("{mismatch}");
        }
    }

    fn unknown_names(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (context, _) in &self.events {
            if self.scenario.member(context).is_none() {
                problems.push(self.scenario.no_context(context));
            }
        }
        for (context, view, _) in &self.rows {
            match self.scenario.member(context) {
                None => problems.push(self.scenario.no_context(context)),
                Some((_, member)) if member.view_named(view).is_none() => {
                    let views: Vec<&str> = member
                        .views
                        .iter()
                        .map(|handle| handle.schema().name)
                        .collect();
                    problems.push(format!(
                        "{context} has no view `{view}`; its views are {}",
                        if views.is_empty() {
                            "none".to_owned()
                        } else {
                            views.join(", ")
                        }
                    ));
                }
                Some(_) => {}
            }
        }
        problems
    }

    fn view_indices(&self) -> Vec<(usize, String)> {
        self.rows
            .iter()
            .filter_map(|(context, view, _)| Some((self.scenario.member(context)?.0, view.clone())))
            .collect()
    }

    fn expected_events(&self, context: usize) -> Vec<Expect> {
        let name = self.scenario.contexts[context].name;
        self.events
            .iter()
            .filter(|(named, _)| named == name)
            .flat_map(|(_, expected)| expected.iter().cloned())
            .collect()
    }

    fn compare(&self, observed: &Observed) -> Option<Mismatch> {
        let mut contexts = Vec::new();
        for (index, recorded) in observed.events.iter().enumerate() {
            let expected = self.expected_events(index);
            let (missing, unexpected) = pair_up(&expected, recorded, Expect::matches);
            if !missing.is_empty() || !unexpected.is_empty() {
                let missing = missing
                    .into_iter()
                    .map(|expect| {
                        let near = expect.nearest(&unexpected);
                        (expect, near)
                    })
                    .collect();
                contexts.push(ContextDiff {
                    context: self.scenario.contexts[index].name.to_owned(),
                    missing,
                    unexpected: unexpected.into_iter().cloned().collect(),
                    recorded: recorded.clone(),
                });
            }
        }
        let mut views = Vec::new();
        for (context, view, expected) in &self.rows {
            let Some((index, _)) = self.scenario.member(context) else {
                continue;
            };
            match observed.rows.get(&(index, view.clone())) {
                Some(Rows::Read(rows)) => {
                    let (missing, unexpected) =
                        pair_up(expected, rows, |expected, row| contains(row, expected));
                    if !missing.is_empty() || !unexpected.is_empty() {
                        let missing = missing
                            .into_iter()
                            .map(|row| {
                                let near = nearest(unexpected.iter().copied(), |row| row, &row);
                                (row, near)
                            })
                            .collect();
                        views.push(ViewDiff::Rows {
                            view: format!("{context}.{view}"),
                            missing,
                            unexpected: unexpected.into_iter().cloned().collect(),
                        });
                    }
                }
                Some(Rows::Stopped { position, reason }) => views.push(ViewDiff::Stopped {
                    view: format!("{context}.{view}"),
                    position: *position,
                    reason: reason.clone(),
                }),
                Some(Rows::Unreadable(error)) => views.push(ViewDiff::Unreadable {
                    view: format!("{context}.{view}"),
                    error: error.clone(),
                }),
                None => {}
            }
        }
        let (missing_letters, unexpected_letters) = pair_up(
            &self.dead_letters,
            &observed.dead_letters,
            |consumer, letter| letter.consumer.contains(consumer.as_str()),
        );
        if contexts.is_empty()
            && views.is_empty()
            && missing_letters.is_empty()
            && unexpected_letters.is_empty()
        {
            return None;
        }
        Some(Mismatch::new(
            contexts,
            views,
            missing_letters,
            observed.dead_letters.clone(),
        ))
    }
}

/// Pairs each expectation, in order, with the first actual item it matches that no earlier
/// one took: the expectations left over, and the items no expectation took.
fn pair_up<'a, E: Clone, A>(
    expected: &[E],
    actual: &'a [A],
    matches: impl Fn(&E, &A) -> bool,
) -> (Vec<E>, Vec<&'a A>) {
    let mut taken = vec![false; actual.len()];
    let mut missing = Vec::new();
    for expectation in expected {
        let found = actual
            .iter()
            .enumerate()
            .find(|(index, item)| !taken[*index] && matches(expectation, item));
        match found {
            Some((index, _)) => taken[index] = true,
            None => missing.push(expectation.clone()),
        }
    }
    let unexpected = actual
        .iter()
        .zip(taken)
        .filter(|(_, taken)| !taken)
        .map(|(item, _)| item)
        .collect();
    (missing, unexpected)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_subset_matches_whatever_else_the_payload_has() {
        let payload = json!({"total": {"amount_cents": 2500, "currency": "EUR"}, "lines": [1, 2]});
        assert!(contains(
            &payload,
            &json!({"total": {"amount_cents": 2500}})
        ));
        assert!(contains(&payload, &json!({"lines": [1, 2]})));
        assert!(contains(
            &payload,
            &json!({"total": {"amount_cents": 2500.0}})
        ));
        assert!(!contains(
            &payload,
            &json!({"total": {"amount_cents": 2501}})
        ));
        assert!(!contains(&payload, &json!({"lines": [1]})));
        assert!(!contains(&payload, &json!({"customer": null})));
    }

    #[test]
    fn fields_expected_one_by_one_add_up_to_an_object_matched_by_subset() {
        #[derive(Serialize)]
        struct Money {
            amount_cents: i64,
            currency: &'static str,
        }
        let expect = Expect::event("OrderPlaced")
            .with(json!({"customer": "ada"}))
            .field(
                "total",
                Money {
                    amount_cents: 1220,
                    currency: "EUR",
                },
            )
            .field("note", None::<String>);
        assert_eq!(
            expect.fields,
            Some(json!({
                "customer": "ada",
                "total": {"amount_cents": 1220, "currency": "EUR"},
                "note": null,
            }))
        );
        let recorded = Recorded {
            event_type: "OrderPlaced".to_owned(),
            aggregate_type: "Order".to_owned(),
            aggregate_id: "1".to_owned(),
            payload: json!({
                "customer": "ada",
                "total": {"amount_cents": 1220, "currency": "EUR"},
                "note": null,
                "lines": [],
            }),
        };
        assert!(expect.matches(&recorded));
        assert!(!expect.field("note", "gift").matches(&recorded));
    }

    #[test]
    fn differences_name_each_field_that_differs_by_its_path() {
        let payload = json!({"total": {"amount_cents": 770, "currency": "EUR"}, "lines": [1]});
        assert_eq!(
            differences(
                &payload,
                &json!({"total": {"amount_cents": 1220, "currency": "EUR"}, "lines": [1, 2], "customer": 1})
            ),
            [
                "customer: expected 1, absent",
                "lines: expected [1,2], found [1]",
                "total.amount_cents: expected 1220, found 770",
            ]
        );
        assert!(differences(&payload, &json!({"total": {"currency": "EUR"}})).is_empty());
    }

    #[test]
    fn each_expectation_takes_one_item() {
        let (missing, unexpected) = pair_up(&[1, 1, 3], &[1, 2, 1], |e, a| e == a);
        assert_eq!(missing, [3]);
        assert_eq!(unexpected, [&2]);
    }
}
