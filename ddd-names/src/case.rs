//! Cases. Words split at a lower-to-upper change, before the last capital of an acronym that
//! a lowercase letter follows, after digits, and at `-`, `_` and spaces:
//! `HTTPRequestSent` → `http`, `request`, `sent`; `V2Opened` → `v2`, `opened`.

/// The words of a name, lowercase.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &ch) in chars.iter().enumerate() {
        if !ch.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if ch.is_uppercase() && i > 0 && !word.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(ch.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// `snake_case`: `ShoppingCart` → `shopping_cart`.
pub fn snake(name: &str) -> String {
    words(name).join("_")
}

/// `kebab-case`: `ShoppingCart` → `shopping-cart`.
pub fn kebab(name: &str) -> String {
    words(name).join("-")
}

/// `SCREAMING_SNAKE_CASE`: `ShoppingCart` → `SHOPPING_CART`.
pub fn screaming_snake(name: &str) -> String {
    snake(name).to_uppercase()
}

/// `PascalCase`: `shopping-cart` → `ShoppingCart`, `http_request` → `HttpRequest`.
pub fn pascal(name: &str) -> String {
    words(name)
        .iter()
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acronyms_stay_together() {
        for (name, expected) in [
            ("Open", "open"),
            ("OpenAccount", "open_account"),
            ("HTTPRequestSent", "http_request_sent"),
            ("V2Opened", "v2_opened"),
            ("Opened2", "opened2"),
            ("already_snake", "already_snake"),
            ("kebab-case", "kebab_case"),
        ] {
            assert_eq!(snake(name), expected, "{name}");
        }
    }

    #[test]
    fn other_cases() {
        assert_eq!(kebab("ShoppingCart"), "shopping-cart");
        assert_eq!(pascal("shopping-cart"), "ShoppingCart");
        assert_eq!(
            pascal("PlaceOrderOnCartCheckedOut"),
            "PlaceOrderOnCartCheckedOut"
        );
        assert_eq!(screaming_snake("ShoppingCart"), "SHOPPING_CART");
    }
}
