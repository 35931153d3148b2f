//! "Did you mean ...?": the closest known name by edit distance.

/// The candidate closest to `wrong`, if one is close enough to be a plausible typo.
///
/// A candidate that differs only in case always qualifies; otherwise the edit distance
/// (transpositions count once) may be at most a third of the longer name, and at least 1.
pub(crate) fn closest<'a, I>(wrong: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = wrong.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == wrong {
            continue;
        }
        let distance = if candidate.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(wrong, candidate)
        };
        let limit = (wrong.chars().count().max(candidate.chars().count()) / 3).max(1);
        let better = best.is_none_or(|(best_distance, best_name)| {
            (distance, candidate) < (best_distance, best_name)
        });
        if distance <= limit && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_a_typo() {
        assert_eq!(
            closest("OrderLin", ["Order", "OrderLine", "Money"]),
            Some("OrderLine")
        );
        assert_eq!(
            closest("Mony", ["Order", "OrderLine", "Money"]),
            Some("Money")
        );
    }

    #[test]
    fn prefers_a_case_difference() {
        assert_eq!(closest("string", ["Json", "String"]), Some("String"));
    }

    #[test]
    fn ignores_far_names_and_the_name_itself() {
        assert_eq!(closest("Payment", ["Shipment", "Payment"]), None);
        assert_eq!(closest("Xyz", ["OrderLine"]), None);
    }

    #[test]
    fn is_deterministic_on_ties() {
        assert_eq!(closest("Ab", ["Bb", "Aa"]), Some("Aa"));
    }
}
