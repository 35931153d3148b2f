//! A failed scenario, as a person reads it: context by context, what was expected and not
//! recorded, what was recorded and not expected, and the dead letters of the policies that
//! gave up.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::DeadLetter;
use crate::expect::Expect;
use crate::observe::Recorded;

/// Payloads longer than this are cut in the report.
const PAYLOAD_CHARS: usize = 160;

/// How a scenario's expectations and the system differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// When it was decided, and after how long.
    when: When,
    /// Names in the scenario that the system does not have.
    names: Vec<String>,
    contexts: Vec<ContextDiff>,
    views: Vec<ViewDiff>,
    missing_dead_letters: Vec<String>,
    dead_letters: Vec<DeadLetter>,
    /// What was still moving when the wait ran out.
    busy: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum When {
    Before,
    TimedOut(Duration),
    Settled(Duration),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ContextDiff {
    pub context: String,
    /// Each expectation not met, with how the nearest recorded event of its type differs.
    pub missing: Vec<(Expect, Option<Vec<String>>)>,
    pub unexpected: Vec<Recorded>,
    pub recorded: Vec<Recorded>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ViewDiff {
    Rows {
        view: String,
        /// Each row not there, with how the nearest row there differs.
        missing: Vec<(Value, Option<Vec<String>>)>,
        unexpected: Vec<Value>,
    },
    Stopped {
        view: String,
        position: u64,
        reason: String,
    },
    Unreadable {
        view: String,
        error: String,
    },
}

impl Mismatch {
    pub(crate) fn new(
        contexts: Vec<ContextDiff>,
        views: Vec<ViewDiff>,
        missing_dead_letters: Vec<String>,
        dead_letters: Vec<DeadLetter>,
    ) -> Self {
        Self {
            when: When::Before,
            names: Vec::new(),
            contexts,
            views,
            missing_dead_letters,
            dead_letters,
            busy: None,
        }
    }

    pub(crate) fn names(names: Vec<String>) -> Self {
        Self {
            names,
            ..Self::new(Vec::new(), Vec::new(), Vec::new(), Vec::new())
        }
    }

    pub(crate) fn unsettled(busy: String, waited: Duration) -> Self {
        Self {
            when: When::TimedOut(waited),
            busy: Some(busy),
            ..Self::new(Vec::new(), Vec::new(), Vec::new(), Vec::new())
        }
    }

    pub(crate) fn timed_out(mut self, waited: Duration) -> Self {
        self.when = When::TimedOut(waited);
        self
    }

    pub(crate) fn settled(mut self, waited: Duration) -> Self {
        self.when = When::Settled(waited);
        self
    }

    /// The contexts whose events differ from the expectation.
    pub fn contexts(&self) -> Vec<&str> {
        self.contexts
            .iter()
            .map(|diff| diff.context.as_str())
            .collect()
    }

    /// The dead letters the system produced, expected or not.
    pub fn dead_letters(&self) -> &[DeadLetter] {
        &self.dead_letters
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.names.is_empty() {
            writeln!(f, "the scenario names what the system does not have:")?;
            for name in &self.names {
                writeln!(f, "  - {name}")?;
            }
            return Ok(());
        }
        match &self.when {
            When::Before => writeln!(f, "the system did not do what the scenario expects:")?,
            When::TimedOut(waited) => writeln!(
                f,
                "the system did not do what the scenario expects within {:.1} s:",
                waited.as_secs_f64()
            )?,
            When::Settled(waited) => writeln!(
                f,
                "the system did what the scenario expects, then more before it settled ({:.1} s):",
                waited.as_secs_f64()
            )?,
        }
        if let Some(busy) = &self.busy {
            writeln!(f, "  still busy: {busy}")?;
        }
        for diff in &self.contexts {
            write!(f, "{diff}")?;
        }
        for diff in &self.views {
            write!(f, "{diff}")?;
        }
        for consumer in &self.missing_dead_letters {
            writeln!(
                f,
                "  dead letters: none from a consumer named like `{consumer}`"
            )?;
        }
        if !self.dead_letters.is_empty() {
            writeln!(f, "  dead letters (consumers that gave up on an event):")?;
            for letter in &self.dead_letters {
                writeln!(
                    f,
                    "    {} gave up on {} after {} attempt(s): {}",
                    letter.consumer, letter.event_type, letter.attempts, letter.reason
                )?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for ContextDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {}:", self.context)?;
        for (expected, near) in &self.missing {
            writeln!(f, "    - expected, not recorded: {expected}")?;
            write_near(f, near.as_deref(), "the nearest event recorded")?;
        }
        for recorded in &self.unexpected {
            writeln!(f, "    + recorded, not expected: {}", Shown(recorded))?;
        }
        if self.recorded.is_empty() {
            writeln!(f, "      (it recorded no event)")?;
        } else if self.recorded.len() > self.unexpected.len() {
            writeln!(f, "      it recorded, in order:")?;
            for recorded in &self.recorded {
                writeln!(f, "        {}", Shown(recorded))?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for ViewDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rows {
                view,
                missing,
                unexpected,
            } => {
                writeln!(f, "  view {view}:")?;
                for (row, near) in missing {
                    writeln!(f, "    - expected row, not there: {}", cut(row))?;
                    write_near(f, near.as_deref(), "the nearest row")?;
                }
                for row in unexpected {
                    writeln!(f, "    + row there, not expected: {}", cut(row))?;
                }
                Ok(())
            }
            Self::Stopped {
                view,
                position,
                reason,
            } => writeln!(f, "  view {view}: stopped at event {position}: {reason}"),
            Self::Unreadable { view, error } => {
                writeln!(f, "  view {view}: its rows could not be read: {error}")
            }
        }
    }
}

/// How the nearest candidate differs, indented under what was expected.
fn write_near(f: &mut fmt::Formatter<'_>, near: Option<&[String]>, nearest: &str) -> fmt::Result {
    let Some(differences) = near.filter(|differences| !differences.is_empty()) else {
        return Ok(());
    };
    writeln!(f, "        {nearest} differs in:")?;
    for difference in differences {
        writeln!(f, "          {difference}")?;
    }
    Ok(())
}

/// A recorded event on one line.
struct Shown<'a>(&'a Recorded);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = self.0;
        write!(
            f,
            "{}.{} of {} {}",
            event.aggregate_type,
            event.event_type,
            event.aggregate_id,
            cut(&event.payload)
        )
    }
}

fn cut(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(PAYLOAD_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}
