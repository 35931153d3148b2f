//! serde's `rename_all` rules, to know the key serde gives a variant. They are serde's
//! convention, not ours: serde's snake case splits `HTTPRequestSent` into `h_t_t_p_…`,
//! where the dispatch methods (`ddd_names::handler`, `ddd_names::applier`) keep acronyms
//! together.

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

#[cfg(test)]
mod tests {
    use super::*;

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
        // Not the case of the dispatch methods, which keep the acronym together.
        assert_eq!(
            RenameRule::Snake.apply_to_variant("HTTPRequestSent"),
            "h_t_t_p_request_sent"
        );
    }
}
