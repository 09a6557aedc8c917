//! The one place YAML is parsed.
//!
//! Every YAML file the user gives tiersim (scenarios, catalogs) is read with
//! [`read_source`] and parsed with [`parse`], so the parser can be swapped in
//! one place and every input gets the same limits and the same error shape:
//! `file:line:column: field.path: message`.
//!
//! The parser (`serde_yaml`, the maintained `yaml_serde` continuation) reports
//! a location for syntax and type errors. Errors found later, by validation,
//! carry only a field path; [`locate`] turns that path back into a line and
//! column by walking the document again with a visitor that fails on purpose
//! when it reaches the node, so the parser stamps its own position on it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::error::{Diagnostic, Error, Result};

/// Deepest nesting of flow collections (`[...]`, `{...}`) accepted. Real
/// files nest a handful of levels; the parser slows down quadratically on
/// deep flow nesting (100,000 levels take a minute), so deeper documents
/// are refused before parsing. Block nesting is bounded by the parser's own
/// recursion limit (128 levels) and alias expansion by its repetition limit
/// (100 times the document's events), both reported as errors.
pub const MAX_FLOW_NESTING: usize = 64;

/// A YAML document and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file, or `None` for built-in documents and command-line text.
    pub origin: Option<PathBuf>,
    /// A name for built-in documents (`bedrock-2026-11`).
    pub label: String,
    pub text: String,
}

impl Source {
    pub fn from_text(label: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            origin: None,
            label: label.into(),
            text: text.into(),
        }
    }

    /// The name used in error messages.
    pub fn display_path(&self) -> PathBuf {
        match &self.origin {
            Some(p) => p.clone(),
            None => PathBuf::from(&self.label),
        }
    }
}

/// Reads a text file for parsing, refusing directories, oversized files and
/// bytes that are not UTF-8 with a message that says which.
pub fn read_source(path: &Path) -> Result<Source> {
    let bytes = crate::input::read_file(path, &crate::input::YAML_FILE)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::from(
            Diagnostic::new(format!(
                "is not UTF-8 text (invalid byte at offset {}); expected a YAML file",
                e.utf8_error().valid_up_to()
            ))
            .in_file(path),
        )
    })?;
    Ok(Source {
        origin: Some(path.to_path_buf()),
        label: path.display().to_string(),
        text,
    })
}

/// Checks what must hold before the parser sees a document: it is not
/// empty, and its flow collections nest at most [`MAX_FLOW_NESTING`] deep.
fn precheck(src: &Source) -> Result<()> {
    if src.text.trim().is_empty() {
        return Err(Diagnostic::new("file is empty; expected a YAML mapping")
            .in_file(&src.display_path())
            .into());
    }
    if let Some((line, col)) = too_deep(&src.text, MAX_FLOW_NESTING) {
        return Err(Diagnostic::new(format!(
            "collections nest more than {MAX_FLOW_NESTING} levels deep; tiersim's files need a few levels, so this is not a scenario, catalog or profile"
        ))
        .in_file(&src.display_path())
        .at(line, col)
        .into());
    }
    Ok(())
}

/// Where flow collections first nest deeper than `limit` (1-based line and
/// column), skipping quoted scalars and comments.
fn too_deep(text: &str, limit: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut chars = line.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            match quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some(q) if c == q => {
                    // '' inside a single-quoted scalar is an escaped quote.
                    if q == '\'' && chars.peek().is_some_and(|&(_, d)| d == '\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some(_) => {}
                None => match c {
                    '#' if prev.is_whitespace() => break,
                    '"' | '\'' if prev.is_whitespace() || "[{,:".contains(prev) => quote = Some(c),
                    '[' | '{' => {
                        depth += 1;
                        if depth > limit {
                            return Some((n + 1, i + 1));
                        }
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
    }
    None
}

/// Parses a document into `T`, turning parser errors into a located diagnostic.
pub fn parse<T: DeserializeOwned>(src: &Source) -> Result<T> {
    precheck(src)?;
    serde_yaml::from_str::<T>(&src.text).map_err(|e| parse_error(src, &e))
}

/// Parses a document into a generic YAML value (used to apply overrides).
pub fn parse_value(src: &Source) -> Result<serde_yaml::Value> {
    precheck(src)?;
    serde_yaml::from_str::<serde_yaml::Value>(&src.text).map_err(|e| parse_error(src, &e))
}

/// Deserializes `T` from a YAML value that was edited after parsing. Errors
/// are located in `src` by their field path where the path exists there.
pub fn from_value<T: DeserializeOwned>(src: &Source, value: serde_yaml::Value) -> Result<T> {
    // Deserializing from a value loses the field path of an error, so the
    // edited document is written out and parsed as text, which keeps it.
    let text = serde_yaml::to_string(&value)
        .map_err(|e| Error::failure(format!("cannot re-read the edited document: {e}")))?;
    serde_yaml::from_str::<T>(&text).map_err(|e| {
        let (path, message) = split_path(&strip_location(&e.to_string()));
        let mut d = Diagnostic::new(tidy_message(&message)).in_file(&src.display_path());
        if let Some(p) = path {
            if let Some((l, c)) = locate(&src.text, &p) {
                d = d.at(l, c);
            }
            d = d.at_path(p);
        }
        Error::from(d)
    })
}

fn parse_error(src: &Source, e: &serde_yaml::Error) -> Error {
    let raw = strip_location(&e.to_string());
    let (path, message) = split_path(&raw);
    let mut d = Diagnostic::new(tidy_message(&message)).in_file(&src.display_path());
    if let Some(loc) = e.location() {
        d = d.at(loc.line(), loc.column());
    }
    // The parser places a duplicate field at its mapping; point at the
    // repeated key instead, and say what is allowed.
    if let Some(field) = message
        .strip_prefix("duplicate field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        let mut seen = 0;
        for (n, line) in src.text.lines().enumerate() {
            let trimmed = line.trim_start().trim_start_matches("- ");
            if trimmed.starts_with(&format!("{field}:")) {
                seen += 1;
                if seen == 2 {
                    let col = line.len() - trimmed.len() + 1;
                    d = Diagnostic::new(format!(
                        "duplicate field `{field}`; each field may appear once in a mapping"
                    ))
                    .in_file(&src.display_path())
                    .at(n + 1, col);
                    break;
                }
            }
        }
    }
    if let Some(p) = path {
        d = d.at_path(p);
    }
    Error::from(d)
}

/// The parser puts " at line L column C" into its messages (at the end, and
/// inside libyaml's "problem at ..., context at ..." messages); the location
/// is reported separately, so every such phrase is removed.
pub fn strip_location(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(idx) = rest.find(" at line ") {
        out.push_str(&rest[..idx]);
        let after = &rest[idx + " at line ".len()..];
        let line_len = after.chars().take_while(char::is_ascii_digit).count();
        let tail = &after[line_len..];
        match tail.strip_prefix(" column ") {
            Some(col) if line_len > 0 => {
                let col_len = col.chars().take_while(char::is_ascii_digit).count();
                rest = &col[col_len..];
            }
            _ => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits "path.to[0].field: message" into its path and message, when the
/// prefix looks like a field path the parser produced.
fn split_path(msg: &str) -> (Option<String>, String) {
    if let Some(idx) = msg.find(": ") {
        let head = &msg[..idx];
        let looks_like_path = !head.is_empty()
            && !head.contains(' ')
            && head
                .chars()
                .all(|c| c.is_alphanumeric() || "._-[]?".contains(c));
        if looks_like_path {
            return (Some(head.to_string()), msg[idx + 2..].to_string());
        }
    }
    (None, msg.to_string())
}

/// Makes a few of the parser's messages say what would be valid in words a
/// scenario author uses.
fn tidy_message(msg: &str) -> String {
    for (name, what) in [
        (
            "ScenarioSpec",
            "a scenario: a mapping with name, horizon_months, volume, workloads, policies and baseline",
        ),
        (
            "CatalogSpec",
            "a catalog: a mapping with name, as_of, sources and models",
        ),
        (
            "QualityProfile",
            "a quality profile: a mapping with slope and capabilities",
        ),
    ] {
        if let Some(head) = msg.strip_suffix(&format!("expected struct {name}")) {
            return format!("{head}expected {what}");
        }
    }
    // A whole number too large for its field (beyond 64 bits, the parser
    // reads it as a u128 and says so).
    for (ty, max) in [("u32", u32::MAX as u64), ("u64", u64::MAX)] {
        for (head, tail) in [
            ("invalid value: integer `", "`"),
            ("invalid type: integer `", "` as u128"),
        ] {
            if let Some(rest) = msg.strip_prefix(head)
                && let Some(n) = rest.strip_suffix(&format!("{tail}, expected {ty}"))
            {
                return format!("number `{n}` is too large; expected a whole number up to {max}");
            }
        }
    }
    let mut out = msg
        .replace("invalid type: floating point", "invalid type: number")
        .replace("invalid type: integer", "invalid type: number")
        .replace(
            "invalid type: unit value",
            "invalid type: null (an empty value)",
        )
        .replace("expected u32", "expected a whole number")
        .replace("expected u64", "expected a whole number")
        .replace("expected f64", "expected a number");
    if out.contains("number `-") && out.ends_with("expected a whole number") {
        out.push_str(", 0 or more");
    }
    // libyaml's scanner errors say what it found; add what to write instead.
    for (found, hint) in [
        (
            "found a tab character",
            "indent with spaces; YAML does not allow tabs for indentation",
        ),
        (
            "found unexpected end of stream, while scanning a quoted scalar",
            "a quoted string is not closed; add the closing quote",
        ),
        (
            "mapping values are not allowed in this context",
            "a `key: value` is where a plain value was expected; check the indentation, or quote a value that contains `: `",
        ),
        (
            "did not find expected key",
            "check the indentation: every field of a mapping starts in the same column",
        ),
        (
            "did not find expected ',' or ']'",
            "a `[` list is not closed with `]`",
        ),
        (
            "did not find expected ',' or '}'",
            "a `{` mapping is not closed with `}`",
        ),
        (
            "found character that cannot start any token",
            "quote a value that starts with `@`, a backquote or `%`",
        ),
    ] {
        if out.contains(found) {
            out = format!("{out}; {hint}");
            break;
        }
    }
    // "unknown field `shar`, expected one of `name`, `share`" / "unknown variant ..."
    for kind in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = out.strip_prefix(kind)
            && let Some((word, tail)) = rest.split_once('`')
        {
            let candidates: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            if let Some(s) = crate::input::suggest(word, candidates.iter().copied()) {
                out = format!("{out}; did you mean `{s}`?");
            }
            break;
        }
    }
    out
}

/// A segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        if part.is_empty() {
            return None;
        }
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']')?;
            segs.push(Seg::Index(stripped[..end].parse().ok()?));
            rest = &stripped[end + 1..];
        }
    }
    Some(segs)
}

const FOUND: &str = "\u{1}tiersim-locate-found";

/// Returns the 1-based (line, column) of the node at `path` (such as
/// `workloads[1].share`) in a YAML document, if the document has that node.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let segs = parse_path(path)?;
    let de = serde_yaml::Deserializer::from_str(text);
    match (Walk { segs: &segs }).deserialize(de) {
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

struct Walk<'a> {
    segs: &'a [Seg],
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.segs.is_empty() {
            return Err(de::Error::custom(FOUND));
        }
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            let hit = match (&self.segs[0], &key) {
                (Seg::Key(k), serde_yaml::Value::String(s)) => k == s,
                (Seg::Key(k), other) => value_as_key(other).as_deref() == Some(k.as_str()),
                _ => false,
            };
            if hit {
                map.next_value_seed(Walk {
                    segs: &self.segs[1..],
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.segs.is_empty() {
            return Err(de::Error::custom(FOUND));
        }
        let mut i = 0usize;
        loop {
            let hit = matches!(self.segs[0], Seg::Index(n) if n == i);
            let more = if hit {
                seq.next_element_seed(Walk {
                    segs: &self.segs[1..],
                })?
                .is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.leaf()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.leaf()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }
}

impl Walk<'_> {
    fn leaf<E: de::Error>(&self) -> Result<(), E> {
        if self.segs.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

fn value_as_key(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Finds the location of `path` in `src`, walking up to the nearest parent
/// that exists (a missing field is reported at the mapping that lacks it).
pub fn locate_nearest(text: &str, path: &str) -> Option<(usize, usize)> {
    let mut p = path.to_string();
    loop {
        if let Some(loc) = locate(text, &p) {
            return Some(loc);
        }
        let cut = p.rfind(['.', '['])?;
        p.truncate(cut);
        if p.is_empty() {
            return None;
        }
    }
}

/// Attaches file and line/column to diagnostics that carry only a field path.
pub fn locate_all(src: &Source, mut err: Error) -> Error {
    for d in &mut err.diagnostics {
        if d.file.is_none() {
            d.file = Some(src.display_path());
        }
        if d.location.is_none()
            && let Some(p) = &d.path
            && let Some(loc) = locate_nearest(&src.text, p)
        {
            d.location = Some(loc);
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: x\nworkloads:\n  - name: a\n    share: 0.5\n  - name: b\n    share: 1.5\npolicies: []\n";

    #[test]
    fn flow_nesting_is_measured_outside_quotes_and_comments() {
        assert_eq!(too_deep("a: [[1]]\n", 2), None);
        assert_eq!(too_deep("a: [[[1]]]\n", 2), Some((1, 6)));
        assert_eq!(too_deep("a: \"[[[[\"\nb: '[[[[' # [[[[\n", 2), None);
        assert_eq!(too_deep("a: 'it''s [[[['\n", 2), None);
        assert_eq!(too_deep("a: {b: [1, {c: [2]}]}\n", 4), None);
        assert_eq!(too_deep("a: {b: [1, {c: [2]}]}\n", 3), Some((1, 16)));
    }

    #[test]
    fn locates_nested_fields() {
        assert_eq!(locate(DOC, "workloads[1].share"), Some((6, 12)));
        assert_eq!(locate(DOC, "name"), Some((1, 7)));
        assert_eq!(locate(DOC, "workloads[0]"), Some((3, 5)));
        assert_eq!(locate(DOC, "workloads[2]"), None);
        assert_eq!(locate_nearest(DOC, "workloads[1].missing"), Some((5, 5)));
    }

    #[test]
    fn splits_parser_messages() {
        assert_eq!(
            split_path("workloads[0].share: invalid type: string \"x\", expected f64"),
            (
                Some("workloads[0].share".to_string()),
                "invalid type: string \"x\", expected f64".to_string()
            )
        );
        assert_eq!(strip_location("bad thing at line 3 column 7"), "bad thing");
    }

    #[test]
    fn tidies_parser_messages() {
        assert_eq!(
            tidy_message("invalid type: floating point `0.5`, expected u32"),
            "invalid type: number `0.5`, expected a whole number"
        );
        assert_eq!(
            tidy_message("invalid type: integer `-1`, expected u64"),
            "invalid type: number `-1`, expected a whole number, 0 or more"
        );
        assert_eq!(
            tidy_message("invalid value: integer `4294967296`, expected u32"),
            "number `4294967296` is too large; expected a whole number up to 4294967295"
        );
        assert_eq!(
            tidy_message("invalid type: unit value, expected f64"),
            "invalid type: null (an empty value), expected a number"
        );
        assert_eq!(
            tidy_message(
                "found a tab character that violates indentation, while scanning a plain scalar"
            ),
            "found a tab character that violates indentation, while scanning a plain scalar; indent with spaces; YAML does not allow tabs for indentation"
        );
    }
}
