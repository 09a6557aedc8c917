//! Reading what the user gives tiersim: YAML documents (with limits and
//! located errors) and small helpers shared by every loader.

pub mod gzip;
pub mod yaml;

use std::path::Path;

use crate::error::{Diagnostic, Error, Result};

/// A kind of file tiersim reads, and how much of one it will read.
#[derive(Debug, Clone, Copy)]
pub struct FileKind {
    /// What a directory is not: "a YAML file", "a log file".
    pub noun: &'static str,
    /// What the limit is about: "YAML files", "logs".
    pub plural: &'static str,
    pub max_bytes: u64,
}

/// Scenarios, catalogs and quality profiles. Real ones are a few kilobytes;
/// anything this large is a mistake, and refusing it early keeps memory
/// bounded.
pub const YAML_FILE: FileKind = FileKind {
    noun: "a YAML file",
    plural: "YAML files",
    max_bytes: 4 * 1024 * 1024,
};

/// Reads a whole file the user named, refusing directories and files over
/// `kind`'s limit with a message that names the file and the limit. The
/// size in the metadata is checked before reading, and the read itself is
/// bounded too (devices and pipes report a size of 0). A gzipped file is
/// decompressed, its content held to the same limit.
pub fn read_file(path: &Path, kind: &FileKind) -> Result<Vec<u8>> {
    let bytes = read_file_as_is(path, kind)?;
    if !gzip::is_gzip(&bytes) {
        return Ok(bytes);
    }
    let fail = |msg: String| Error::from(Diagnostic::new(msg).in_file(path));
    gzip::decompress_bounded(&bytes, kind.max_bytes)
        .map_err(|e| fail(gzip::describe(&e)))?
        .ok_or_else(|| {
            fail(format!(
                "decompresses to more than {} bytes; {} may be at most {} bytes ({})",
                kind.max_bytes,
                kind.plural,
                kind.max_bytes,
                binary_size(kind.max_bytes)
            ))
        })
}

/// [`read_file`] without decompressing.
fn read_file_as_is(path: &Path, kind: &FileKind) -> Result<Vec<u8>> {
    let fail = |msg: String| Error::from(Diagnostic::new(msg).in_file(path));
    let meta = std::fs::metadata(path).map_err(|e| fail(describe_io(&e)))?;
    if meta.is_dir() {
        return Err(fail(format!("is a directory; expected {}", kind.noun)));
    }
    let limit = format!(
        "{} may be at most {} bytes ({})",
        kind.plural,
        kind.max_bytes,
        binary_size(kind.max_bytes)
    );
    if meta.len() > kind.max_bytes {
        return Err(fail(format!("file is {} bytes; {limit}", meta.len())));
    }
    read_bounded(path, kind.max_bytes)
        .map_err(|e| fail(describe_io(&e)))?
        .ok_or_else(|| fail(format!("holds more than {} bytes; {limit}", kind.max_bytes)))
}

/// An I/O error in words ("no such file"), without the OS error number
/// where a plainer phrase exists.
pub fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot read: {e}"),
    }
}

/// A JSON parser error in words: without the " at line L column C" that
/// serde_json appends (a diagnostic reports the place in its own way), and
/// with its nesting limit stated.
pub fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg.as_str(),
    };
    msg.replace(
        "recursion limit exceeded",
        "nested more than 128 levels deep",
    )
}

/// 4194304 -> "4 MiB"; sizes that are not a whole number of KiB stay in bytes.
fn binary_size(n: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

/// The closest candidate to `word` by Levenshtein distance (over chars), if it is close enough to
/// be a likely typo ("did you mean ...?").
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Reads at most `limit` bytes of a file; `Ok(None)` when it holds more.
/// The size in the file's metadata is checked first, but devices and pipes
/// report 0, so the read itself is bounded too (`/dev/zero` is refused,
/// not read forever).
pub fn read_bounded(path: &std::path::Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Whether `name` matches `pattern` (`*` matches any run of characters).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(binary_size(4 * 1024 * 1024), "4 MiB");
        assert_eq!(binary_size(1 << 30), "1 GiB");
        assert_eq!(binary_size(1536), "1536 bytes");
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            suggest("nova-prp", ["nova-pro", "nova-lite"]),
            Some("nova-pro")
        );
        assert_eq!(suggest("gpt-4", ["nova-pro", "nova-lite"]), None);
    }
}
