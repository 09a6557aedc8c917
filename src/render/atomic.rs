//! Writing files safely: every output goes to a temporary file in the same
//! directory and is renamed into place, so a reader never sees half a file
//! and an interrupted run leaves the old file (or none) behind.
//!
//! Interruption: [`abandon_partial_files`] removes the temporary files being
//! written and stops any further rename, for the command line's Ctrl-C
//! handler. The registry of temporary files is locked while a file is
//! renamed into place and while it is abandoned, so a file is either whole
//! under its name or not there.

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
    let fail = |e: std::io::Error| Error::write(path.display(), e);
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

/// What [`abandon_partial_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    /// Temporary files removed.
    pub removed: Vec<PathBuf>,
    /// Files written completely before.
    pub completed: usize,
}

/// Removes every temporary file being written and returns, with the lock
/// held for ever after: no file is renamed into place once this returns,
/// so the process can exit leaving whole files only. For a signal handler
/// (the command line's Ctrl-C); the library installs none.
pub fn abandon_partial_files() -> Abandoned {
    let reg = in_flight();
    let mut removed = Vec::new();
    for t in &reg.temporary {
        if std::fs::remove_file(t).is_ok() {
            removed.push(t.clone());
        }
    }
    let completed = reg.completed;
    // Held until exit: leaking the guard keeps every writer waiting.
    std::mem::forget(reg);
    Abandoned { removed, completed }
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
