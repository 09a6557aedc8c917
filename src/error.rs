//! Errors and the two exit codes.
//!
//! Anything the user typed or wrote in a file that tiersim cannot use is an
//! [`ErrorKind::Input`] error (exit code 2); anything else that goes wrong
//! (a file that cannot be written, say) is a [`ErrorKind::Failure`] (exit code 1).
//! Input errors are collected as [`Diagnostic`]s so one run can report every
//! problem in a file, each with its file, line/column, field path and what
//! would be valid.

use std::fmt;
use std::path::{Path, PathBuf};

/// Whether an error is the user's input or something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: a file, a flag, a value. Exit code 2.
    Input,
    /// Anything else (I/O on output files, internal limits). Exit code 1.
    Failure,
}

/// One problem found in user input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in, or `None` for command-line input.
    pub file: Option<PathBuf>,
    /// 1-based line and column, where the input has one.
    pub location: Option<(usize, usize)>,
    /// Dotted field path such as `workloads[1].share`, where there is one.
    pub path: Option<String>,
    /// What is wrong, and what would be valid.
    pub message: String,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            location: None,
            path: None,
            message: message.into(),
        }
    }

    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        let p = path.into();
        self.path = if p.is_empty() || p == "." {
            None
        } else {
            Some(p)
        };
        self
    }

    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.location = Some((line, column));
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote_prefix = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some((line, col)) = self.location {
                write!(f, ":{line}:{col}")?;
            }
            wrote_prefix = true;
        } else if let Some((line, col)) = self.location {
            write!(f, "line {line} column {col}")?;
            wrote_prefix = true;
        }
        if wrote_prefix {
            f.write_str(": ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&readable_numbers(&self.message))
    }
}

/// Rust prints `1e30` as thirty-one digits and `1e-300` as three hundred:
/// in a message, a number longer than 20 characters is shown in scientific
/// notation instead (u64::MAX, 20 digits, stays as it is).
fn readable_numbers(msg: &str) -> std::borrow::Cow<'_, str> {
    let is_num = |c: char| c.is_ascii_digit() || c == '.';
    if !msg.contains(|c: char| c.is_ascii_digit()) {
        return msg.into();
    }
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let mut len = rest[start..]
            .find(|c: char| !is_num(c))
            .unwrap_or(rest.len() - start);
        // A full stop after a number ends the sentence.
        if rest[start..start + len].ends_with('.') {
            len -= 1;
        }
        let token = &rest[start..start + len];
        out.push_str(&rest[..start]);
        match token.parse::<f64>() {
            Ok(x) if len > 20 && x.is_finite() => out.push_str(&format!("{x:e}")),
            _ => out.push_str(token),
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out.into()
}

/// The error type of the library and the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub diagnostics: Vec<Diagnostic>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            diagnostics: vec![Diagnostic::new(message)],
        }
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Failure,
            diagnostics: vec![Diagnostic::new(message)],
        }
    }

    pub fn from_diagnostics(diagnostics: Vec<Diagnostic>) -> Self {
        Error {
            kind: ErrorKind::Input,
            diagnostics,
        }
    }

    /// Sets the file of every diagnostic that does not name one yet.
    pub fn in_file(mut self, file: &Path) -> Self {
        for d in &mut self.diagnostics {
            if d.file.is_none() {
                d.file = Some(file.to_path_buf());
            }
        }
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Input => 2,
            ErrorKind::Failure => 1,
        }
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::from_diagnostics(vec![d])
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Collects diagnostics during validation so that one pass reports them all.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.items
            .push(Diagnostic::new(message.into()).at_path(path.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn into_result(self) -> Result<()> {
        if self.items.is_empty() {
            Ok(())
        } else {
            Err(Error::from_diagnostics(self.items))
        }
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_read_in_scientific_notation() {
        let tiny = format!("got -0.{}1, expected", "0".repeat(299));
        assert_eq!(readable_numbers(&tiny), "got -1e-300, expected");
        assert_eq!(
            readable_numbers("got 1000000000000000000000000000000 at models[10]"),
            "got 1e30 at models[10]"
        );
        assert_eq!(
            readable_numbers("got 1000000000000000000000000000000."),
            "got 1e30."
        );
        assert_eq!(
            readable_numbers("up to 18446744073709551615; version 1.110.2"),
            "up to 18446744073709551615; version 1.110.2"
        );
    }
}
