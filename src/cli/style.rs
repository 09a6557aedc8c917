//! Colour on the terminal, decided once per stream from `--color` and
//! `NO_COLOR` (https://no-color.org): `auto` colours a stream only when it
//! is a terminal, NO_COLOR is unset or empty, and TERM is not `dumb`;
//! `always` and `never` override both.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Always,
    Never,
}

static STDOUT: AtomicBool = AtomicBool::new(false);
static STDERR: AtomicBool = AtomicBool::new(false);

/// Whether `auto` colours a stream that is (or is not) a terminal.
pub fn auto_enabled(is_terminal: bool, no_color: Option<&str>, term: Option<&str>) -> bool {
    is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb")
}

pub fn init(choice: Choice) {
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    let decide = |is_terminal: bool| match choice {
        Choice::Always => true,
        Choice::Never => false,
        Choice::Auto => auto_enabled(is_terminal, no_color.as_deref(), term.as_deref()),
    };
    STDOUT.store(decide(std::io::stdout().is_terminal()), Ordering::Relaxed);
    STDERR.store(decide(std::io::stderr().is_terminal()), Ordering::Relaxed);
}

pub fn stdout_enabled() -> bool {
    STDOUT.load(Ordering::Relaxed)
}

pub fn stderr_enabled() -> bool {
    STDERR.load(Ordering::Relaxed)
}

/// `text` in bold red when `on` (for `error:`).
pub fn error_prefix(on: bool) -> &'static str {
    if on {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_the_terminal_and_no_color() {
        assert!(auto_enabled(true, None, Some("xterm-256color")));
        assert!(!auto_enabled(false, None, None));
        assert!(!auto_enabled(true, Some("1"), None));
        // An empty NO_COLOR does not disable colour (no-color.org).
        assert!(auto_enabled(true, Some(""), None));
        assert!(!auto_enabled(true, None, Some("dumb")));
    }
}
