//! Results as files in an output directory (the command line's `--out`):
//! data for notebooks (Parquet and CSV through polars, in [`frames`]), the
//! summary as CSV and JSON, provenance (`run.json`), charts
//! ([`crate::render::chart`]) and the HTML report ([`crate::render::html`]).
//!
//! Why a directory of its own: results get shared and re-read, so writing
//! must never destroy something tiersim did not make. A directory tiersim
//! creates (or finds empty) gets a `.tiersim` marker; a non-empty directory
//! without one is refused unless forced. Every file is written to a
//! temporary name and renamed into place, so an interrupted run leaves
//! whole files only.

pub mod frames;
pub mod provenance;
pub mod summary;

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Origin, Remedy, Result};
use crate::render::atomic::write_atomic;

/// The file that marks a directory as tiersim's.
pub const MARKER: &str = ".tiersim";

/// An output directory tiersim may write into.
#[derive(Debug)]
pub struct OutDir {
    path: PathBuf,
    written: Vec<String>,
}

impl OutDir {
    /// Checks, without writing anything, that [`OutDir::claim`] would take
    /// `path`: the command line checks this before a long simulation, so a
    /// bad output directory fails at once rather than after the run.
    pub fn check(path: &Path, force: bool) -> Result<()> {
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => Err(Error::input(
                "exists and is not a directory; name a new directory",
            )
            .about(Origin::OutputDir(path.to_path_buf()))),
            Ok(_) => {
                let mut entries = std::fs::read_dir(path).map_err(|e| {
                    Error::failure(format!("cannot read the directory: {e}"))
                        .about(Origin::OutputDir(path.to_path_buf()))
                })?;
                let empty = entries.next().is_none();
                let ours = path.join(MARKER).is_file();
                if !empty && !ours && !force {
                    return Err(Error::from(
                        Diagnostic::new(format!(
                            "the directory exists, is not empty and was not created by tiersim (it has no {MARKER} file); name a new directory"
                        ))
                        .about(Origin::OutputDir(path.to_path_buf()))
                        .with_remedy(Remedy::Force),
                    ));
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => {
                Err(Error::failure(e.to_string()).about(Origin::OutputDir(path.to_path_buf())))
            }
        }
    }

    /// Creates `path`, or takes it over if it is empty or tiersim's own;
    /// refuses anything else unless `force`.
    pub fn claim(path: &Path, force: bool) -> Result<OutDir> {
        OutDir::check(path, force)?;
        if !path.is_dir() {
            std::fs::create_dir_all(path).map_err(|e| {
                Error::failure(format!("cannot create the directory: {e}"))
                    .about(Origin::OutputDir(path.to_path_buf()))
            })?;
        }
        write_atomic(
            &path.join(MARKER),
            b"This directory was written by tiersim; tiersim may overwrite the files in it.\n",
        )?;
        Ok(OutDir {
            path: path.to_path_buf(),
            written: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one file (a name inside the directory) atomically.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.path.join(name), bytes)?;
        self.written.push(name.to_string());
        Ok(())
    }

    /// The files written so far, in order.
    pub fn written(&self) -> &[String] {
        &self.written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tiersim-outdir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_new_directory_is_created_and_marked() {
        let d = scratch("new").join("nested");
        let mut out = OutDir::claim(&d, false).unwrap();
        out.write("a.txt", b"x").unwrap();
        assert!(d.join(MARKER).is_file());
        assert_eq!(std::fs::read(d.join("a.txt")).unwrap(), b"x");
        // Ours now: claiming again is fine.
        OutDir::claim(&d, false).unwrap();
    }

    #[test]
    fn a_foreign_directory_is_refused_and_left_alone() {
        let d = scratch("foreign");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("notes.txt"), b"mine").unwrap();
        let e = OutDir::claim(&d, false).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            format!(
                "error: output directory {}: the directory exists, is not empty and was not created by tiersim (it has no .tiersim file); name a new directory, or allow writing into it anyway",
                d.display()
            )
        );
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")]);
        OutDir::claim(&d, true).unwrap();
        assert_eq!(std::fs::read(d.join("notes.txt")).unwrap(), b"mine");
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let d = scratch("file");
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("results");
        std::fs::write(&f, b"").unwrap();
        let e = OutDir::claim(&f, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "error: output directory {}: exists and is not a directory; name a new directory",
                f.display()
            )
        );
    }
}
