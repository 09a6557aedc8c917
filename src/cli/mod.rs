//! The command line: parse flags ([`args`]), turn them into a validated
//! [`plan::Plan`], run it. `main.rs` only calls [`main`].

mod analyses;
pub mod args;
mod commands;
mod interrupt;
mod outputs;
pub mod plan;
mod progress;
mod serve;
pub mod style;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use tiersim::error::{Error, Origin, OriginNames, Remedy};

/// Runs the command line and returns the process exit code: 0 on success,
/// 2 for bad input (flags, files, values), 1 for other failures.
pub fn main() -> ExitCode {
    interrupt::on_interrupt_remove_partial_files();
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = plan::plan(cli).and_then(commands::execute);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// The command line's names for where a value came from: its flags.
struct Flags;

impl OriginNames for Flags {
    fn name(&self, origin: &Origin) -> String {
        match origin {
            Origin::Override { raw } => format!("--set {raw}"),
            Origin::Sweep { path, value } => format!("--vary {path} at {value}"),
            Origin::SweepSpec { raw } => format!("--vary {raw}"),
            Origin::OutputDir(p) => format!("--out {}", p.display()),
        }
    }

    fn remedy(&self, remedy: Remedy) -> String {
        match remedy {
            Remedy::Force => ", or pass --force to write into it anyway".into(),
            Remedy::FastModeOrLowerVolume => {
                "; use the default fast mode, or lower the volume with --set volume.requests_per_month=...".into()
            }
            Remedy::MapTaskKinds => {
                "map every evaluation task to a task kind with --task-kind PATTERN=KIND (or --task-kind KIND for all)".into()
            }
            Remedy::Strict => " (--strict stops at the first malformed line)".into(),
            Remedy::CombineDuplicates => {
                "; keep one, or combine duplicates by their mean with --duplicates mean".into()
            }
        }
    }
}

fn report(e: &Error) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let prefix = style::error_prefix(style::stderr_enabled());
    let text = e.display_with(&Flags).to_string();
    for line in text.lines() {
        let _ = match line.strip_prefix("error:") {
            Some(rest) => writeln!(err, "{prefix}{rest}"),
            None => writeln!(err, "{line}"),
        };
    }
    ExitCode::from(e.exit_code())
}
