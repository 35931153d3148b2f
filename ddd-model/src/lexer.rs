//! Splits `.ddd` text into tokens. Never fails: a bad character becomes a diagnostic and
//! lexing goes on, so the parser sees the rest of the file.

use crate::diagnostic::{Code, Diagnostic};
use crate::name::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Ident,
    Int,
    Float,
    /// A `"..."` literal; its value comes from [`unescape`].
    Str,
    /// A `/// ...` line; its text comes from [`doc_text`].
    Doc,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Lt,
    Gt,
    Comma,
    Colon,
    Dot,
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    At,
    Minus,
    Plus,
    Star,
    LBracket,
    RBracket,
    Semi,
    /// `->`
    Arrow,
    /// `<->`
    BothArrow,
    /// `..`
    DotDot,
    /// `..=`
    DotDotEq,
    Newline,
    Eof,
}

impl TokenKind {
    /// How the token is named in "expected ..., found ..." messages.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "a name",
            TokenKind::Int | TokenKind::Float => "a number",
            TokenKind::Str => "a string",
            TokenKind::Doc => "a doc comment",
            TokenKind::LBrace => "`{`",
            TokenKind::RBrace => "`}`",
            TokenKind::LParen => "`(`",
            TokenKind::RParen => "`)`",
            TokenKind::Lt => "`<`",
            TokenKind::Gt => "`>`",
            TokenKind::Comma => "`,`",
            TokenKind::Colon => "`:`",
            TokenKind::Dot => "`.`",
            TokenKind::Eq => "`=`",
            TokenKind::EqEq => "`==`",
            TokenKind::NotEq => "`!=`",
            TokenKind::At => "`@`",
            TokenKind::Minus => "`-`",
            TokenKind::Plus => "`+`",
            TokenKind::Star => "`*`",
            TokenKind::LBracket => "`[`",
            TokenKind::RBracket => "`]`",
            TokenKind::Semi => "`;`",
            TokenKind::Arrow => "`->`",
            TokenKind::BothArrow => "`<->`",
            TokenKind::DotDot => "`..`",
            TokenKind::DotDotEq => "`..=`",
            TokenKind::Newline => "a line break",
            TokenKind::Eof => "the end of the file",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Tokens of `source`, always ending with [`TokenKind::Eof`], and the lexical errors.
pub fn lex(source: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    lex_at(source, 0)
}

/// [`lex`] for a text that starts at offset `base` of a larger source (a file of a model
/// made of several, an expression kept in the model): every span is shifted by `base`.
pub fn lex_at(source: &str, base: u32) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer {
        source,
        bytes: source.as_bytes(),
        at: 0,
        tokens: Vec::new(),
        diagnostics: Vec::new(),
    };
    lexer.run();
    if base > 0 {
        for token in &mut lexer.tokens {
            token.span = token.span.shift(base);
        }
        for diagnostic in &mut lexer.diagnostics {
            diagnostic.shift(base);
        }
    }
    (lexer.tokens, lexer.diagnostics)
}

struct Lexer<'a> {
    source: &'a str,
    bytes: &'a [u8],
    at: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
}

impl Lexer<'_> {
    fn run(&mut self) {
        while let Some(&byte) = self.bytes.get(self.at) {
            let start = self.at;
            match byte {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => self.single(TokenKind::Newline, 1),
                b'/' => self.comment(),
                b'"' => self.string(),
                b'0'..=b'9' => self.number(),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.ident(),
                b'{' => self.single(TokenKind::LBrace, 1),
                b'}' => self.single(TokenKind::RBrace, 1),
                b'(' => self.single(TokenKind::LParen, 1),
                b')' => self.single(TokenKind::RParen, 1),
                b'>' => self.single(TokenKind::Gt, 1),
                b',' => self.single(TokenKind::Comma, 1),
                b':' => self.single(TokenKind::Colon, 1),
                b'=' if self.rest().starts_with("==") => self.single(TokenKind::EqEq, 2),
                b'=' => self.single(TokenKind::Eq, 1),
                b'!' if self.rest().starts_with("!=") => self.single(TokenKind::NotEq, 2),
                b'@' => self.single(TokenKind::At, 1),
                b'+' => self.single(TokenKind::Plus, 1),
                b'*' => self.single(TokenKind::Star, 1),
                b'[' => self.single(TokenKind::LBracket, 1),
                b']' => self.single(TokenKind::RBracket, 1),
                b';' => self.single(TokenKind::Semi, 1),
                b'<' if self.rest().starts_with("<->") => self.single(TokenKind::BothArrow, 3),
                b'<' => self.single(TokenKind::Lt, 1),
                b'-' if self.rest().starts_with("->") => self.single(TokenKind::Arrow, 2),
                b'-' => self.single(TokenKind::Minus, 1),
                b'.' if self.rest().starts_with("..=") => self.single(TokenKind::DotDotEq, 3),
                b'.' if self.rest().starts_with("..") => self.single(TokenKind::DotDot, 2),
                b'.' => self.single(TokenKind::Dot, 1),
                _ => self.unexpected(),
            }
            debug_assert!(self.at > start, "the lexer must always make progress");
        }
        self.push(TokenKind::Eof, self.at, self.at);
    }

    fn rest(&self) -> &str {
        &self.source[self.at..]
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, end),
        });
    }

    fn single(&mut self, kind: TokenKind, len: usize) {
        self.push(kind, self.at, self.at + len);
        self.at += len;
    }

    fn eat_while(&mut self, keep: impl Fn(u8) -> bool) {
        while self.bytes.get(self.at).is_some_and(|&byte| keep(byte)) {
            self.at += 1;
        }
    }

    fn comment(&mut self) {
        let start = self.at;
        if !self.rest().starts_with("//") {
            self.at += 1;
            self.error(start, "unexpected `/`", "comments start with `//`");
            return;
        }
        self.eat_while(|byte| byte != b'\n');
        // `///` documents the next item; `////...` is an ordinary comment, as in Rust.
        let text = &self.source[start..self.at];
        if text.starts_with("///") && !text.starts_with("////") {
            self.push(TokenKind::Doc, start, self.at);
        }
    }

    fn string(&mut self) {
        let start = self.at;
        self.at += 1;
        loop {
            match self.bytes.get(self.at) {
                None | Some(b'\n') => {
                    self.error(
                        start,
                        "unterminated string",
                        "add a closing `\"` on this line",
                    );
                    break;
                }
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => self.at = (self.at + 2).min(self.bytes.len()),
                Some(_) => self.at += 1,
            }
        }
        // Keep the token on a character boundary even if an escape swallowed half a character.
        while !self.source.is_char_boundary(self.at) {
            self.at += 1;
        }
        self.push(TokenKind::Str, start, self.at);
        if let Err((offset, message)) = unescape(&self.source[start..self.at]) {
            self.error(
                start + offset,
                message,
                "supported escapes: \\\" \\\\ \\n \\t",
            );
        }
    }

    fn number(&mut self) {
        let start = self.at;
        self.eat_while(|byte| byte.is_ascii_digit() || byte == b'_');
        let mut kind = TokenKind::Int;
        // `1..=9` is a range, not the float `1.`: a fraction needs a digit after the dot.
        if self.bytes.get(self.at) == Some(&b'.')
            && self.bytes.get(self.at + 1).is_some_and(u8::is_ascii_digit)
        {
            kind = TokenKind::Float;
            self.at += 1;
            self.eat_while(|byte| byte.is_ascii_digit() || byte == b'_');
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.bytes.get(self.at + 1), Some(b'+' | b'-')));
            if self
                .bytes
                .get(self.at + 1 + sign)
                .is_some_and(u8::is_ascii_digit)
            {
                kind = TokenKind::Float;
                self.at += 1 + sign;
                self.eat_while(|byte| byte.is_ascii_digit());
            }
        }
        self.push(kind, start, self.at);
    }

    fn ident(&mut self) {
        let start = self.at;
        self.eat_while(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
        self.push(TokenKind::Ident, start, self.at);
    }

    /// One diagnostic for a whole run of characters the language has no use for, so binary
    /// garbage does not produce one error per byte.
    fn unexpected(&mut self) {
        let start = self.at;
        let is_junk = |c: char| {
            !(c.is_ascii_alphanumeric()
                || c.is_ascii_whitespace()
                || "/\"{}()<>,:=@-._+*[];".contains(c))
        };
        let len: usize = self
            .rest()
            .chars()
            .take_while(|&c| is_junk(c))
            .map(char::len_utf8)
            .sum();
        self.at += len.max(1);
        let text = &self.source[start..self.at];
        let first = text.chars().next().unwrap_or('?');
        let message = if text.chars().count() == 1 {
            format!("unexpected character `{}`", first.escape_debug())
        } else {
            format!("unexpected characters `{}`", text.escape_debug())
        };
        let help = if first.is_alphabetic() {
            "names are ASCII letters, digits and `_`"
        } else {
            "this character has no meaning here"
        };
        self.diagnostics.push(
            Diagnostic::error(Code::Syntax, message)
                .at(Span::new(start, self.at))
                .with_help(help),
        );
    }

    fn error(&mut self, at: usize, message: impl Into<String>, help: &str) {
        let end = self.source[at..]
            .chars()
            .next()
            .map_or(at, |c| at + c.len_utf8());
        self.diagnostics.push(
            Diagnostic::error(Code::Syntax, message)
                .at(Span::new(at, end))
                .with_help(help),
        );
    }
}

/// The value of a string literal token (with its quotes), or the byte offset (within the
/// token) and message of its first bad escape.
pub fn unescape(token: &str) -> Result<String, (usize, String)> {
    let inner = token.strip_prefix('"').unwrap_or(token);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => value.push('"'),
            Some((_, '\\')) => value.push('\\'),
            Some((_, 'n')) => value.push('\n'),
            Some((_, 't')) => value.push('\t'),
            Some((_, other)) => {
                return Err((
                    at + 1,
                    format!("unknown escape `\\{}`", other.escape_debug()),
                ));
            }
            None => return Err((at + 1, "a string cannot end with `\\`".to_owned())),
        }
    }
    Ok(value)
}

/// The text of a `///` doc comment token, without the slashes and one leading space.
pub fn doc_text(token: &str) -> &str {
    let text = token.strip_prefix("///").unwrap_or(token);
    text.strip_prefix(' ').unwrap_or(text).trim_end()
}

#[cfg(test)]
mod tests {
    use super::TokenKind::*;
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        let (tokens, diagnostics) = lex(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        tokens.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn ranges_are_not_floats() {
        assert_eq!(kinds("1..=999"), [Int, DotDotEq, Int, Eof]);
        assert_eq!(kinds("0.. ..=5"), [Int, DotDot, DotDotEq, Int, Eof]);
        assert_eq!(kinds("0.5..=1.5e3"), [Float, DotDotEq, Float, Eof]);
    }

    #[test]
    fn arrows_and_generics() {
        assert_eq!(
            kinds("A -> B <-> C"),
            [Ident, Arrow, Ident, BothArrow, Ident, Eof]
        );
        assert_eq!(
            kinds("Vec<Option<T>>"),
            [Ident, Lt, Ident, Lt, Ident, Gt, Gt, Eof]
        );
        assert_eq!(kinds("customer-supplier"), [Ident, Minus, Ident, Eof]);
    }

    #[test]
    fn comments_and_docs() {
        assert_eq!(
            kinds("// x\n/// doc\n//// not doc\nA"),
            [Newline, Doc, Newline, Newline, Ident, Eof]
        );
        assert_eq!(doc_text("/// Money in cents.  "), "Money in cents.");
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            kinds(r#"@pattern("^a\"b$")"#),
            [At, Ident, LParen, Str, RParen, Eof]
        );
        assert_eq!(unescape(r#""a\"b\\n""#).unwrap(), "a\"b\\n");
        assert!(unescape(r#""\q""#).is_err());
    }

    #[test]
    fn bad_characters_are_reported_once_per_run() {
        let (tokens, diagnostics) = lex("a $%^ b é");
        assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
        assert_eq!(tokens.iter().filter(|t| t.kind == Ident).count(), 2);
        let (_, diagnostics) = lex("\"open\nx");
        assert_eq!(diagnostics[0].message, "unterminated string");
    }
}
