//! Writing files safely: every output goes to a temporary file in the same
//! directory and is renamed into place, so a reader never sees half a file
//! and an interrupted run leaves the old file (or none) behind.
//!
//! Ctrl-C: [`on_interrupt_remove_partial_files`] starts a thread that waits
//! for SIGINT/SIGTERM, removes the temporary file being written (if any),
//! says what happened and exits with 130. The registry of temporary files
//! is locked while a file is renamed into place and while the handler
//! cleans up, so a file is either whole under its name or not there.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Temporary files being written, and how many files were completed.
struct InFlight {
    temporary: Vec<PathBuf>,
    completed: usize,
}

static IN_FLIGHT: Mutex<InFlight> = Mutex::new(InFlight {
    temporary: Vec::new(),
    completed: 0,
});

fn in_flight() -> std::sync::MutexGuard<'static, InFlight> {
    // A panic while holding the lock cannot leave the list inconsistent
    // (pushes and removals are single operations), so poison is ignored.
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::input(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let fail = |e: std::io::Error| Error::failure(format!("cannot write {}: {e}", path.display()));
    in_flight().temporary.push(tmp.clone());
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        test_hook_slow_write();
        Ok::<(), std::io::Error>(())
    })();
    let mut reg = in_flight();
    reg.temporary.retain(|t| t != &tmp);
    let result = written.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    reg.completed += 1;
    Ok(())
}

/// Tests only: `TIERSIM_TEST_SLOW_WRITE_MS` holds every file in its
/// temporary state for that long, so a test can interrupt a write.
fn test_hook_slow_write() {
    if let Some(ms) = std::env::var("TIERSIM_TEST_SLOW_WRITE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(60_000)));
    }
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handler of the command line.
pub fn on_interrupt_remove_partial_files() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        // Without a handler the default applies: the process stops, and
        // temporary files may be left (never a half-written result file).
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            // Held until exit: no rename can happen after this point.
            let reg = in_flight();
            let mut removed = Vec::new();
            for t in &reg.temporary {
                if std::fs::remove_file(t).is_ok() {
                    removed.push(t.display().to_string());
                }
            }
            let mut msg = String::from("interrupted: ");
            if removed.is_empty() {
                msg.push_str("no file was being written");
            } else {
                msg.push_str(&format!(
                    "removed the partly written {}",
                    removed.join(", ")
                ));
            }
            if reg.completed > 0 {
                msg.push_str(&format!(
                    "; the {} file(s) written before are complete",
                    reg.completed
                ));
            }
            msg.push_str("; nothing half-written is left");
            eprintln!("{msg}");
            std::process::exit(130);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temporary() {
        let d = std::env::temp_dir().join(format!("tiersim-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("a.txt");
        write_atomic(&f, b"first").unwrap();
        write_atomic(&f, b"second").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.txt")]);
        // Other tests write files in parallel: only this directory's
        // temporary files must be gone from the registry.
        assert!(!in_flight().temporary.iter().any(|t| t.starts_with(&d)));
    }
}
