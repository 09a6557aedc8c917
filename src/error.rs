//! Errors, split by the phase that found them, and the exit code each
//! phase gives.
//!
//! - [`Phase::Load`]: a file, a value or an override tiersim cannot use —
//!   reading, parsing and validation. Exit code 2. Collected as
//!   [`Diagnostic`]s so one run reports every problem in a file, each with
//!   its file, line/column, field path and what would be valid.
//! - [`Phase::Limit`]: a valid scenario whose run would exceed what tiersim
//!   holds in memory or simulates in reasonable time. Exit code 2: the user
//!   changes the input.
//! - [`Phase::Write`]: results cannot be written; the I/O error is the
//!   [`std::error::Error::source`]. Exit code 1.
//! - [`Phase::Internal`]: anything else. Exit code 1.
//!
//! The library never words a message in command-line flags: where a value
//! came from is an [`Origin`], and whoever shows the error names it
//! ([`Diagnostic::display_with`]; the binary says `--set`, `--vary`, `--out`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which phase found the error; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading, parsing, validating input. Exit code 2.
    Load,
    /// The run would exceed a size limit. Exit code 2.
    Limit,
    /// Writing results. Exit code 1.
    Write,
    /// Anything else. Exit code 1.
    Internal,
}

/// Where a value came from when it is not the file a diagnostic names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An override `PATH=VALUE` of a scenario field.
    Override { raw: String },
    /// One value of a sweep over a scenario field.
    Sweep { path: String, value: String },
    /// A sweep's specification (`PATH=START..END:STEPS` or `PATH=v1,v2,...`).
    SweepSpec { raw: String },
    /// The directory results are written to.
    OutputDir(PathBuf),
}

/// How a diagnostic mentions its origin: as the subject (`ORIGIN: message`)
/// or as the cause of a field's value (`message (set by ORIGIN)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    Subject,
    SetBy,
}

/// What the user can do about a diagnostic, where the command line would
/// name a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// A directory tiersim did not create: name another, or write anyway.
    Force,
    /// Exact mode above its volume limit: use fast mode or lower the volume.
    FastModeOrLowerVolume,
    /// Evaluation tasks without a task kind: map them.
    MapTaskKinds,
    /// A malformed log line is skipped; strict reading stops at the first.
    Strict,
    /// Two different outcomes for one evaluation item and model: combine them.
    CombineDuplicates,
}

impl Remedy {
    /// Whether the remedy is said before the message (`REMEDY; message`)
    /// rather than after it.
    pub fn leads(self) -> bool {
        self == Remedy::MapTaskKinds
    }
}

/// Names origins and remedies when an error is shown. The library's own
/// names are words ([`Words`]); the command line names its flags.
pub trait OriginNames {
    fn name(&self, origin: &Origin) -> String;
    /// The remedy's text, with its separator from the message (`; `, ` (`).
    fn remedy(&self, remedy: Remedy) -> String;
}

/// The library's names for origins.
pub struct Words;

impl OriginNames for Words {
    fn name(&self, origin: &Origin) -> String {
        match origin {
            Origin::Override { raw } => format!("override `{raw}`"),
            Origin::Sweep { path, value } => format!("sweep of `{path}` at {value}"),
            Origin::SweepSpec { raw } => format!("sweep `{raw}`"),
            Origin::OutputDir(p) => format!("output directory {}", p.display()),
        }
    }

    fn remedy(&self, remedy: Remedy) -> String {
        match remedy {
            Remedy::Force => ", or allow writing into it anyway".into(),
            Remedy::FastModeOrLowerVolume => {
                "; use the fast mode, or lower volume.requests_per_month".into()
            }
            Remedy::MapTaskKinds => "map every evaluation task to a task kind".into(),
            Remedy::Strict => " (strict reading stops at the first malformed line)".into(),
            Remedy::CombineDuplicates => "; keep one, or combine duplicates by their mean".into(),
        }
    }
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
    /// Where the value came from, when not from `file`.
    pub origin: Option<(Origin, Blame)>,
    /// What the user can do, where that names a setting.
    pub remedy: Option<Remedy>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            location: None,
            path: None,
            message: message.into(),
            origin: None,
            remedy: None,
        }
    }

    /// Adds what the user can do.
    pub fn with_remedy(mut self, remedy: Remedy) -> Self {
        self.remedy = Some(remedy);
        self
    }

    /// The diagnostic is about `origin` (`ORIGIN: message`).
    pub fn about(mut self, origin: Origin) -> Self {
        self.origin = Some((origin, Blame::Subject));
        self
    }

    /// Shows the diagnostic naming its origin through `names`.
    pub fn display_with<'a>(&'a self, names: &'a dyn OriginNames) -> impl fmt::Display + 'a {
        Shown { d: self, names }
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
        self.display_with(&Words).fmt(f)
    }
}

struct Shown<'a> {
    d: &'a Diagnostic,
    names: &'a dyn OriginNames,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.d;
        let mut wrote_prefix = false;
        if let Some(file) = &d.file {
            write!(f, "{}", file.display())?;
            if let Some((line, col)) = d.location {
                write!(f, ":{line}:{col}")?;
            }
            wrote_prefix = true;
        } else if let Some((line, col)) = d.location {
            write!(f, "line {line} column {col}")?;
            wrote_prefix = true;
        }
        if wrote_prefix {
            f.write_str(": ")?;
        }
        if let Some((origin, Blame::Subject)) = &d.origin {
            write!(f, "{}: ", self.names.name(origin))?;
        }
        if let Some(path) = &d.path {
            write!(f, "{path}: ")?;
        }
        if let Some(r) = d.remedy.filter(|r| r.leads()) {
            write!(f, "{}; ", self.names.remedy(r))?;
        }
        f.write_str(&readable_numbers(&d.message))?;
        if let Some(r) = d.remedy.filter(|r| !r.leads()) {
            f.write_str(&self.names.remedy(r))?;
        }
        if let Some((origin, Blame::SetBy)) = &d.origin {
            write!(f, " (set by {})", self.names.name(origin))?;
        }
        Ok(())
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

/// The error type of the library.
#[derive(Debug, Clone)]
pub struct Error {
    pub phase: Phase,
    pub diagnostics: Vec<Diagnostic>,
    source: Option<Arc<std::io::Error>>,
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.phase == other.phase && self.diagnostics == other.diagnostics
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn of(phase: Phase, message: impl Into<String>) -> Self {
        Error {
            phase,
            diagnostics: vec![Diagnostic::new(message)],
            source: None,
        }
    }

    /// Input tiersim cannot use.
    pub fn input(message: impl Into<String>) -> Self {
        Error::of(Phase::Load, message)
    }

    /// A run that would exceed a size limit.
    pub fn limit(message: impl Into<String>) -> Self {
        Error::of(Phase::Limit, message)
    }

    /// A run that would exceed a size limit, with what the user can do.
    pub fn limit_of(d: Diagnostic) -> Self {
        Error {
            phase: Phase::Limit,
            diagnostics: vec![d],
            source: None,
        }
    }

    /// Writing `what` failed with `source`.
    pub fn write(what: impl fmt::Display, source: std::io::Error) -> Self {
        let mut e = Error::of(Phase::Write, format!("cannot write {what}: {source}"));
        e.source = Some(Arc::new(source));
        e
    }

    /// Writing failed for a reason that is not an I/O error (encoding a
    /// chart, rendering a template).
    pub fn write_failed(message: impl Into<String>) -> Self {
        Error::of(Phase::Write, message)
    }

    /// Anything else.
    pub fn failure(message: impl Into<String>) -> Self {
        Error::of(Phase::Internal, message)
    }

    /// Bad input in `path`, at a line (column 1) where there is one.
    pub fn in_file_at(path: &std::path::Path, line: Option<usize>, msg: impl Into<String>) -> Self {
        let mut d = Diagnostic::new(msg).in_file(path);
        if let Some(l) = line {
            d = d.at(l, 1);
        }
        Error::from(d)
    }

    pub fn from_diagnostics(diagnostics: Vec<Diagnostic>) -> Self {
        Error {
            phase: Phase::Load,
            diagnostics,
            source: None,
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

    /// Makes every diagnostic about `origin`.
    pub fn about(mut self, origin: Origin) -> Self {
        for d in &mut self.diagnostics {
            d.origin = Some((origin.clone(), Blame::Subject));
        }
        self
    }

    /// 2 for input the user can fix (a file, a value, a run too large),
    /// 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self.phase {
            Phase::Load | Phase::Limit => 2,
            Phase::Write | Phase::Internal => 1,
        }
    }

    /// Shows the error naming origins through `names`, one `error: ` line
    /// per diagnostic.
    pub fn display_with<'a>(&'a self, names: &'a dyn OriginNames) -> impl fmt::Display + 'a {
        ShownError { e: self, names }
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::from_diagnostics(vec![d])
    }
}

struct ShownError<'a> {
    e: &'a Error,
    names: &'a dyn OriginNames,
}

impl fmt::Display for ShownError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.e.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {}", d.display_with(self.names))?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with(&Words).fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

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
