//! Hand-written recursive descent over the tokens of [`crate::lexer`].
//!
//! Errors do not stop the parse: a member that does not parse is reported, skipped up to the
//! next line break, `,` or closing `}` at its own nesting level, and parsing goes on, so one
//! run reports every syntax error of a file.

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::lexer::{self, Token, TokenKind};
use crate::name::Span;
use crate::suggest;
use crate::symbol;

mod expression;

/// Deeper type nesting than this is refused, so hostile input cannot exhaust the stack.
const MAX_TYPE_DEPTH: usize = 16;

/// Parses a whole file; the tree holds every item that parsed, the diagnostics every error.
pub fn parse(source: &str) -> (File, Vec<Diagnostic>) {
    parse_at(source, 0)
}

/// [`parse`] for a file that starts at offset `base` of a model's sources (see
/// [`crate::sources`]): spans are offsets into the whole model.
pub fn parse_at(source: &str, base: u32) -> (File, Vec<Diagnostic>) {
    let mut parser = Parser::new(source, base);
    let file = parser.file();
    (file, parser.diagnostics)
}

/// Parses one expression, written at offset `base`: what the model keeps of `requires`,
/// `sets`, `with` and view fields is their text, typed again on every check.
pub fn parse_expression(source: &str, base: u32) -> (Option<Expr>, Vec<Diagnostic>) {
    let mut parser = Parser::new(source, base);
    parser.skip_newlines();
    let expr = parser.expression();
    parser.skip_newlines();
    if expr.is_some() && !parser.at(TokenKind::Eof) {
        parser.error_expected("the end of the expression");
        return (None, parser.diagnostics);
    }
    (expr, parser.diagnostics)
}

struct Parser<'a> {
    source: &'a str,
    /// Where `source` starts in the model's sources.
    base: u32,
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    /// `///` lines seen since the last member, waiting for the item they document.
    docs: Vec<(Span, String)>,
}

// Token access.
impl<'a> Parser<'a> {
    fn new(source: &'a str, base: u32) -> Parser<'a> {
        let (tokens, diagnostics) = lexer::lex_at(source, base);
        Parser {
            source,
            base,
            tokens,
            pos: 0,
            diagnostics,
            docs: Vec::new(),
        }
    }

    fn nth(&self, n: usize) -> Token {
        let last = self.tokens.len() - 1;
        self.tokens[(self.pos + n).min(last)]
    }

    fn peek(&self) -> Token {
        self.nth(0)
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    /// Borrows the source, not the parser, so a match on it can call `&mut self` methods.
    fn text(&self, token: Token) -> &'a str {
        self.slice(token.span)
    }

    /// The source text of a span of this file.
    fn slice(&self, span: Span) -> &'a str {
        let local = |offset: u32| (offset - self.base) as usize;
        &self.source[local(span.start)..local(span.end)]
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        let token = self.peek();
        token.kind == TokenKind::Ident && self.text(token) == keyword
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        self.at(kind).then(|| self.bump())
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> Option<Token> {
        let found = self.eat(kind);
        if found.is_none() {
            self.error_expected(expected);
        }
        found
    }

    fn ident(&mut self, expected: &str) -> Option<Ident> {
        let token = self.expect(TokenKind::Ident, expected)?;
        Some(Ident {
            text: self.text(token).to_owned(),
            span: token.span,
        })
    }

    fn describe(&self, token: Token) -> String {
        match token.kind {
            TokenKind::Ident => format!("`{}`", self.text(token)),
            TokenKind::Int | TokenKind::Float => format!("the number `{}`", self.text(token)),
            kind => kind.describe().to_owned(),
        }
    }

    fn error_expected(&mut self, expected: &str) -> Diagnostic {
        let token = self.peek();
        let diagnostic = Diagnostic::error(
            Code::Syntax,
            format!("expected {expected}, found {}", self.describe(token)),
        )
        .at(token.span)
        .with_label(format!("expected {expected}"));
        self.diagnostics.push(diagnostic.clone());
        diagnostic
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Replaces the help of the diagnostic just reported.
    fn help_last(&mut self, help: impl Into<String>) {
        if let Some(last) = self.diagnostics.last_mut() {
            last.help = Some(help.into());
        }
    }
}

// Layout: line breaks, separators, doc comments, recovery.
impl Parser<'_> {
    /// Skips line breaks and `,` between members, collecting doc comments on the way.
    fn skip_separators(&mut self, commas: bool) {
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Newline | TokenKind::Semi => {}
                TokenKind::Comma if commas => {}
                TokenKind::Doc => {
                    let text = lexer::doc_text(self.text(token)).to_owned();
                    self.docs.push((token.span, text));
                }
                _ => return,
            }
            self.bump();
        }
    }

    fn take_doc(&mut self) -> Option<String> {
        if self.docs.is_empty() {
            return None;
        }
        let lines: Vec<String> = self.docs.drain(..).map(|(_, text)| text).collect();
        Some(lines.join("\n"))
    }

    /// Doc comments followed by nothing they could document.
    fn drop_docs(&mut self) {
        if let Some((span, _)) = self.docs.first().cloned() {
            self.docs.clear();
            self.report(
                Diagnostic::warning(Code::UnusedDoc, "doc comment documents nothing")
                    .at(span)
                    .with_help("put it right before an item, or use `//` for a plain comment"),
            );
        }
    }

    /// After a member: it must end at a line break, a `,`, or the closing `}`.
    fn end_member(&mut self, what: &str) {
        if !matches!(
            self.peek().kind,
            TokenKind::Newline
                | TokenKind::Semi
                | TokenKind::Comma
                | TokenKind::RBrace
                | TokenKind::Eof
                | TokenKind::Doc
        ) {
            self.error_expected(&format!("a line break or `,` after the {what}"));
            self.recover();
        }
    }

    /// Skips the rest of a broken member: up to a line break, `,` or `}` at its own nesting
    /// level (nested `{ }` and `( )` are skipped whole).
    fn recover(&mut self) {
        let mut depth = 0usize;
        loop {
            let kind = self.peek().kind;
            match kind {
                TokenKind::Eof => return,
                TokenKind::Newline | TokenKind::Semi | TokenKind::Comma | TokenKind::RBrace
                    if depth == 0 =>
                {
                    return;
                }
                TokenKind::LBrace | TokenKind::LParen => depth += 1,
                TokenKind::RBrace | TokenKind::RParen => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    fn skip_newlines(&mut self) {
        while self.at(TokenKind::Newline) {
            self.bump();
        }
    }

    /// Whether the token at `index` starts a member (`name:` or `keyword Name`), which ends a
    /// comma-separated list written on the same line as other members.
    fn starts_member(&self, index: usize) -> bool {
        let Some(token) = self.tokens.get(index) else {
            return false;
        };
        let next = self.tokens.get(index + 1).map(|t| t.kind);
        token.kind == TokenKind::Ident
            && (next == Some(TokenKind::Colon)
                || (symbol::MEMBER_KEYWORDS.contains(&self.text(*token))
                    && matches!(next, Some(TokenKind::Ident | TokenKind::LBrace))))
    }

    /// At `, Name` (line breaks allowed after the comma) that continues a list of names: moves
    /// past the comma and returns true.
    fn list_continues(&mut self, continues: impl Fn(&Self, usize) -> bool) -> bool {
        if !self.at(TokenKind::Comma) {
            return false;
        }
        let mut index = self.pos + 1;
        while matches!(
            self.tokens.get(index).map(|t| t.kind),
            Some(TokenKind::Newline)
        ) {
            index += 1;
        }
        if !continues(self, index) {
            return false;
        }
        self.pos = index;
        true
    }

    /// At a line break followed by one of `keywords` (and not by a field `keyword: T`): the
    /// member goes on with that clause on the next line, so a long command can be wrapped
    /// before `requires` or `emits`. Moves to the keyword.
    fn clause_continues(&mut self, keywords: &[&str]) {
        let mut index = self.pos;
        while self.tokens.get(index).map(|t| t.kind) == Some(TokenKind::Newline) {
            index += 1;
        }
        let next = self.tokens.get(index + 1).map(|t| t.kind);
        let continues = index > self.pos
            && next != Some(TokenKind::Colon)
            && self
                .tokens
                .get(index)
                .is_some_and(|t| t.kind == TokenKind::Ident && keywords.contains(&self.text(*t)));
        if continues {
            self.pos = index;
        }
    }

    /// At a line break after which a new member starts (`event Placed(...)`): a list that
    /// is still open there (a `(` never closed) ends before it.
    fn at_line_member(&self) -> bool {
        let mut index = self.pos;
        if self.tokens.get(index).map(|t| t.kind) != Some(TokenKind::Newline) {
            return false;
        }
        while matches!(
            self.tokens.get(index).map(|t| t.kind),
            Some(TokenKind::Newline | TokenKind::Doc)
        ) {
            index += 1;
        }
        let next = self.tokens.get(index + 1).map(|t| t.kind);
        self.tokens.get(index).is_some_and(|t| {
            t.kind == TokenKind::Ident
                && symbol::MEMBER_KEYWORDS.contains(&self.text(*t))
                && matches!(next, Some(TokenKind::Ident | TokenKind::LBrace))
        })
    }

    fn name_continues(&self, index: usize) -> bool {
        self.tokens
            .get(index)
            .is_some_and(|t| t.kind == TokenKind::Ident)
            && !self.starts_member(index)
    }

    /// The members of a `{ ... }` block; `open` is the `{`.
    fn block<T>(
        &mut self,
        open: Token,
        owner: &str,
        mut member: impl FnMut(&mut Self, Option<String>) -> Option<T>,
    ) -> Vec<T> {
        let mut members = Vec::new();
        loop {
            self.skip_separators(true);
            match self.peek().kind {
                TokenKind::RBrace => {
                    self.drop_docs();
                    self.bump();
                    return members;
                }
                TokenKind::Eof => {
                    self.drop_docs();
                    self.report(
                        Diagnostic::error(Code::Syntax, format!("unclosed `{{` of {owner}"))
                            .at(open.span)
                            .with_label("this `{` is never closed")
                            .with_help("add a `}` at the end of the block"),
                    );
                    return members;
                }
                _ => {}
            }
            let start = self.pos;
            let doc = self.take_doc();
            match member(self, doc) {
                Some(parsed) => members.push(parsed),
                None => self.recover(),
            }
            if self.pos == start {
                self.bump();
            }
        }
    }
}

// Items.
impl Parser<'_> {
    fn file(&mut self) -> File {
        let mut items = Vec::new();
        loop {
            self.skip_separators(true);
            let token = self.peek();
            match token.kind {
                TokenKind::Eof => {
                    self.drop_docs();
                    return File { items };
                }
                TokenKind::RBrace => {
                    self.drop_docs();
                    self.report(
                        Diagnostic::error(Code::Syntax, "unexpected `}`")
                            .at(token.span)
                            .with_label("no block to close here"),
                    );
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let start = self.pos;
            let doc = self.take_doc();
            match self.top_item(doc) {
                Some(item) => items.push(item),
                None => self.recover(),
            }
            if self.pos == start {
                self.bump();
            }
        }
    }

    fn top_item(&mut self, doc: Option<String>) -> Option<Item> {
        let token = self.peek();
        let expected = "an item (`system`, `import`, `value`, `enum`, `type`, `context` or `map`)";
        if token.kind != TokenKind::Ident {
            self.error_expected(expected);
            return None;
        }
        let item = match self.text(token) {
            symbol::SYSTEM => self.system(doc).map(Item::System),
            symbol::IMPORT => self.import().map(Item::Import),
            symbol::VALUE => self.record(doc).map(Item::Value),
            symbol::ENUM => self.enumeration(doc).map(Item::Enum),
            symbol::TYPE => self.alias(doc).map(Item::Type),
            symbol::CONTEXT => self.context(doc).map(Item::Context),
            symbol::MAP => self.map().map(Item::Map),
            keyword @ (symbol::AGGREGATE | symbol::PUBLISHES | symbol::ON | symbol::VIEW) => {
                self.misplaced(keyword, "inside a `context`")
            }
            keyword @ (symbol::COMMAND | symbol::EVENT | symbol::ENTITY | symbol::LIFECYCLE) => {
                self.misplaced(keyword, "inside an `aggregate`")
            }
            _ if self.nth(1).kind == TokenKind::Colon => {
                self.misplaced_field("inside a `value`, an `entity` or an `aggregate`")
            }
            word => {
                let suggestion = suggest::closest(word, symbol::TOP_LEVEL_ITEMS.iter().copied());
                self.error_expected(expected);
                if let Some(keyword) = suggestion {
                    self.help_last(format!("did you mean `{keyword}`?"));
                }
                None
            }
        };
        if item.is_some() {
            self.end_member("item");
        }
        item
    }

    /// Reports `keyword` outside the block it belongs in; the construct is skipped whole.
    fn misplaced<T>(&mut self, keyword: &str, place: &str) -> Option<T> {
        let token = self.peek();
        self.report(
            Diagnostic::error(Code::Syntax, format!("`{keyword}` is only allowed {place}"))
                .at(token.span)
                .with_label("not allowed here"),
        );
        self.bump();
        None
    }

    fn misplaced_field<T>(&mut self, place: &str) -> Option<T> {
        let token = self.peek();
        self.report(
            Diagnostic::error(Code::Syntax, format!("fields are only allowed {place}"))
                .at(token.span)
                .with_label("a field outside a record"),
        );
        None
    }

    /// `system Shop`
    fn system(&mut self, doc: Option<String>) -> Option<SystemDecl> {
        let keyword = self.bump().span;
        let name = self.ident("the system's name");
        if name.is_none() {
            // Keep the item, so the parse error is not followed by "no `system`".
            self.recover();
        }
        Some(SystemDecl { doc, keyword, name })
    }

    /// `import "catalog.ddd"`
    fn import(&mut self) -> Option<ImportDecl> {
        let keyword = self.bump().span;
        let token = self.expect(TokenKind::Str, "the imported file's path in quotes")?;
        // A bad escape was reported by the lexer.
        let path = lexer::unescape(self.text(token)).unwrap_or_default();
        Some(ImportDecl {
            path,
            span: keyword.to(token.span),
        })
    }

    /// `type Quantity = u32 @range(1..=99)`
    fn alias(&mut self, doc: Option<String>) -> Option<TypeAliasDecl> {
        self.bump();
        let name = self.ident("the type's name")?;
        self.expect(TokenKind::Eq, "`=` and the type it names")?;
        let ty = self.type_expr(0)?;
        let constraints = self.constraints()?;
        Some(TypeAliasDecl {
            doc,
            name,
            ty,
            constraints,
        })
    }

    /// `value Money { ... }` and `entity OrderLine { ... }`
    fn record(&mut self, doc: Option<String>) -> Option<RecordDecl> {
        let token = self.bump();
        let keyword = self.text(token);
        let name = self.ident(&format!("the {keyword}'s name"))?;
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let owner = format!("{keyword} `{}`", name.text);
        let fields = self.block(open, &owner, |p, doc| {
            if p.peek().kind == TokenKind::Ident && p.nth(1).kind == TokenKind::Colon {
                let field = p.field(doc)?;
                p.end_member("field");
                Some(field)
            } else {
                p.error_expected("a field (`name: Type`)");
                None
            }
        });
        Some(RecordDecl { doc, name, fields })
    }

    /// `enum OrderStatus { Placed, Paid }`
    fn enumeration(&mut self, doc: Option<String>) -> Option<EnumDecl> {
        self.bump();
        let name = self.ident("the enum's name")?;
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let owner = format!("enum `{}`", name.text);
        let variants = self.block(open, &owner, |p, doc| {
            let name = p.ident("a variant name")?;
            p.end_member("variant");
            Some(VariantDecl { doc, name })
        });
        Some(EnumDecl {
            doc,
            name,
            variants,
        })
    }

    /// `context Ordering : core { ... }`
    fn context(&mut self, doc: Option<String>) -> Option<ContextDecl> {
        self.bump();
        let name = self.ident("the context's name")?;
        let kind = if self.eat(TokenKind::Colon).is_some() {
            Some(self.ident("the subdomain kind (`core`, `supporting` or `generic`)")?)
        } else {
            None
        };
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let owner = format!("context `{}`", name.text);
        let members = self.block(open, &owner, |p, doc| {
            let member = p.context_member(doc)?;
            p.end_member("member");
            Some(member)
        });
        Some(ContextDecl {
            doc,
            name,
            kind,
            members,
        })
    }

    fn context_member(&mut self, doc: Option<String>) -> Option<ContextMember> {
        let token = self.peek();
        let expected = "`value`, `enum`, `type`, `aggregate`, `view`, `publishes` or `on`";
        if token.kind != TokenKind::Ident {
            self.error_expected(expected);
            return None;
        }
        if self.nth(1).kind == TokenKind::Colon {
            return self.misplaced_field("inside a `value`, an `entity` or an `aggregate`");
        }
        match self.text(token) {
            symbol::VALUE => self.record(doc).map(ContextMember::Value),
            symbol::ENUM => self.enumeration(doc).map(ContextMember::Enum),
            symbol::TYPE => self.alias(doc).map(ContextMember::Type),
            symbol::AGGREGATE => self.aggregate(doc).map(ContextMember::Aggregate),
            symbol::VIEW => self
                .view(doc)
                .map(|view| ContextMember::View(Box::new(view))),
            symbol::PUBLISHES => self.publishes().map(ContextMember::Publishes),
            symbol::ON => self.policy(doc).map(ContextMember::Policy),
            symbol::ENTITY => {
                self.misplaced::<()>(symbol::ENTITY, "inside an `aggregate`");
                self.help_last("declare an entity inside the aggregate that owns it");
                None
            }
            keyword @ (symbol::COMMAND | symbol::EVENT | symbol::LIFECYCLE) => {
                self.misplaced(keyword, "inside an `aggregate`")
            }
            keyword @ (symbol::CONTEXT | symbol::SYSTEM | symbol::MAP | symbol::IMPORT) => {
                self.misplaced(keyword, "at the top level of the file")
            }
            word => {
                let suggestion = suggest::closest(word, symbol::CONTEXT_MEMBERS.iter().copied());
                self.error_expected(expected);
                if let Some(keyword) = suggestion {
                    self.help_last(format!("did you mean `{keyword}`?"));
                }
                None
            }
        }
    }

    /// `aggregate Order { ... }`
    fn aggregate(&mut self, doc: Option<String>) -> Option<AggregateDecl> {
        self.bump();
        let name = self.ident("the aggregate's name")?;
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let owner = format!("aggregate `{}`", name.text);
        let members = self.block(open, &owner, |p, doc| {
            let member = p.aggregate_member(doc)?;
            p.end_member("member");
            Some(member)
        });
        Some(AggregateDecl { doc, name, members })
    }

    fn aggregate_member(&mut self, doc: Option<String>) -> Option<AggregateMember> {
        let token = self.peek();
        let expected = "a state field (`name: Type`), `command`, `event`, `entity`, `value`, `enum`, `type` or `lifecycle`";
        if token.kind != TokenKind::Ident {
            self.error_expected(expected);
            return None;
        }
        // Keywords are contextual: `event: String` is a state field called `event`.
        if self.nth(1).kind == TokenKind::Colon {
            return self.field(doc).map(AggregateMember::Field);
        }
        match self.text(token) {
            symbol::ENTITY => self.record(doc).map(AggregateMember::Entity),
            symbol::VALUE => self.record(doc).map(AggregateMember::Value),
            symbol::ENUM => self.enumeration(doc).map(AggregateMember::Enum),
            symbol::COMMAND => self.command(doc).map(AggregateMember::Command),
            symbol::EVENT => self.event(doc).map(AggregateMember::Event),
            symbol::TYPE => self.alias(doc).map(AggregateMember::Type),
            symbol::LIFECYCLE => self.lifecycle().map(AggregateMember::Lifecycle),
            keyword @ (symbol::PUBLISHES | symbol::ON | symbol::AGGREGATE | symbol::VIEW) => {
                self.misplaced(keyword, "inside a `context`")
            }
            keyword @ (symbol::CONTEXT | symbol::SYSTEM | symbol::MAP | symbol::IMPORT) => {
                self.misplaced(keyword, "at the top level of the file")
            }
            word if self.nth(1).kind == TokenKind::Ident
                && !symbol::MEMBER_KEYWORDS.contains(&word) =>
            {
                // `customer Uuid`: a state field missing its colon.
                self.bump();
                self.error_expected("`:` between the field name and its type");
                None
            }
            word => {
                let suggestion = suggest::closest(word, symbol::AGGREGATE_MEMBERS.iter().copied());
                self.error_expected(expected);
                if let Some(keyword) = suggestion {
                    self.help_last(format!("did you mean `{keyword}`?"));
                }
                None
            }
        }
    }
}

// Commands, events, fields, types, constraints.
impl Parser<'_> {
    /// `command PlaceOrder(...) creates emits OrderPlaced, Other`
    fn command(&mut self, doc: Option<String>) -> Option<CommandDecl> {
        self.bump();
        let name = self.ident("the command's name")?;
        let params = self.params(&format!("command `{}`", name.text))?;
        let mut creates = None;
        let mut requires = Vec::new();
        let mut emits = Vec::new();
        loop {
            self.clause_continues(&[symbol::CREATES, symbol::REQUIRES, symbol::EMITS]);
            if self.at_keyword(symbol::CREATES) {
                let span = self.bump().span;
                if creates.replace(span).is_some() {
                    self.report(
                        Diagnostic::error(Code::Syntax, "`creates` is written twice").at(span),
                    );
                }
            } else if self.at_keyword(symbol::REQUIRES) {
                self.bump();
                let rule = self.expression()?;
                self.clause_continues(&[symbol::ELSE]);
                let message = if self.at_keyword(symbol::ELSE) {
                    self.bump();
                    let token = self.expect(TokenKind::Str, "the rejection's message in quotes")?;
                    Some(lexer::unescape(self.text(token)).unwrap_or_default())
                } else {
                    None
                };
                requires.push(RequireDecl { rule, message });
            } else if self.at_keyword(symbol::EMITS) {
                self.bump();
                emits.extend(self.names("an event name")?);
            } else {
                break;
            }
        }
        Some(CommandDecl {
            doc,
            name,
            params,
            creates,
            requires,
            emits,
        })
    }

    /// `event OrderPlaced v2(...) sets field = EXPR, ...`
    fn event(&mut self, doc: Option<String>) -> Option<EventDecl> {
        self.bump();
        let name = self.ident("the event's name")?;
        let version = self.version();
        let fields = self.params(&format!("event `{}`", name.text))?;
        let mut sets = Vec::new();
        self.clause_continues(&[symbol::SETS]);
        if self.at_keyword(symbol::SETS) {
            self.bump();
            sets = self.assignments("a state field")?;
        }
        Some(EventDecl {
            doc,
            name,
            version,
            fields,
            sets,
        })
    }

    /// `v2` before an event's fields.
    fn version(&mut self) -> Option<(u32, Span)> {
        let token = self.peek();
        if token.kind != TokenKind::Ident || self.nth(1).kind != TokenKind::LParen {
            return None;
        }
        let digits = self.text(token).strip_prefix('v')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.bump();
        match digits.parse::<u32>() {
            Ok(version) if version > 0 => Some((version, token.span)),
            _ => {
                self.report(
                    Diagnostic::error(Code::Syntax, "an event version is a number from 1")
                        .at(token.span)
                        .with_label("not a version"),
                );
                None
            }
        }
    }

    /// `field = EXPR, field = EXPR` (a line break may follow a comma).
    fn assignments(&mut self, target: &str) -> Option<Vec<AssignDecl>> {
        let mut assignments = Vec::new();
        loop {
            let field = self.ident(target)?;
            self.expect(TokenKind::Eq, "`=` and an expression")?;
            let value = self.expression()?;
            assignments.push(AssignDecl { field, value });
            if !self.list_continues(Self::assignment_continues) {
                return Some(assignments);
            }
        }
    }

    fn assignment_continues(&self, index: usize) -> bool {
        self.tokens
            .get(index)
            .is_some_and(|t| t.kind == TokenKind::Ident)
            && self
                .tokens
                .get(index + 1)
                .is_some_and(|t| t.kind == TokenKind::Eq)
    }

    /// `lifecycle status { Placed -> Paid by MarkPaid; Placed, Paid -> Cancelled by Cancel }`
    fn lifecycle(&mut self) -> Option<LifecycleDecl> {
        self.bump();
        let field = self.ident("the state field the lifecycle is about")?;
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let owner = format!("lifecycle `{}`", field.text);
        let transitions = self.block(open, &owner, |p, doc| {
            if doc.is_some() {
                p.drop_docs();
            }
            let transition = p.transition()?;
            p.end_member("transition");
            Some(transition)
        });
        Some(LifecycleDecl { field, transitions })
    }

    /// `Placed, Paid -> Cancelled by Cancel`
    fn transition(&mut self) -> Option<TransitionDecl> {
        let mut from = vec![self.ident("a state")?];
        while self.eat(TokenKind::Comma).is_some() {
            from.push(self.ident("a state")?);
        }
        self.expect(TokenKind::Arrow, "`->` and the state it leads to")?;
        let to = self.ident("the state the transition leads to")?;
        if !self.at_keyword(symbol::BY) {
            self.error_expected("`by` and the command that makes the transition");
            return None;
        }
        self.bump();
        let mut by = vec![self.ident("a command")?];
        while self.at(TokenKind::Comma)
            && self.nth(1).kind == TokenKind::Ident
            && self.nth(2).kind != TokenKind::Comma
            && self.nth(2).kind != TokenKind::Arrow
        {
            self.bump();
            by.push(self.ident("a command")?);
        }
        Some(TransitionDecl { from, to, by })
    }

    /// `view V from Aggregate { fields }` or `view V by key: T { fields; on A.E sets ... }`
    fn view(&mut self, doc: Option<String>) -> Option<ViewDecl> {
        self.bump();
        let name = self.ident("the view's name")?;
        let source = if self.at_keyword(symbol::FROM) {
            self.bump();
            ViewSource::From(self.ident("the aggregate the view shows")?)
        } else if self.at_keyword(symbol::BY) {
            self.bump();
            ViewSource::By(Box::new(self.field(None)?))
        } else {
            self.error_expected("`from Aggregate` or `by key: Type`");
            return None;
        };
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let owner = format!("view `{}`", name.text);
        let mut fields = Vec::new();
        let mut handlers = Vec::new();
        self.block(open, &owner, |p, doc| {
            if p.at_keyword(symbol::ON) && p.nth(1).kind == TokenKind::Ident {
                p.bump();
                let scope = p.ident("an aggregate or a context")?;
                p.expect(TokenKind::Dot, "`.` and the event's name")?;
                let event = p.ident("the event's name")?;
                if !p.at_keyword(symbol::SETS) {
                    p.error_expected("`sets` and what the event changes");
                    return None;
                }
                p.bump();
                let sets = p.assignments("a field of the view")?;
                handlers.push(ViewHandlerDecl { scope, event, sets });
            } else if p.peek().kind == TokenKind::Ident && p.nth(1).kind == TokenKind::Colon {
                fields.push(p.field(doc)?);
            } else {
                p.error_expected("a field (`name: Type`) or `on Aggregate.Event sets ...`");
                return None;
            }
            p.end_member("member");
            Some(())
        });
        Some(ViewDecl {
            doc,
            name,
            source,
            fields,
            handlers,
        })
    }

    /// `publishes A, B`
    fn publishes(&mut self) -> Option<Vec<Ident>> {
        self.bump();
        self.names("an event name")
    }

    /// `Name, Name, ...` (a line break may follow a comma).
    fn names(&mut self, expected: &str) -> Option<Vec<Ident>> {
        let mut names = vec![self.ident(expected)?];
        while self.list_continues(Self::name_continues) {
            names.push(self.ident(expected)?);
        }
        Some(names)
    }

    /// `(name: Type, ...)`; line breaks are allowed anywhere inside.
    fn params(&mut self, owner: &str) -> Option<Vec<FieldDecl>> {
        let open = self.expect(TokenKind::LParen, "`(`")?;
        let mut params = Vec::new();
        loop {
            if self.at_line_member() {
                self.report(unclosed_paren(open, owner));
                return Some(params);
            }
            self.skip_separators(false);
            match self.peek().kind {
                TokenKind::RParen => {
                    self.drop_docs();
                    self.bump();
                    return Some(params);
                }
                TokenKind::Eof | TokenKind::RBrace => {
                    self.drop_docs();
                    self.report(unclosed_paren(open, owner));
                    return None;
                }
                _ => {}
            }
            let doc = self.take_doc();
            let start = self.pos;
            match self.field(doc) {
                Some(param) => {
                    params.push(param);
                    if self.at_keyword(symbol::CREATES) || self.at_keyword(symbol::EMITS) {
                        // `command C(a: T emits E`: only the `)` is missing; keep the rest.
                        self.error_expected("`,` or `)`");
                        self.help_last("close the parameter list with `)`");
                        return Some(params);
                    }
                    self.skip_separators(false);
                    if !matches!(
                        self.peek().kind,
                        TokenKind::Comma | TokenKind::RParen | TokenKind::RBrace | TokenKind::Eof
                    ) {
                        self.error_expected("`,` or `)`");
                        self.recover_param();
                    }
                }
                None => self.recover_param(),
            }
            self.eat(TokenKind::Comma);
            if self.pos == start {
                self.bump();
            }
        }
    }

    /// Skips to the next `,` or `)` of a parameter list (or a `}`, when the `)` is missing).
    fn recover_param(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek().kind {
                TokenKind::Eof => return,
                TokenKind::Comma | TokenKind::RParen | TokenKind::RBrace if depth == 0 => return,
                TokenKind::Newline if depth == 0 && self.at_line_member() => return,
                TokenKind::LParen | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    /// `name: Type @constraint(...)*`
    fn field(&mut self, doc: Option<String>) -> Option<FieldDecl> {
        let name = self.ident("a field name")?;
        self.expect(TokenKind::Colon, "`:` and the field's type")?;
        let ty = self.type_expr(0)?;
        let constraints = self.constraints()?;
        let value = if self.eat(TokenKind::Eq).is_some() {
            Some(self.expression()?)
        } else {
            None
        };
        Some(FieldDecl {
            doc,
            name,
            ty,
            constraints,
            value,
        })
    }

    fn constraints(&mut self) -> Option<Vec<ConstraintDecl>> {
        let mut constraints = Vec::new();
        while self.at(TokenKind::At) {
            constraints.push(self.constraint()?);
        }
        Some(constraints)
    }

    /// `Name` or `Name<Type, ...>`
    fn type_expr(&mut self, depth: usize) -> Option<TypeExpr> {
        if depth > MAX_TYPE_DEPTH {
            let span = self.peek().span;
            self.report(
                Diagnostic::error(Code::Syntax, "type nested too deeply")
                    .at(span)
                    .with_help(format!("types may nest at most {MAX_TYPE_DEPTH} levels")),
            );
            return None;
        }
        let mut name = self.ident("a type")?;
        let mut qualifier = None;
        if self.at(TokenKind::Dot) && self.nth(1).kind == TokenKind::Ident {
            self.bump();
            qualifier = Some(std::mem::replace(&mut name, self.ident("a type")?));
        }
        let start = qualifier.as_ref().map_or(name.span, |q| q.span);
        let mut args = Vec::new();
        let mut end = name.span;
        if self.eat(TokenKind::Lt).is_some() {
            loop {
                args.push(self.type_expr(depth + 1)?);
                if self.eat(TokenKind::Comma).is_none() {
                    break;
                }
            }
            end = self.expect(TokenKind::Gt, "`,` or `>`")?.span;
        }
        let span = start.to(end);
        Some(TypeExpr {
            qualifier,
            name,
            args,
            span,
        })
    }

    /// `@name(argument)`
    fn constraint(&mut self) -> Option<ConstraintDecl> {
        let at = self.bump().span;
        let name = self.ident("a constraint (`len`, `range` or `pattern`)")?;
        if !self.at(TokenKind::LParen) {
            // `@key`, `@filter`, `@sort`: markers; lowering says which names take arguments.
            return Some(ConstraintDecl {
                span: at.to(name.span),
                name,
                arg: ConstraintArg::Flag,
            });
        }
        self.expect(TokenKind::LParen, "`(`")?;
        let arg = self.constraint_arg()?;
        let close = self.expect(TokenKind::RParen, "`)`")?;
        Some(ConstraintDecl {
            name,
            arg,
            span: at.to(close.span),
        })
    }

    fn constraint_arg(&mut self) -> Option<ConstraintArg> {
        let token = self.peek();
        match token.kind {
            TokenKind::Str => {
                self.bump();
                // A bad escape was reported by the lexer; keep going with what is there.
                let value = lexer::unescape(self.text(token)).unwrap_or_default();
                return Some(ConstraintArg::Str {
                    value,
                    span: token.span,
                });
            }
            TokenKind::RParen => return Some(ConstraintArg::Empty { span: token.span }),
            _ => {}
        }
        let min = if matches!(self.peek().kind, TokenKind::DotDot | TokenKind::DotDotEq) {
            None
        } else {
            Some(self.number()?)
        };
        let inclusive = match self.peek().kind {
            TokenKind::DotDotEq => true,
            TokenKind::DotDot => false,
            _ => return min.map(ConstraintArg::Number),
        };
        let dots = self.bump().span;
        let max = if matches!(
            self.peek().kind,
            TokenKind::Int | TokenKind::Float | TokenKind::Minus
        ) {
            Some(self.number()?)
        } else {
            None
        };
        let start = min.map_or(dots, |n| n.span);
        let span = start.to(max.map_or(dots, |n| n.span));
        Some(ConstraintArg::Range {
            min,
            max,
            inclusive,
            span,
        })
    }

    /// An integer or float literal, with an optional leading `-`.
    fn number(&mut self) -> Option<NumLit> {
        let minus = self.eat(TokenKind::Minus);
        let token = self.peek();
        if !matches!(token.kind, TokenKind::Int | TokenKind::Float) {
            self.error_expected("a number or a range like `1..=10`");
            return None;
        }
        self.bump();
        let span = minus.map_or(token.span, |m| m.span.to(token.span));
        let digits: String = self.text(token).chars().filter(|&c| c != '_').collect();
        let sign = if minus.is_some() { "-" } else { "" };
        let value = if token.kind == TokenKind::Int {
            format!("{sign}{digits}").parse().ok().map(Num::Int)
        } else {
            format!("{sign}{digits}")
                .parse()
                .ok()
                .filter(|f: &f64| f.is_finite())
                .map(Num::Float)
        };
        let Some(value) = value else {
            self.report(Diagnostic::error(Code::Syntax, "number out of range").at(span));
            return None;
        };
        Some(NumLit { value, span })
    }

    /// `on Ctx.Event run Aggregate.Command with field = event_field, ...`
    fn policy(&mut self, doc: Option<String>) -> Option<PolicyDecl> {
        let start = self.bump().span;
        let context = self.ident("the context that publishes the event")?;
        self.expect(TokenKind::Dot, "`.` and the event's name")?;
        let event = self.ident("the event's name")?;
        if !self.at_keyword(symbol::RUN) {
            self.error_expected("`run`");
            return None;
        }
        self.bump();
        let aggregate = self.ident("the aggregate that runs the command")?;
        self.expect(TokenKind::Dot, "`.` and the command's name")?;
        let command = self.ident("the command's name")?;
        let mut end = command.span;
        let mut mappings = Vec::new();
        if self.at_keyword(symbol::WITH) {
            self.bump();
            for assignment in self.assignments("a field of the command")? {
                end = assignment.value.span;
                mappings.push(MappingDecl {
                    field: assignment.field,
                    from: assignment.value,
                });
            }
        }
        Some(PolicyDecl {
            doc,
            span: start.to(end),
            context,
            event,
            aggregate,
            command,
            mappings,
        })
    }

    /// `map { ... }`
    fn map(&mut self) -> Option<MapDecl> {
        self.bump();
        let open = self.expect(TokenKind::LBrace, "`{`")?;
        let relations = self.block(open, "the context map", |p, doc| {
            let relation = p.relation(doc)?;
            p.end_member("relation");
            Some(relation)
        });
        Some(MapDecl { relations })
    }

    /// `Upstream -> Downstream : kind` or `A <-> B : kind`
    fn relation(&mut self, doc: Option<String>) -> Option<RelationDecl> {
        let from = self.ident("a context name")?;
        let from_roles = self.roles()?;
        let arrow = self.peek();
        let both_ways = match arrow.kind {
            TokenKind::Arrow => false,
            TokenKind::BothArrow => true,
            _ => {
                self.error_expected("`->` or `<->`");
                if arrow.kind == TokenKind::Lt {
                    self.help_last("write the upstream context first: `Upstream -> Downstream`");
                }
                return None;
            }
        };
        self.bump();
        let to_roles = self.roles()?;
        let to = self.ident("a context name")?;
        self.expect(TokenKind::Colon, "`:` and the relation's kind")?;
        let kind = self.relation_kind()?;
        Some(RelationDecl {
            doc,
            from,
            to,
            both_ways,
            arrow: arrow.span,
            kind,
            from_roles,
            to_roles,
        })
    }

    /// `[open-host, published-language]`, or nothing.
    fn roles(&mut self) -> Option<Vec<Ident>> {
        let mut roles = Vec::new();
        if self.eat(TokenKind::LBracket).is_none() {
            return Some(roles);
        }
        loop {
            roles.push(self.relation_kind()?);
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokenKind::RBracket, "`,` or `]`")?;
        Some(roles)
    }

    /// `customer-supplier`: names joined by `-`.
    fn relation_kind(&mut self) -> Option<Ident> {
        let first = self.ident("a relation kind (e.g. `customer-supplier`)")?;
        let mut text = first.text;
        let mut span = first.span;
        while self.at(TokenKind::Minus) && self.nth(1).kind == TokenKind::Ident {
            self.bump();
            let part = self.bump();
            text.push('-');
            text.push_str(self.text(part));
            span = span.to(part.span);
        }
        Some(Ident { text, span })
    }
}

fn unclosed_paren(open: Token, owner: &str) -> Diagnostic {
    Diagnostic::error(Code::Syntax, format!("unclosed `(` of {owner}"))
        .at(open.span)
        .with_label("this `(` is never closed")
        .with_help("add a `)` after the last parameter")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(source: &str) -> File {
        let (file, diagnostics) = parse(source);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        file
    }

    fn errors(source: &str) -> Vec<String> {
        parse(source).1.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn contextual_keywords_are_field_names() {
        let file = parse_ok(
            "context Core { aggregate Event {\n event: String\n value: i32, command: u8, map: Json\n command Make(event: String, value: i32) creates emits Made\n event Made(map: Json)\n } }",
        );
        let Item::Context(context) = &file.items[0] else {
            panic!()
        };
        let ContextMember::Aggregate(aggregate) = &context.members[0] else {
            panic!()
        };
        assert_eq!(aggregate.name.text, "Event");
        let fields: Vec<_> = aggregate
            .members
            .iter()
            .filter_map(|m| match m {
                AggregateMember::Field(f) => Some(f.name.text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(fields, ["event", "value", "command", "map"]);
    }

    #[test]
    fn lists_end_before_the_next_member_on_the_same_line() {
        let file = parse_ok(
            "context C { aggregate A { command X() creates emits E, F, event E(), event F() } }",
        );
        let Item::Context(context) = &file.items[0] else {
            panic!()
        };
        let ContextMember::Aggregate(aggregate) = &context.members[0] else {
            panic!()
        };
        assert_eq!(aggregate.members.len(), 3);
        let AggregateMember::Command(command) = &aggregate.members[0] else {
            panic!()
        };
        assert_eq!(command.emits.len(), 2);
        assert!(command.creates.is_some());
    }

    #[test]
    fn lists_continue_after_a_comma_at_the_end_of_a_line() {
        let file =
            parse_ok("context C {\n publishes A,\n   B\n on X.Y run A.Do with a = b,\n c = d\n}");
        let Item::Context(context) = &file.items[0] else {
            panic!()
        };
        assert!(matches!(&context.members[0], ContextMember::Publishes(names) if names.len() == 2));
        assert!(matches!(&context.members[1], ContextMember::Policy(p) if p.mappings.len() == 2));
    }

    #[test]
    fn constraints_and_ranges() {
        let file = parse_ok(
            "value V { a: i64 @range(-5..=5) @range(0..), b: String @len(3) @pattern(\"x\"), c: f64 @range(..=1.5) }",
        );
        let Item::Value(value) = &file.items[0] else {
            panic!()
        };
        let ConstraintArg::Range {
            min,
            max,
            inclusive,
            ..
        } = &value.fields[0].constraints[0].arg
        else {
            panic!()
        };
        assert_eq!(min.map(|n| n.value), Some(Num::Int(-5)));
        assert_eq!(max.map(|n| n.value), Some(Num::Int(5)));
        assert!(inclusive);
        assert!(matches!(
            value.fields[1].constraints[0].arg,
            ConstraintArg::Number(_)
        ));
        assert!(matches!(
            value.fields[2].constraints[0].arg,
            ConstraintArg::Range { min: None, .. }
        ));
    }

    #[test]
    fn docs_attach_to_the_next_item() {
        let file = parse_ok(
            "/// The shop.\n/// Second line.\nsystem Shop\nenum E {\n /// first\n A\n B }",
        );
        let Item::System(system) = &file.items[0] else {
            panic!()
        };
        assert_eq!(system.doc.as_deref(), Some("The shop.\nSecond line."));
        let Item::Enum(e) = &file.items[1] else {
            panic!()
        };
        assert_eq!(e.variants[0].doc.as_deref(), Some("first"));
        assert_eq!(e.variants[1].doc, None);
    }

    #[test]
    fn relations() {
        let file = parse_ok("map {\n A -> B : customer-supplier\n C <-> D : shared-kernel\n}");
        let Item::Map(map) = &file.items[0] else {
            panic!()
        };
        assert_eq!(map.relations[0].kind.text, "customer-supplier");
        assert!(map.relations[1].both_ways);
    }

    #[test]
    fn every_broken_member_is_reported_and_the_rest_still_parses() {
        let source = "system S\ncontext C {\n aggregate A {\n x i32\n y: \n command Go(a: ) creates\n z: u8\n }\n}\nvalue V { a: }\n";
        let (file, diagnostics) = parse(source);
        assert_eq!(diagnostics.len(), 4, "{diagnostics:#?}");
        let Item::Context(context) = &file.items[1] else {
            panic!()
        };
        let ContextMember::Aggregate(aggregate) = &context.members[0] else {
            panic!()
        };
        // `z: u8` survived the broken lines before it.
        assert!(
            aggregate
                .members
                .iter()
                .any(|m| matches!(m, AggregateMember::Field(f) if f.name.text == "z"))
        );
        assert!(matches!(&file.items[2], Item::Value(_)));
    }

    #[test]
    fn an_unclosed_parameter_list_ends_before_the_next_member() {
        let source = "context C {\n aggregate A {\n command Go(a: i32,\n event Gone(a: i32)\n command Stop(b: u8 emits Stopped\n event Stopped()\n }\n}";
        let (file, diagnostics) = parse(source);
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unclosed `(` of command `Go`",
                "expected `,` or `)`, found `emits`"
            ]
        );
        let Item::Context(context) = &file.items[0] else {
            panic!()
        };
        let ContextMember::Aggregate(aggregate) = &context.members[0] else {
            panic!()
        };
        // Both commands and both events survive; `Stop` keeps its `emits`.
        assert_eq!(aggregate.members.len(), 4);
        let AggregateMember::Command(stop) = &aggregate.members[2] else {
            panic!()
        };
        assert_eq!(stop.emits[0].text, "Stopped");
    }

    #[test]
    fn unclosed_block_points_at_its_brace() {
        let (_, diagnostics) = parse("system S\ncontext C {\n aggregate A {\n");
        assert_eq!(diagnostics.len(), 2);
        assert_eq!(diagnostics[0].message, "unclosed `{` of aggregate `A`");
        assert_eq!(diagnostics[1].message, "unclosed `{` of context `C`");
    }

    #[test]
    fn misplaced_items_say_where_they_belong() {
        assert_eq!(
            errors("aggregate A {}"),
            ["`aggregate` is only allowed inside a `context`"]
        );
        assert_eq!(
            errors("context C { entity E {} }"),
            ["`entity` is only allowed inside an `aggregate`"]
        );
        assert_eq!(
            errors("contxt C {}")[0],
            "expected an item (`system`, `import`, `value`, `enum`, `type`, `context` or `map`), found `contxt`"
        );
    }

    #[test]
    fn deep_types_are_refused_without_overflowing() {
        let source = format!(
            "value V {{ a: {}i32{} }}",
            "Vec<".repeat(10_000),
            ">".repeat(10_000)
        );
        let messages = errors(&source);
        assert!(
            messages.contains(&"type nested too deeply".to_owned()),
            "{messages:?}"
        );
    }
}
