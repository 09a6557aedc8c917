//! Which files a log is: one file, or every log file under a folder as
//! `aws s3 sync` leaves Bedrock's delivery
//! (`AWSLogs/<account>/BedrockModelInvocationLogs/<region>/<yyyy>/<mm>/<dd>/<hh>/*.json.gz`),
//! several days and regions at once. Files are read in path order, so the
//! same folder gives the same result on every machine.

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Result};
use crate::logs::LogFormat;

/// Most files one log may span (a year of hourly files in 40 regions).
pub const MAX_FILES: usize = 400_000;

/// Name endings of log files, by format (compressed or not).
fn endings(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::BedrockInvocationLog => &[".json", ".jsonl", ".json.gz", ".jsonl.gz"],
        LogFormat::Csv => &[".csv", ".csv.gz"],
        LogFormat::AthenaAggregate => &[".csv"],
    }
}

/// The files to read for `path`: itself if it is a file, else every log
/// file under it (hidden entries and Bedrock's `data/` folders of large
/// request bodies left out), sorted by path.
pub fn log_files(path: &Path, format: LogFormat) -> Result<Vec<PathBuf>> {
    let fail = |msg: String| Error::from(Diagnostic::new(msg).in_file(path));
    let meta = std::fs::metadata(path).map_err(|e| fail(crate::input::describe_io(&e)))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !meta.is_dir() {
        return Err(fail(
            "is not a regular file (a device or a pipe); give a log file or a folder of them"
                .into(),
        ));
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            Error::from(Diagnostic::new(crate::input::describe_io(&e)).in_file(&dir))
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                Error::from(Diagnostic::new(crate::input::describe_io(&e)).in_file(&dir))
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let p = entry.path();
            let ty = entry.file_type().map_err(|e| {
                Error::from(Diagnostic::new(crate::input::describe_io(&e)).in_file(&p))
            })?;
            if ty.is_dir() {
                if name != "data" {
                    stack.push(p);
                }
            } else if endings(format).iter().any(|e| name.ends_with(e)) {
                files.push(p);
                if files.len() > MAX_FILES {
                    return Err(fail(format!(
                        "holds more than {MAX_FILES} log files; point at a part of the tree (a region, a month)"
                    )));
                }
            }
        }
    }
    if files.is_empty() {
        return Err(fail(format!(
            "is a directory with no log files in it or below (looked for names ending {})",
            endings(format).join(", ")
        )));
    }
    files.sort();
    Ok(files)
}
