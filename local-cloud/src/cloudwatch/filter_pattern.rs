//! CloudWatch Logs filter patterns: the `FilterPattern` of an `AWS::Logs::MetricFilter`,
//! parsed once ([`FilterPattern::parse`]) and matched against each log event
//! ([`FilterPattern::matches`]), and the values a metric transformation takes from a
//! matching event ([`transformation_value`]).
//!
//! Two of CloudWatch Logs' syntaxes are supported:
//! - text patterns: terms (`ERROR`, `"two words"`) that must all occur in the message,
//!   `-term` that must not, and `?term` of which at least one must;
//! - JSON patterns: `{ $.selector OP value }` conditions joined with `&&` and `||`.
//!
//! Space-delimited patterns (`[ip, user, ...]`) and regular expressions (`%...%`) are
//! refused with an error that says so, rather than matched wrongly.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::VecDeque;

use serde_json::Value;

/// How deeply parentheses may nest in a JSON pattern; deeper is an error, not a deep recursion.
const MAX_NESTING: usize = 64;

/// A parsed CloudWatch Logs filter pattern.
#[derive(Clone, Debug)]
pub struct FilterPattern {
    kind: PatternKind,
}

/// Why a filter pattern could not be parsed: what is wrong, and at which column (from 1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter pattern: {0}")]
pub struct FilterPatternError(pub String);

#[derive(Clone, Debug)]
enum PatternKind {
    /// An empty pattern: every event matches.
    Everything,
    /// Terms looked for in the message text.
    Text(Vec<Term>),
    /// Conditions on the fields of a JSON event.
    Json(Expression),
}

impl FilterPattern {
    /// Parses a filter pattern as CloudWatch Logs writes it: empty (every event), a text
    /// pattern, or a JSON pattern in braces.
    ///
    /// # Errors
    /// Unbalanced braces, parentheses or quotes, a missing or unknown operator, a missing
    /// value, anything after the closing brace, and the unsupported syntaxes
    /// (space-delimited `[...]`, regular expressions `%...%`).
    pub fn parse(pattern: &str) -> Result<Self, FilterPatternError> {
        let trimmed = pattern.trim();
        let kind = if trimmed.is_empty() {
            PatternKind::Everything
        } else if trimmed.starts_with('{') {
            PatternKind::Json(parse_json(pattern)?)
        } else if trimmed.starts_with('[') {
            return Err(FilterPatternError(
                "space-delimited patterns ([field, ...]) are not supported".to_owned(),
            ));
        } else {
            PatternKind::Text(parse_text(pattern)?)
        };
        Ok(Self { kind })
    }

    /// Whether a log event matches. `json` is the line parsed as JSON if it is a JSON
    /// object: a JSON pattern never matches without it, a text pattern reads `message` only.
    pub fn matches(&self, message: &str, json: Option<&Value>) -> bool {
        match &self.kind {
            PatternKind::Everything => true,
            PatternKind::Text(terms) => text_matches(terms, message),
            PatternKind::Json(expression) => {
                json.is_some_and(|json| json.is_object() && expression.matches(json))
            }
        }
    }
}

/// A metric transformation's `MetricValue` or dimension `Value` for one event: a literal
/// (`"1"`, `"2.5"`, `"text"`) as written, or a JSON selector (`$.field`, `$.a.b`,
/// `$.a[0]`) resolved against the event: a string as is, a number or boolean as its JSON
/// text. `None` when the selector finds nothing, finds `null`, an object or an array, or
/// the event is not JSON.
pub fn transformation_value(spec: &str, json: Option<&Value>) -> Option<String> {
    let trimmed = spec.trim();
    if !(trimmed.starts_with("$.") || trimmed.starts_with("$[")) {
        return Some(spec.to_owned());
    }
    let path = parse_selector(trimmed, 1).ok()?;
    match resolve(json?, &path)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

// ---------------------------------------------------------------------------------------
// Scanning, shared by both syntaxes.

/// A cursor over the pattern's characters; columns are counted in characters, from 1.
struct Scanner {
    chars: Vec<char>,
    position: usize,
}

impl Scanner {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            position: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek();
        if next.is_some() {
            self.position += 1;
        }
        next
    }

    fn column(&self) -> usize {
        self.position + 1
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.position += 1;
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let start = self.position;
        while self.peek().is_some_and(&keep) {
            self.position += 1;
        }
        self.text_since(start)
    }

    fn text_since(&self, start: usize) -> String {
        self.chars
            .get(start..self.position)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// A double-quoted string, the scanner on its opening quote: its characters, each
    /// with whether it was escaped by a backslash (an escaped `*` is no wildcard).
    fn quoted(&mut self) -> Result<Vec<(char, bool)>, FilterPatternError> {
        let column = self.column();
        self.bump();
        let mut chars = Vec::new();
        loop {
            match self.bump() {
                Some('"') => return Ok(chars),
                Some('\\') => match self.bump() {
                    Some(escaped) => chars.push((escaped, true)),
                    None => break,
                },
                Some(plain) => chars.push((plain, false)),
                None => break,
            }
        }
        Err(FilterPatternError(format!(
            "unterminated quoted string starting at column {column}"
        )))
    }
}

// ---------------------------------------------------------------------------------------
// Text patterns.

/// One term of a text pattern.
#[derive(Clone, Debug)]
struct Term {
    text: String,
    role: TermRole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TermRole {
    /// A plain term: must occur.
    Required,
    /// `-term`: must not occur.
    Excluded,
    /// `?term`: at least one of these must occur.
    AnyOf,
}

fn parse_text(pattern: &str) -> Result<Vec<Term>, FilterPatternError> {
    let mut scanner = Scanner::new(pattern);
    let mut terms = Vec::new();
    loop {
        scanner.skip_whitespace();
        let Some(first) = scanner.peek() else {
            break;
        };
        let column = scanner.column();
        let role = match first {
            '-' => TermRole::Excluded,
            '?' => TermRole::AnyOf,
            _ => TermRole::Required,
        };
        if role != TermRole::Required {
            scanner.bump();
        }
        let text = match scanner.peek() {
            Some('"') => quoted_term(&mut scanner)?,
            Some(next) if !next.is_whitespace() => bare_term(&mut scanner)?,
            _ => {
                return Err(FilterPatternError(format!(
                    "expected a term after '{first}' at column {column}"
                )));
            }
        };
        terms.push(Term { text, role });
    }
    Ok(terms)
}

fn quoted_term(scanner: &mut Scanner) -> Result<String, FilterPatternError> {
    let column = scanner.column();
    let text: String = scanner.quoted()?.into_iter().map(|(c, _)| c).collect();
    if let Some(next) = scanner.peek().filter(|c| !c.is_whitespace()) {
        return Err(FilterPatternError(format!(
            "unexpected '{next}' right after the quoted term at column {column}"
        )));
    }
    if text.is_empty() {
        return Err(FilterPatternError(format!(
            "empty quoted term at column {column}"
        )));
    }
    Ok(text)
}

fn bare_term(scanner: &mut Scanner) -> Result<String, FilterPatternError> {
    let column = scanner.column();
    let word = scanner.take_while(|c| !c.is_whitespace());
    if let Some(offset) = word.chars().position(|c| c == '"') {
        return Err(FilterPatternError(format!(
            "unexpected '\"' at column {} inside a term: quote the whole term",
            column + offset
        )));
    }
    if word.len() >= 2 && word.starts_with('%') && word.ends_with('%') {
        return Err(FilterPatternError(format!(
            "regular expressions (%...%) are not supported (column {column})"
        )));
    }
    Ok(word)
}

fn text_matches(terms: &[Term], message: &str) -> bool {
    let mut any_of_given = false;
    let mut any_of_found = false;
    for term in terms {
        let found = message.contains(term.text.as_str());
        match term.role {
            TermRole::Required if !found => return false,
            TermRole::Excluded if found => return false,
            TermRole::AnyOf => {
                any_of_given = true;
                any_of_found |= found;
            }
            TermRole::Required | TermRole::Excluded => {}
        }
    }
    !any_of_given || any_of_found
}

// ---------------------------------------------------------------------------------------
// JSON patterns: tokens.

#[derive(Clone, Debug, PartialEq)]
enum TokenKind {
    OpenBrace,
    CloseBrace,
    OpenParen,
    CloseParen,
    And,
    Or,
    Operator(Operator),
    Selector(Vec<Segment>),
    Quoted(Glob),
    Word(String),
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    /// The token as written, for error messages.
    text: String,
    column: usize,
}

impl Token {
    fn describe(&self) -> String {
        format!("'{}' at column {}", self.text, self.column)
    }
}

/// Characters that end a bare word or selector in a JSON pattern.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(c, '{' | '}' | '(' | ')' | '&' | '|' | '"')
        && !is_operator_char(c)
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '=' | '!' | '<' | '>')
}

fn tokenize(pattern: &str) -> Result<VecDeque<Token>, FilterPatternError> {
    let mut scanner = Scanner::new(pattern);
    let mut tokens = VecDeque::new();
    loop {
        scanner.skip_whitespace();
        let start = scanner.position;
        let column = scanner.column();
        let Some(first) = scanner.peek() else {
            break;
        };
        let kind = match first {
            '{' | '}' | '(' | ')' => {
                scanner.bump();
                match first {
                    '{' => TokenKind::OpenBrace,
                    '}' => TokenKind::CloseBrace,
                    '(' => TokenKind::OpenParen,
                    _ => TokenKind::CloseParen,
                }
            }
            '&' | '|' => match scanner.take_while(|c| c == first).as_str() {
                "&&" => TokenKind::And,
                "||" => TokenKind::Or,
                other => return Err(unknown_operator(other, column)),
            },
            '"' => TokenKind::Quoted(Glob::new(&scanner.quoted()?)),
            c if is_operator_char(c) => {
                let text = scanner.take_while(is_operator_char);
                let operator =
                    Operator::from_text(&text).ok_or_else(|| unknown_operator(&text, column))?;
                TokenKind::Operator(operator)
            }
            _ => {
                let word = scanner.take_while(is_word_char);
                if word.starts_with('$') {
                    TokenKind::Selector(parse_selector(&word, column)?)
                } else {
                    TokenKind::Word(word)
                }
            }
        };
        tokens.push_back(Token {
            kind,
            text: scanner.text_since(start),
            column,
        });
    }
    Ok(tokens)
}

fn unknown_operator(text: &str, column: usize) -> FilterPatternError {
    FilterPatternError(format!(
        "unknown operator '{text}' at column {column} (expected =, !=, <, >, <=, >=, && or ||)"
    ))
}

/// One step of a selector: a field of an object, or an element of an array.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Field(String),
    Index(usize),
}

/// Parses `$.a.b[0]` (the text starting with `$`) into its steps.
fn parse_selector(text: &str, column: usize) -> Result<Vec<Segment>, FilterPatternError> {
    let invalid = |why: &str| {
        FilterPatternError(format!(
            "invalid selector '{text}' at column {column}: {why}"
        ))
    };
    let mut rest = text
        .strip_prefix('$')
        .ok_or_else(|| invalid("it must start with '$'"))?;
    let mut segments = Vec::new();
    while !rest.is_empty() {
        if let Some(after_dot) = rest.strip_prefix('.') {
            let end = after_dot.find(['.', '[']).unwrap_or(after_dot.len());
            let (field, after) = after_dot.split_at(end);
            if field.is_empty() {
                return Err(invalid("a field name is empty"));
            }
            if field.contains(['*', ']']) {
                return Err(invalid("only field names and [index] are supported"));
            }
            segments.push(Segment::Field(field.to_owned()));
            rest = after;
        } else if let Some(after_bracket) = rest.strip_prefix('[') {
            let (index, after) = after_bracket
                .split_once(']')
                .ok_or_else(|| invalid("missing ']'"))?;
            let index = index
                .parse()
                .map_err(|_| invalid("an array index must be a whole number"))?;
            segments.push(Segment::Index(index));
            rest = after;
        } else {
            return Err(invalid("expected '.' or '[' after a field"));
        }
    }
    if segments.is_empty() {
        return Err(invalid("expected a field after '$', like $.level"));
    }
    Ok(segments)
}

/// What a selector finds in an event, if anything.
fn resolve<'a>(json: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(json, |value, segment| match segment {
        Segment::Field(name) => value.as_object()?.get(name),
        Segment::Index(index) => value.as_array()?.get(*index),
    })
}

/// A string value with `*` wildcards: the literal pieces between them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Glob {
    /// One piece: no wildcard, the whole text must be equal.
    pieces: Vec<String>,
}

impl Glob {
    /// From a value's characters, each with whether it was escaped (an escaped `*` is literal).
    fn new(chars: &[(char, bool)]) -> Self {
        let mut pieces = Vec::new();
        let mut current = String::new();
        for &(c, escaped) in chars {
            if c == '*' && !escaped {
                pieces.push(std::mem::take(&mut current));
            } else {
                current.push(c);
            }
        }
        pieces.push(current);
        Self { pieces }
    }

    fn from_word(word: &str) -> Self {
        let chars: Vec<(char, bool)> = word.chars().map(|c| (c, false)).collect();
        Self::new(&chars)
    }

    fn matches(&self, text: &str) -> bool {
        match self.pieces.as_slice() {
            [] => text.is_empty(),
            [only] => text == only,
            [first, middle @ .., last] => {
                let Some(rest) = text.strip_prefix(first.as_str()) else {
                    return false;
                };
                let Some(mut rest) = rest.strip_suffix(last.as_str()) else {
                    return false;
                };
                for piece in middle {
                    match rest.find(piece.as_str()) {
                        Some(at) => rest = rest.split_at(at + piece.len()).1,
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON patterns: the expression and its parser.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
}

impl Operator {
    fn from_text(text: &str) -> Option<Self> {
        Some(match text {
            "=" => Self::Equal,
            "!=" => Self::NotEqual,
            "<" => Self::Less,
            ">" => Self::Greater,
            "<=" => Self::LessOrEqual,
            ">=" => Self::GreaterOrEqual,
            _ => return None,
        })
    }

    /// Whether the operator orders values, which only numbers can be.
    fn orders(self) -> bool {
        !matches!(self, Self::Equal | Self::NotEqual)
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Equal => ordering == Ordering::Equal,
            Self::NotEqual => ordering != Ordering::Equal,
            Self::Less => ordering == Ordering::Less,
            Self::Greater => ordering == Ordering::Greater,
            Self::LessOrEqual => ordering != Ordering::Greater,
            Self::GreaterOrEqual => ordering != Ordering::Less,
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug)]
enum Operand {
    /// A bare number: compared numerically, with JSON numbers only.
    Number(f64),
    /// A quoted string or bare word, `*` a wildcard: compared with strings, and with
    /// numbers and booleans as their JSON text.
    Text(Glob),
}

#[derive(Clone, Debug)]
enum Test {
    Compare(Operator, Operand),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Clone, Debug)]
struct Condition {
    path: Vec<Segment>,
    test: Test,
}

impl Condition {
    fn matches(&self, json: &Value) -> bool {
        let field = resolve(json, &self.path);
        match (&self.test, field) {
            (Test::NotExists, field) => field.is_none(),
            // A field that is not there matches nothing else, not even `!=`.
            (_, None) => false,
            (Test::IsNull, Some(value)) => value.is_null(),
            (Test::IsTrue, Some(value)) => value.as_bool() == Some(true),
            (Test::IsFalse, Some(value)) => value.as_bool() == Some(false),
            (Test::Compare(operator, operand), Some(value)) => compare(*operator, operand, value),
        }
    }
}

fn compare(operator: Operator, operand: &Operand, value: &Value) -> bool {
    match operand {
        Operand::Number(expected) => match value {
            Value::Number(number) => number
                .as_f64()
                .and_then(|actual| actual.partial_cmp(expected))
                .is_some_and(|ordering| operator.holds(ordering)),
            _ => false,
        },
        Operand::Text(glob) => {
            let text: Cow<'_, str> = match value {
                Value::String(text) => Cow::Borrowed(text),
                Value::Number(number) => Cow::Owned(number.to_string()),
                Value::Bool(flag) => Cow::Owned(flag.to_string()),
                Value::Null | Value::Array(_) | Value::Object(_) => return false,
            };
            let equal = glob.matches(&text);
            match operator {
                Operator::Equal => equal,
                Operator::NotEqual => !equal,
                // Refused when parsed: ordering needs a number.
                _ => false,
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Expression {
    /// `a || b || ...`
    AnyOf(Vec<Expression>),
    /// `a && b && ...`
    AllOf(Vec<Expression>),
    Condition(Condition),
}

impl Expression {
    fn matches(&self, json: &Value) -> bool {
        match self {
            Self::AnyOf(alternatives) => alternatives.iter().any(|e| e.matches(json)),
            Self::AllOf(conjuncts) => conjuncts.iter().all(|e| e.matches(json)),
            Self::Condition(condition) => condition.matches(json),
        }
    }
}

fn parse_json(pattern: &str) -> Result<Expression, FilterPatternError> {
    let mut parser = Parser {
        tokens: tokenize(pattern)?,
    };
    let open = match parser.tokens.pop_front() {
        Some(token) if token.kind == TokenKind::OpenBrace => token,
        other => {
            return Err(FilterPatternError(format!(
                "a JSON pattern starts with '{{', found {}",
                describe(other.as_ref())
            )));
        }
    };
    if parser.peek_is(&TokenKind::CloseBrace) {
        return Err(FilterPatternError(format!(
            "empty JSON pattern at column {}",
            open.column
        )));
    }
    let expression = parser.any_of(0)?;
    match parser.tokens.pop_front() {
        Some(token) if token.kind == TokenKind::CloseBrace => {}
        Some(token) if token.kind == TokenKind::CloseParen => {
            return Err(FilterPatternError(format!(
                "unbalanced ')' at column {}",
                token.column
            )));
        }
        Some(token) => {
            return Err(FilterPatternError(format!(
                "expected '&&', '||' or '}}', found {}",
                token.describe()
            )));
        }
        None => {
            return Err(FilterPatternError(format!(
                "missing '}}' to close the '{{' at column {}",
                open.column
            )));
        }
    }
    if let Some(extra) = parser.tokens.pop_front() {
        return Err(FilterPatternError(format!(
            "unexpected {} after the closing '}}'",
            extra.describe()
        )));
    }
    Ok(expression)
}

fn describe(token: Option<&Token>) -> String {
    token.map_or_else(|| "the end of the pattern".to_owned(), Token::describe)
}

/// A recursive-descent parser over a JSON pattern's tokens: `||` binds looser than `&&`.
struct Parser {
    tokens: VecDeque<Token>,
}

impl Parser {
    fn peek_is(&self, kind: &TokenKind) -> bool {
        self.tokens.front().is_some_and(|token| &token.kind == kind)
    }

    fn any_of(&mut self, depth: usize) -> Result<Expression, FilterPatternError> {
        let mut alternatives = vec![self.all_of(depth)?];
        while self.peek_is(&TokenKind::Or) {
            self.tokens.pop_front();
            alternatives.push(self.all_of(depth)?);
        }
        Ok(single_or(alternatives, Expression::AnyOf))
    }

    fn all_of(&mut self, depth: usize) -> Result<Expression, FilterPatternError> {
        let mut conjuncts = vec![self.primary(depth)?];
        while self.peek_is(&TokenKind::And) {
            self.tokens.pop_front();
            conjuncts.push(self.primary(depth)?);
        }
        Ok(single_or(conjuncts, Expression::AllOf))
    }

    fn primary(&mut self, depth: usize) -> Result<Expression, FilterPatternError> {
        let token = self.tokens.pop_front();
        match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::OpenParen) => {
                let column = token.as_ref().map_or(0, |token| token.column);
                if depth >= MAX_NESTING {
                    return Err(FilterPatternError(format!(
                        "parentheses nested more than {MAX_NESTING} deep at column {column}"
                    )));
                }
                let inner = self.any_of(depth + 1)?;
                match self.tokens.pop_front() {
                    Some(close) if close.kind == TokenKind::CloseParen => Ok(inner),
                    other => Err(FilterPatternError(format!(
                        "missing ')' for the '(' at column {column}, found {}",
                        describe(other.as_ref())
                    ))),
                }
            }
            Some(TokenKind::Selector(path)) => {
                let path = path.clone();
                let selector = token.as_ref().map_or_else(String::new, Token::describe);
                self.condition(path, &selector).map(Expression::Condition)
            }
            _ => Err(FilterPatternError(format!(
                "expected a selector like $.field or '(', found {}",
                describe(token.as_ref())
            ))),
        }
    }

    /// The rest of a condition, its selector (described by `selector`) already read.
    fn condition(
        &mut self,
        path: Vec<Segment>,
        selector: &str,
    ) -> Result<Condition, FilterPatternError> {
        let token = self.tokens.pop_front();
        let test = match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::Operator(operator)) => {
                let operator_at = describe(token.as_ref());
                self.comparison(*operator, &operator_at)?
            }
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("IS") => {
                let next = self.tokens.pop_front();
                match next.as_ref().map(|token| &token.kind) {
                    Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case("NULL") => Test::IsNull,
                    Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case("TRUE") => Test::IsTrue,
                    Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case("FALSE") => Test::IsFalse,
                    _ => {
                        return Err(FilterPatternError(format!(
                            "expected NULL, TRUE or FALSE after IS, found {}",
                            describe(next.as_ref())
                        )));
                    }
                }
            }
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("NOT") => {
                let next = self.tokens.pop_front();
                match next.as_ref().map(|token| &token.kind) {
                    Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => Test::NotExists,
                    _ => {
                        return Err(FilterPatternError(format!(
                            "expected EXISTS after NOT, found {}",
                            describe(next.as_ref())
                        )));
                    }
                }
            }
            _ => {
                return Err(FilterPatternError(format!(
                    "missing operator after {selector}, found {}",
                    describe(token.as_ref())
                )));
            }
        };
        Ok(Condition { path, test })
    }

    /// The value of a comparison, its operator (described by `operator_at`) already read.
    fn comparison(
        &mut self,
        operator: Operator,
        operator_at: &str,
    ) -> Result<Test, FilterPatternError> {
        let token = self.tokens.pop_front();
        let operand = match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::Quoted(glob)) => Operand::Text(glob.clone()),
            Some(TokenKind::Word(word)) => {
                number(word).map_or_else(|| Operand::Text(Glob::from_word(word)), Operand::Number)
            }
            _ => {
                return Err(FilterPatternError(format!(
                    "missing value after {operator_at}, found {}",
                    describe(token.as_ref())
                )));
            }
        };
        if operator.orders() && matches!(operand, Operand::Text(_)) {
            return Err(FilterPatternError(format!(
                "{operator_at} compares numbers, but its value {} is not a number",
                describe(token.as_ref())
            )));
        }
        Ok(Test::Compare(operator, operand))
    }
}

/// One item as itself, several combined.
fn single_or(mut items: Vec<Expression>, combine: fn(Vec<Expression>) -> Expression) -> Expression {
    if items.len() == 1
        && let Some(only) = items.pop()
    {
        return only;
    }
    combine(items)
}

/// A bare word as a number, if it is written as one (`500`, `-1.5`, `2e3`; not `inf`).
fn number(word: &str) -> Option<f64> {
    let starts_like_a_number = word
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    let only_number_chars = word
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    if !(starts_like_a_number && only_number_chars) {
        return None;
    }
    word.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whether `pattern` matches `line`, read as JSON when it is a JSON object.
    fn matches(pattern: &str, line: &str) -> bool {
        let json = serde_json::from_str::<Value>(line)
            .ok()
            .filter(Value::is_object);
        FilterPattern::parse(pattern)
            .unwrap()
            .matches(line, json.as_ref())
    }

    fn error(pattern: &str) -> String {
        FilterPattern::parse(pattern).unwrap_err().to_string()
    }

    #[test]
    fn an_empty_pattern_matches_every_event() {
        for pattern in ["", " ", "  \t "] {
            assert!(matches(pattern, "anything"));
            assert!(matches(pattern, ""));
            assert!(matches(pattern, r#"{"level":"INFO"}"#));
        }
    }

    #[test]
    fn a_json_equality_matches_only_that_value_of_a_json_line() {
        let pattern = r#"{ $.level = "ERROR" }"#;
        assert!(matches(pattern, r#"{"level":"ERROR"}"#));
        assert!(!matches(pattern, r#"{"level":"INFO"}"#));
        assert!(!matches(pattern, r#"{"other":"ERROR"}"#));
        // A text line never matches a JSON pattern, whatever it says.
        assert!(!matches(pattern, "level = ERROR"));
        assert!(!matches(pattern, r#"ERROR {"level":"ERROR"}"#));
        // Nor does JSON that is not an object.
        let pattern = FilterPattern::parse(pattern).unwrap();
        assert!(!pattern.matches(r#"["ERROR"]"#, Some(&json!(["ERROR"]))));
        // Bare words are strings too.
        assert!(matches("{$.level=ERROR}", r#"{"level":"ERROR"}"#));
        assert!(!matches("{ $.level = error }", r#"{"level":"ERROR"}"#));
    }

    #[test]
    fn numbers_compare_numerically() {
        let pattern = "{ $.status >= 500 }";
        assert!(matches(pattern, r#"{"status":500}"#));
        assert!(matches(pattern, r#"{"status":503.5}"#));
        assert!(!matches(pattern, r#"{"status":499}"#));
        // A string is not a number, even when it reads like one.
        assert!(!matches(pattern, r#"{"status":"500"}"#));
        assert!(matches("{ $.status > 499 }", r#"{"status":500}"#));
        assert!(!matches("{ $.status > 500 }", r#"{"status":500}"#));
        assert!(matches("{ $.status < 500 }", r#"{"status":200}"#));
        assert!(matches("{ $.status <= 500 }", r#"{"status":500}"#));
        assert!(matches("{ $.status = 500 }", r#"{"status":500.0}"#));
        assert!(matches("{ $.status != 500 }", r#"{"status":404}"#));
        assert!(!matches("{ $.status != 500 }", r#"{"status":500}"#));
        assert!(matches("{ $.delta < -1.5 }", r#"{"delta":-2}"#));
        assert!(matches("{ $.big > 1e3 }", r#"{"big":1001}"#));
        assert!(!matches("{ $.status = 500 }", r#"{"status":"500"}"#));
        // A quoted value compares as a string, with a number's JSON text.
        assert!(matches(r#"{ $.status = "500" }"#, r#"{"status":"500"}"#));
        assert!(matches(r#"{ $.status = "500" }"#, r#"{"status":500}"#));
        assert!(matches("{ $.status = 5* }", r#"{"status":503}"#));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let pattern = r#"{ ($.a = 1) && ($.b = "x") || $.c IS TRUE }"#;
        assert!(matches(pattern, r#"{"a":1,"b":"x"}"#));
        assert!(matches(pattern, r#"{"a":2,"b":"y","c":true}"#));
        assert!(matches(pattern, r#"{"c":true}"#));
        assert!(!matches(pattern, r#"{"a":1,"b":"y"}"#));
        assert!(!matches(pattern, r#"{"a":1,"b":"y","c":false}"#));
        // Read as a && (b || c), {"c":true} would not match; as (a && b) || c it must.
        let pattern = "{ $.c IS TRUE || $.a = 1 && $.b = 2 }";
        assert!(matches(pattern, r#"{"c":true}"#));
        assert!(!matches(pattern, r#"{"a":1}"#));
        assert!(matches(pattern, r#"{"a":1,"b":2}"#));
        // Parentheses override it.
        let pattern = "{ ($.c IS TRUE || $.a = 1) && $.b = 2 }";
        assert!(!matches(pattern, r#"{"c":true}"#));
        assert!(matches(pattern, r#"{"c":true,"b":2}"#));
        assert!(matches("{ ((($.a = 1))) }", r#"{"a":1}"#));
    }

    #[test]
    fn a_star_in_a_string_value_is_a_wildcard() {
        let pattern = r#"{ $.msg = "time*out" }"#;
        assert!(matches(pattern, r#"{"msg":"timeout"}"#));
        assert!(matches(pattern, r#"{"msg":"time ran out"}"#));
        assert!(!matches(pattern, r#"{"msg":"a timeout"}"#));
        assert!(!matches(pattern, r#"{"msg":"timeout!"}"#));
        assert!(!matches(pattern, r#"{"msg":"timeou"}"#));
        // Prefix and suffix wildcards; several; the pieces must not overlap.
        assert!(matches(r#"{ $.msg = "*out" }"#, r#"{"msg":"timeout"}"#));
        assert!(matches(r#"{ $.msg = "time*" }"#, r#"{"msg":"timeout"}"#));
        assert!(matches(r#"{ $.msg = "*" }"#, r#"{"msg":""}"#));
        assert!(matches(r#"{ $.msg = "*me*ou*" }"#, r#"{"msg":"timeout"}"#));
        assert!(!matches(r#"{ $.msg = "ab*ba" }"#, r#"{"msg":"aba"}"#));
        assert!(matches(r#"{ $.msg = "a*b*c" }"#, r#"{"msg":"abbc"}"#));
        assert!(!matches(r#"{ $.msg = "a*b*c" }"#, r#"{"msg":"acb"}"#));
        // `!=` is the negation, an escaped star is literal.
        assert!(matches(r#"{ $.msg != "time*" }"#, r#"{"msg":"late"}"#));
        assert!(!matches(r#"{ $.msg != "time*" }"#, r#"{"msg":"timeout"}"#));
        assert!(matches(r#"{ $.msg = "a\*b" }"#, r#"{"msg":"a*b"}"#));
        assert!(!matches(r#"{ $.msg = "a\*b" }"#, r#"{"msg":"axb"}"#));
    }

    #[test]
    fn null_true_false_and_not_exists() {
        assert!(matches("{ $.x IS NULL }", r#"{"x":null}"#));
        assert!(!matches("{ $.x IS NULL }", r#"{"x":0}"#));
        assert!(!matches("{ $.x IS NULL }", "{}"));
        assert!(matches("{ $.x IS TRUE }", r#"{"x":true}"#));
        assert!(!matches("{ $.x IS TRUE }", r#"{"x":"true"}"#));
        assert!(matches("{ $.x IS FALSE }", r#"{"x":false}"#));
        assert!(!matches("{ $.x IS FALSE }", r#"{"x":true}"#));
        assert!(matches("{ $.x NOT EXISTS }", r#"{"y":1}"#));
        assert!(!matches("{ $.x NOT EXISTS }", r#"{"x":null}"#));
        assert!(matches("{ $.a.b NOT EXISTS }", r#"{"a":"flat"}"#));
        // A missing field matches no comparison, `!=` included.
        assert!(!matches(r#"{ $.x != "a" }"#, "{}"));
        assert!(!matches("{ $.x != 1 }", "{}"));
        assert!(!matches("{ $.x = 1 }", r#"{"x":null}"#));
    }

    #[test]
    fn nested_and_array_selectors() {
        let line = r#"{"a":{"b":{"c":"deep"}},"list":[{"id":7},{"id":8}],"tags":["x","y"]}"#;
        assert!(matches(r#"{ $.a.b.c = "deep" }"#, line));
        assert!(matches("{ $.list[1].id = 8 }", line));
        assert!(!matches("{ $.list[0].id = 8 }", line));
        assert!(matches("{ $.tags[0] = x }", line));
        assert!(!matches("{ $.tags[2] = x }", line));
        assert!(matches("{ $.tags[2] NOT EXISTS }", line));
        assert!(!matches(r#"{ $.a.b = "deep" }"#, line));
        assert!(!matches("{ $.a[0] = 1 }", line));
        assert!(matches(
            r#"{ $.request-id = "r1" }"#,
            r#"{"request-id":"r1"}"#
        ));
    }

    #[test]
    fn text_terms_must_all_appear_case_sensitively() {
        assert!(matches("ERROR", "2026 ERROR boom"));
        assert!(matches("ERROR", "xERRORx"));
        assert!(!matches("ERROR", "error boom"));
        assert!(matches("ERROR boom", "boom: ERROR"));
        assert!(!matches("ERROR boom", "ERROR only"));
        // Text patterns read the raw line, JSON or not.
        assert!(matches("ERROR", r#"{"level":"ERROR"}"#));
    }

    #[test]
    fn a_quoted_phrase_is_one_term() {
        assert!(matches(r#""two words""#, "here are two words"));
        assert!(!matches(r#""two words""#, "words two"));
        assert!(matches("two words", "words two"));
        assert!(matches(r#""say \"hi\"""#, r#"they say "hi" to all"#));
        assert!(matches(r#""a*b""#, "a*b"));
        assert!(!matches(r#""a*b""#, "axb"));
    }

    #[test]
    fn a_minus_term_must_not_appear() {
        assert!(matches("ERROR -retry", "ERROR fatal"));
        assert!(!matches("ERROR -retry", "ERROR will retry"));
        assert!(!matches("ERROR -retry", "retry later"));
        assert!(matches(r#"-"not me""#, "not you"));
        assert!(!matches(r#"-"not me""#, "not me"));
        assert!(matches("a-b", "a-b"));
    }

    #[test]
    fn question_terms_need_any_one() {
        assert!(matches("?ERROR ?WARN", "ERROR x"));
        assert!(matches("?ERROR ?WARN", "WARN x"));
        assert!(matches("?ERROR ?WARN", "WARN ERROR"));
        assert!(!matches("?ERROR ?WARN", "INFO x"));
        // With plain and minus terms, those still apply.
        assert!(matches("?ERROR ?WARN db -retry", "WARN db"));
        assert!(!matches("?ERROR ?WARN db -retry", "WARN api"));
        assert!(!matches("?ERROR ?WARN db -retry", "WARN db retry"));
    }

    #[test]
    fn malformed_patterns_are_errors_that_say_where() {
        let cases = [
            (r#"{ $.level = "ERROR" "#, "missing '}'"),
            (r#"{ $.level = "ERROR" }}"#, "after the closing '}'"),
            (r#"{ $.level = "ERROR" } extra"#, "'extra' at column 23"),
            ("{ }", "empty JSON pattern"),
            ("{ ($.a = 1 }", "missing ')'"),
            ("{ $.a = 1) }", "unbalanced ')' at column 10"),
            ("{ (($.a = 1) }", "missing ')'"),
            (
                r#"{ $.level = "ERROR }"#,
                "unterminated quoted string starting at column 13",
            ),
            (
                "{ $.level }",
                "missing operator after '$.level' at column 3",
            ),
            ("{ $.level ERROR }", "missing operator"),
            ("{ $.level = }", "missing value after '=' at column 11"),
            ("{ $.level = && $.a = 1 }", "missing value"),
            ("{ $.level == 1 }", "unknown operator '==' at column 11"),
            ("{ $.level => 1 }", "unknown operator '=>'"),
            ("{ $.a = 1 & $.b = 2 }", "unknown operator '&'"),
            ("{ $.a = 1 ||| $.b = 2 }", "unknown operator '|||'"),
            ("{ $.a = 1 && }", "expected a selector"),
            (
                "{ level = 1 }",
                "expected a selector like $.field or '(', found 'level'",
            ),
            ("{ $.a = 1 $.b = 2 }", "expected '&&', '||' or '}'"),
            ("{ $.a > abc }", "compares numbers"),
            (r#"{ $.a < "5" }"#, "compares numbers"),
            ("{ $.a IS MAYBE }", "expected NULL, TRUE or FALSE"),
            ("{ $.a NOT THERE }", "expected EXISTS"),
            ("{ $ = 1 }", "invalid selector '$'"),
            ("{ $. = 1 }", "field name is empty"),
            ("{ $.a[x] = 1 }", "whole number"),
            ("{ $.a[0 = 1 }", "missing ']'"),
            ("{ $.* = 1 }", "only field names"),
            (
                r#""unterminated"#,
                "unterminated quoted string starting at column 1",
            ),
            (r#"ERROR "a"b"#, "right after the quoted term"),
            (r#"ab"c"#, "column 3"),
            ("ERROR -", "expected a term after '-' at column 7"),
            ("? x", "expected a term after '?'"),
            (r#""""#, "empty quoted term"),
            ("%ERR.*%", "regular expressions"),
            ("[ip, user]", "space-delimited"),
        ];
        for (pattern, expected) in cases {
            let message = error(pattern);
            assert!(
                message.starts_with("invalid filter pattern: "),
                "{pattern}: {message}"
            );
            assert!(message.contains(expected), "{pattern}: {message}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(100), ")".repeat(100));
        assert!(error(&deep).contains("nested more than 64"));
        let fine = format!("{{ {}$.a = 1{} }}", "(".repeat(60), ")".repeat(60));
        assert!(matches(&fine, r#"{"a":1}"#));
    }

    #[test]
    fn transformation_values_are_literals_or_selected_fields() {
        let event = json!({"service": "api", "a": {"b": 2.5, "flag": true}, "list": [7, {"x": "y"}],
            "nothing": null});
        assert_eq!(
            transformation_value("1", Some(&event)).as_deref(),
            Some("1")
        );
        assert_eq!(transformation_value("2.5", None).as_deref(), Some("2.5"));
        assert_eq!(transformation_value("text", None).as_deref(), Some("text"));
        assert_eq!(
            transformation_value("$.service", Some(&event)).as_deref(),
            Some("api")
        );
        assert_eq!(
            transformation_value("$.a.b", Some(&event)).as_deref(),
            Some("2.5")
        );
        assert_eq!(
            transformation_value(" $.a.flag ", Some(&event)).as_deref(),
            Some("true")
        );
        assert_eq!(
            transformation_value("$.list[0]", Some(&event)).as_deref(),
            Some("7")
        );
        assert_eq!(
            transformation_value("$.list[1].x", Some(&event)).as_deref(),
            Some("y")
        );
        assert_eq!(transformation_value("$.missing", Some(&event)), None);
        assert_eq!(transformation_value("$.a.b.c", Some(&event)), None);
        assert_eq!(transformation_value("$.nothing", Some(&event)), None);
        assert_eq!(transformation_value("$.a", Some(&event)), None);
        assert_eq!(transformation_value("$.service", None), None);
        assert_eq!(transformation_value("$.[", Some(&event)), None);
    }
}
