//! Escaping for HTML and SVG text and attributes, and for JSON embedded in a script.

/// Text safe inside an element or a quoted attribute; the diagrams' labels are escaped by
/// the same function.
pub use ddd_model::graph::escape_html as escape;

/// JSON that cannot close the script holding it nor start markup: `<`, `>` and `&` are
/// written as `\u` escapes (which only ever occur inside JSON strings), and so are the two
/// line separators JavaScript once refused in string literals.
pub fn script_json(value: &serde_json::Value) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn script_json_has_no_markup_and_reads_back() {
        let value = serde_json::json!({"doc": "</script><b>&</b>\u{2028}"});
        let text = script_json(&value);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
