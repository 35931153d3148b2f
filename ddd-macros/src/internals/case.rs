//! Case conversions: serde's `rename_all` rules (to know the key serde gives a variant) and
//! the snake case of dispatch method names (`OpenAccount` → `handle_open_account`).

/// A serde `rename_all` rule, applied to variant names exactly as serde applies it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum RenameRule {
    /// `lowercase`
    Lower,
    /// `UPPERCASE`
    Upper,
    /// `PascalCase`: variants already are.
    Pascal,
    /// `camelCase`
    Camel,
    /// `snake_case`
    Snake,
    /// `SCREAMING_SNAKE_CASE`
    ScreamingSnake,
    /// `kebab-case`
    Kebab,
    /// `SCREAMING-KEBAB-CASE`
    ScreamingKebab,
}

impl RenameRule {
    /// The rule serde calls `name`; `None` for a name serde rejects itself.
    pub(crate) fn from_serde(name: &str) -> Option<Self> {
        Some(match name {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    /// The serde key of a variant called `variant` in Rust.
    pub(crate) fn apply_to_variant(self, variant: &str) -> String {
        match self {
            Self::Pascal => variant.to_owned(),
            Self::Lower => variant.to_ascii_lowercase(),
            Self::Upper => variant.to_ascii_uppercase(),
            Self::Camel => {
                let mut chars = variant.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_lowercase().to_string() + chars.as_str()
                })
            }
            Self::Snake => {
                let mut snake = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                }
                snake
            }
            Self::ScreamingSnake => Self::Snake.apply_to_variant(variant).to_ascii_uppercase(),
            Self::Kebab => Self::Snake.apply_to_variant(variant).replace('_', "-"),
            Self::ScreamingKebab => Self::ScreamingSnake
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }
}

/// The snake case of a variant name for a method name. Unlike serde's rule it keeps
/// acronyms together: `HTTPRequestSent` → `http_request_sent`, `V2Opened` → `v2_opened`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, &ch) in chars.iter().enumerate() {
        if ch.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                snake.push('_');
            }
        }
        snake.extend(ch.to_lowercase());
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_keep_acronyms_together() {
        for (variant, method) in [
            ("Open", "open"),
            ("OpenAccount", "open_account"),
            ("HTTPRequestSent", "http_request_sent"),
            ("V2Opened", "v2_opened"),
            ("Opened2", "opened2"),
            ("already_snake", "already_snake"),
        ] {
            assert_eq!(snake_case(variant), method, "{variant}");
        }
    }

    #[test]
    fn serde_rules_match_serde() {
        let cases = [
            (RenameRule::Lower, "moneydeposited"),
            (RenameRule::Upper, "MONEYDEPOSITED"),
            (RenameRule::Pascal, "MoneyDeposited"),
            (RenameRule::Camel, "moneyDeposited"),
            (RenameRule::Snake, "money_deposited"),
            (RenameRule::ScreamingSnake, "MONEY_DEPOSITED"),
            (RenameRule::Kebab, "money-deposited"),
            (RenameRule::ScreamingKebab, "MONEY-DEPOSITED"),
        ];
        for (rule, key) in cases {
            assert_eq!(rule.apply_to_variant("MoneyDeposited"), key, "{rule:?}");
        }
    }
}
