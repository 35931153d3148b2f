//! A store's URL options (`?max_connections=8&connect_retry=5s`): the error every store
//! reports for a URL it cannot use, and the parsers of the values its options share.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// A URL or option that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The URL does not parse, or does not name a usable database.
    #[error("malformed database URL `{url}`: {reason}")]
    Malformed {
        /// The URL, password redacted.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The URL is for another database.
    #[error("unsupported URL scheme `{found}`: expected {expected}")]
    Scheme {
        /// The scheme found.
        found: String,
        /// The schemes accepted.
        expected: &'static str,
    },
    /// An option with a bad value.
    #[error("option `{name}={value}`: {reason}")]
    InvalidOption {
        /// The option.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// An option nobody reads.
    #[error("unknown option `{name}` in the database URL; known options: {known}")]
    UnknownOption {
        /// The option.
        name: String,
        /// Every option accepted.
        known: String,
    },
}

/// Option `name` cannot be `value`, for `reason`.
pub fn invalid(name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidOption {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn whole<T: FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| invalid(name, value, "expected a whole number"))
}

/// A whole number of at least `min`.
pub fn at_least<T: FromStr + PartialOrd + Display>(
    name: &str,
    value: &str,
    min: T,
) -> Result<T, ConfigError> {
    let parsed = whole(name, value)?;
    if parsed < min {
        return Err(invalid(name, value, &format!("too small: at least {min}")));
    }
    Ok(parsed)
}

/// A whole number from `min` to `max`.
pub fn between<T: FromStr + PartialOrd + Display>(
    name: &str,
    value: &str,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    let parsed = whole(name, value)?;
    if parsed < min || parsed > max {
        return Err(invalid(
            name,
            value,
            &format!("must be from {min} to {max}"),
        ));
    }
    Ok(parsed)
}

/// `true`, `on`, `1`, `yes` or their opposites.
pub fn flag(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "true" | "on" | "1" | "yes" => Ok(true),
        "false" | "off" | "0" | "no" => Ok(false),
        _ => Err(invalid(name, value, "expected true or false")),
    }
}

/// `500ms`, `5s`, `2m` or plain seconds.
pub fn duration(name: &str, value: &str) -> Result<Duration, ConfigError> {
    let (digits, unit) = value
        .find(|c: char| !c.is_ascii_digit())
        .map_or((value, ""), |at| value.split_at(at));
    let amount: u64 = digits
        .parse()
        .map_err(|_| invalid(name, value, "expected a duration such as 500ms, 5s or 2m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(amount)),
        "" | "s" => Ok(Duration::from_secs(amount)),
        "m" => Ok(Duration::from_secs(amount.saturating_mul(60))),
        _ => Err(invalid(name, value, "the unit must be ms, s or m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason<T: std::fmt::Debug>(parsed: Result<T, ConfigError>) -> String {
        parsed.expect_err("refused").to_string()
    }

    #[test]
    fn values_parse_or_say_what_is_expected() {
        assert_eq!(
            duration("d", "500ms").ok(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(duration("d", "7").ok(), Some(Duration::from_secs(7)));
        assert_eq!(duration("d", "2m").ok(), Some(Duration::from_secs(120)));
        assert!(reason(duration("d", "1h")).contains("the unit must be ms, s or m"));
        assert!(reason(duration("d", "soon")).contains("such as 500ms"));
        assert_eq!(flag("f", "on").ok(), Some(true));
        assert_eq!(flag("f", "no").ok(), Some(false));
        assert!(reason(flag("f", "maybe")).contains("true or false"));
        assert_eq!(at_least("n", "3", 1_u32).ok(), Some(3));
        assert!(reason(at_least("n", "0", 1_u32)).contains("too small"));
        assert!(reason(at_least::<u32>("n", "-1", 0)).contains("whole number"));
        assert!(reason(between("n", "65", 1, 64)).contains("must be from 1 to 64"));
        assert_eq!(
            reason(flag("outbox", "x")),
            "option `outbox=x`: expected true or false"
        );
    }
}
