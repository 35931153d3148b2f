//! Expressions: `not checked_out and count(items) > 0`, `sum(items, unit_price.amount_cents *
//! quantity)`, `Money { amount_cents: 0, currency: "EUR" }`.
//!
//! From the loosest: `or`, `and`, `not`, comparisons and `in` (not chained), `+ -`, `*`,
//! unary `-`, field access. A line break ends an expression, except inside `( )` and `{ }`
//! and after an operator, so a long rule can be wrapped after `and`.

use super::Parser;
use crate::ast::{BinaryOp, Expr, ExprKind, Ident, UnaryOp};
use crate::diagnostic::{Code, Diagnostic};
use crate::lexer::{self, TokenKind};
use crate::name::Span;
use crate::symbol;

/// Deeper nesting than this is refused, so hostile input cannot exhaust the stack.
const MAX_EXPR_DEPTH: usize = 48;

impl Parser<'_> {
    /// One expression; `None` after reporting why it does not parse.
    pub(super) fn expression(&mut self) -> Option<Expr> {
        self.or_expr(0, false)
    }

    /// The next token of an expression: inside brackets line breaks do not count.
    fn expr_peek(&mut self, nested: bool) -> crate::lexer::Token {
        if nested {
            self.skip_newlines();
        }
        self.peek()
    }

    fn at_word(&mut self, word: &str, nested: bool) -> bool {
        let token = self.expr_peek(nested);
        token.kind == TokenKind::Ident && self.text(token) == word
    }

    fn or_expr(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let mut chain = Chain::new(self.and_expr(depth, nested)?);
        while self.at_word(symbol::OR, nested) {
            let operator = self.bump().span;
            self.skip_newlines();
            let rhs = self.and_expr(depth, nested)?;
            chain = self.extend(chain, BinaryOp::Or, rhs, depth, operator)?;
        }
        Some(chain.expr)
    }

    fn and_expr(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let mut chain = Chain::new(self.not_expr(depth, nested)?);
        while self.at_word(symbol::AND, nested) {
            let operator = self.bump().span;
            self.skip_newlines();
            let rhs = self.not_expr(depth, nested)?;
            chain = self.extend(chain, BinaryOp::And, rhs, depth, operator)?;
        }
        Some(chain.expr)
    }

    fn not_expr(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        if !self.at_word(symbol::NOT, nested) {
            return self.comparison(depth, nested);
        }
        self.deeper(depth)?;
        let keyword = self.bump().span;
        self.skip_newlines();
        let operand = self.not_expr(depth + 1, nested)?;
        Some(Expr {
            span: keyword.to(operand.span),
            kind: ExprKind::Unary(UnaryOp::Not, Box::new(operand)),
        })
    }

    fn comparison(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let lhs = self.additive(depth, nested)?;
        if self.at_word(symbol::IN, nested) {
            return self.membership(lhs, depth);
        }
        let Some(op) = self.comparison_op(nested) else {
            return Some(lhs);
        };
        self.skip_newlines();
        let rhs = self.additive(depth, nested)?;
        let expr = binary(op, lhs, rhs);
        if self.comparison_op_ahead(nested) {
            let token = self.peek();
            self.report(
                Diagnostic::error(Code::Syntax, "comparisons cannot be chained")
                    .at(token.span)
                    .with_label("a second comparison")
                    .with_help("join two comparisons with `and`: `0 < x and x < 10`"),
            );
            return None;
        }
        Some(expr)
    }

    /// `x in {A, B}`
    fn membership(&mut self, value: Expr, depth: usize) -> Option<Expr> {
        self.bump();
        self.deeper(depth)?;
        let open = self.expect(TokenKind::LBrace, "`{` and the values to look for")?;
        let mut set = Vec::new();
        loop {
            self.skip_newlines();
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Some(Expr {
                    span: value.span.to(close.span),
                    kind: ExprKind::In(Box::new(value), set),
                });
            }
            set.push(self.or_expr(depth + 1, true)?);
            self.skip_newlines();
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBrace) {
                self.error_expected("`,` or `}`");
                self.help_last(unclosed(open.span, "`{`"));
                return None;
            }
        }
    }

    /// Takes a comparison operator: `==`, `!=`, `<`, `<=`, `>`, `>=` (the last two are `<`
    /// or `>` right before `=`, since `>` also closes a type's arguments).
    fn comparison_op(&mut self, nested: bool) -> Option<BinaryOp> {
        let token = self.expr_peek(nested);
        let next = self.nth(1);
        let joined = next.kind == TokenKind::Eq && next.span.start == token.span.end;
        let (op, width) = match token.kind {
            TokenKind::EqEq => (BinaryOp::Eq, 1),
            TokenKind::NotEq => (BinaryOp::Ne, 1),
            TokenKind::Lt if joined => (BinaryOp::Le, 2),
            TokenKind::Gt if joined => (BinaryOp::Ge, 2),
            TokenKind::Lt => (BinaryOp::Lt, 1),
            TokenKind::Gt => (BinaryOp::Gt, 1),
            TokenKind::Eq => {
                self.error_expected("an operator");
                self.help_last("compare with `==`; `=` only assigns, in `sets` and `with`");
                return None;
            }
            _ => return None,
        };
        for _ in 0..width {
            self.bump();
        }
        Some(op)
    }

    fn comparison_op_ahead(&mut self, nested: bool) -> bool {
        matches!(
            self.expr_peek(nested).kind,
            TokenKind::EqEq | TokenKind::NotEq | TokenKind::Lt | TokenKind::Gt
        )
    }

    fn additive(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let mut chain = Chain::new(self.multiplicative(depth, nested)?);
        loop {
            let op = match self.expr_peek(nested).kind {
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => return Some(chain.expr),
            };
            let operator = self.bump().span;
            self.skip_newlines();
            let rhs = self.multiplicative(depth, nested)?;
            chain = self.extend(chain, op, rhs, depth, operator)?;
        }
    }

    fn multiplicative(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let mut chain = Chain::new(self.unary(depth, nested)?);
        while self.expr_peek(nested).kind == TokenKind::Star {
            let operator = self.bump().span;
            self.skip_newlines();
            let rhs = self.unary(depth, nested)?;
            chain = self.extend(chain, BinaryOp::Mul, rhs, depth, operator)?;
        }
        Some(chain.expr)
    }

    /// `chain op rhs`. A chain of operators builds a tree as deep as it is long (`a + b + c`
    /// is `(a + b) + c`), and whatever reads the tree recurses that deep: a long chain is
    /// refused like deep nesting.
    fn extend(
        &mut self,
        chain: Chain,
        op: BinaryOp,
        rhs: Expr,
        depth: usize,
        operator: Span,
    ) -> Option<Chain> {
        let height = 1 + chain.height.max(height(&rhs));
        if depth + height > MAX_EXPR_DEPTH {
            self.report(
                Diagnostic::error(Code::Syntax, "expression too long")
                    .at(operator)
                    .with_label(format!("{height} levels deep here"))
                    .with_help(format!(
                        "an expression may nest at most {MAX_EXPR_DEPTH} operations, chained or in brackets; split the rule"
                    )),
            );
            return None;
        }
        Some(Chain {
            expr: binary(op, chain.expr, rhs),
            height,
        })
    }

    fn unary(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let token = self.expr_peek(nested);
        if token.kind != TokenKind::Minus {
            return self.primary(depth, nested);
        }
        self.deeper(depth)?;
        if matches!(self.nth(1).kind, TokenKind::Int | TokenKind::Float) {
            let number = self.number()?;
            return Some(Expr {
                span: number.span,
                kind: match number.value {
                    crate::ast::Num::Int(value) => ExprKind::Int(value),
                    crate::ast::Num::Float(value) => ExprKind::Float(value),
                },
            });
        }
        self.bump();
        let operand = self.unary(depth + 1, nested)?;
        Some(Expr {
            span: token.span.to(operand.span),
            kind: ExprKind::Unary(UnaryOp::Neg, Box::new(operand)),
        })
    }

    fn primary(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        self.deeper(depth)?;
        let token = self.expr_peek(nested);
        match token.kind {
            TokenKind::Int | TokenKind::Float => {
                let number = self.number()?;
                Some(Expr {
                    span: number.span,
                    kind: match number.value {
                        crate::ast::Num::Int(value) => ExprKind::Int(value),
                        crate::ast::Num::Float(value) => ExprKind::Float(value),
                    },
                })
            }
            TokenKind::Str => {
                self.bump();
                // A bad escape was reported by the lexer.
                let value = lexer::unescape(self.text(token)).unwrap_or_default();
                Some(Expr {
                    span: token.span,
                    kind: ExprKind::Str(value),
                })
            }
            TokenKind::LParen => {
                self.bump();
                let mut inner = self.or_expr(depth + 1, true)?;
                self.skip_newlines();
                if self.eat(TokenKind::RParen).is_none() {
                    self.error_expected("`)`");
                    self.help_last(unclosed(token.span, "`(`"));
                    return None;
                }
                inner.span = token.span.to(self.nth_back().span);
                Some(inner)
            }
            TokenKind::Ident => self.named(depth, nested),
            _ => {
                self.error_expected("an expression");
                None
            }
        }
    }

    /// A literal word, a call, a path or a record literal.
    fn named(&mut self, depth: usize, nested: bool) -> Option<Expr> {
        let first = self.ident("an expression")?;
        let literal = match first.text.as_str() {
            symbol::TRUE => Some(ExprKind::Bool(true)),
            symbol::FALSE => Some(ExprKind::Bool(false)),
            symbol::NONE => Some(ExprKind::None),
            _ => None,
        };
        if let Some(kind) = literal {
            return Some(Expr {
                span: first.span,
                kind,
            });
        }
        if self.at(TokenKind::LParen) {
            return self.call(first, depth);
        }
        let mut path = vec![first];
        while self.at(TokenKind::Dot) && self.nth(1).kind == TokenKind::Ident {
            self.bump();
            path.push(self.ident("a field name")?);
        }
        let last = path.last().map_or(Span::default(), |i| i.span);
        let is_type = path.len() <= 2 && path.last().is_some_and(|i| starts_upper(&i.text));
        if is_type && self.at(TokenKind::LBrace) {
            let name = path.pop()?;
            return self.record_literal(path.pop(), name, depth);
        }
        let _ = nested;
        Some(Expr {
            span: path[0].span.to(last),
            kind: ExprKind::Path(path),
        })
    }

    /// `count(items)`: the callee's name is taken, `(` is next.
    fn call(&mut self, function: Ident, depth: usize) -> Option<Expr> {
        let open = self.bump();
        let mut args = Vec::new();
        loop {
            self.skip_newlines();
            if let Some(close) = self.eat(TokenKind::RParen) {
                return Some(Expr {
                    span: function.span.to(close.span),
                    kind: ExprKind::Call(function, args),
                });
            }
            args.push(self.or_expr(depth + 1, true)?);
            self.skip_newlines();
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RParen) {
                self.error_expected("`,` or `)`");
                self.help_last(unclosed(open.span, "`(`"));
                return None;
            }
        }
    }

    /// `Money { amount_cents: 0, currency: "EUR" }`: the type's name is taken, `{` is next.
    fn record_literal(
        &mut self,
        qualifier: Option<Ident>,
        name: Ident,
        depth: usize,
    ) -> Option<Expr> {
        let open = self.bump();
        let mut fields = Vec::new();
        loop {
            self.skip_newlines();
            if let Some(close) = self.eat(TokenKind::RBrace) {
                let start = qualifier.as_ref().map_or(name.span, |q| q.span);
                return Some(Expr {
                    span: start.to(close.span),
                    kind: ExprKind::Record {
                        qualifier,
                        name,
                        fields,
                    },
                });
            }
            let field = self.ident("a field name")?;
            self.expect(TokenKind::Colon, "`:` and the field's value")?;
            self.skip_newlines();
            let value = self.or_expr(depth + 1, true)?;
            fields.push((field, value));
            self.skip_newlines();
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBrace) {
                self.error_expected("`,` or `}`");
                self.help_last(unclosed(open.span, "`{`"));
                return None;
            }
        }
    }

    fn deeper(&mut self, depth: usize) -> Option<()> {
        if depth < MAX_EXPR_DEPTH {
            return Some(());
        }
        let span = self.peek().span;
        self.report(
            Diagnostic::error(Code::Syntax, "expression nested too deeply")
                .at(span)
                .with_help(format!(
                    "expressions may nest at most {MAX_EXPR_DEPTH} levels; split the rule"
                )),
        );
        None
    }

    /// The token just taken.
    fn nth_back(&self) -> crate::lexer::Token {
        self.tokens[self.pos.saturating_sub(1)]
    }
}

/// The expression a chain of binary operators has built so far, and how deep it is.
struct Chain {
    expr: Expr,
    height: usize,
}

impl Chain {
    fn new(first: Expr) -> Chain {
        Chain {
            height: height(&first),
            expr: first,
        }
    }
}

/// Levels of the tree: every tree the parser builds is at most [`MAX_EXPR_DEPTH`] (and a
/// few) deep, so this recursion is bounded.
fn height(expr: &Expr) -> usize {
    let below = match &expr.kind {
        ExprKind::Unary(_, operand) => height(operand),
        ExprKind::Binary(_, lhs, rhs) => height(lhs).max(height(rhs)),
        ExprKind::In(value, set) => set.iter().map(height).fold(height(value), usize::max),
        ExprKind::Call(_, args) => args.iter().map(height).max().unwrap_or(0),
        ExprKind::Record { fields, .. } => fields.iter().map(|(_, v)| height(v)).max().unwrap_or(0),
        ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::None
        | ExprKind::Path(_) => 0,
    };
    1 + below
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr {
        span: lhs.span.to(rhs.span),
        kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
    }
}

fn starts_upper(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn unclosed(open: Span, what: &str) -> String {
    let _ = open;
    format!("close the {what} opened before")
}
