//! Gzip, transparently: files that start with gzip's magic bytes are
//! decompressed as they are read (every member, as `gzip -d` does), so a
//! user can point tiersim at what S3 delivered without unpacking it.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The first two bytes of every gzip member.
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` begin a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Decompresses `bytes` (a whole gzip file), reading at most `limit` bytes
/// of output: `Ok(None)` when it would decompress to more.
pub fn decompress_bounded(bytes: &[u8], limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut out)?;
    Ok((out.len() as u64 <= limit).then_some(out))
}

/// A buffered reader of the file's content: decompressed on the fly when
/// the file is gzip, as is otherwise. Memory stays constant in the file's
/// size.
pub fn open(path: &Path) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut file = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let gz = is_gzip(file.fill_buf()?);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    })
}

/// A decoder's error in words: a stream cut short says so.
pub fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            "the gzip data is cut short (the file ends inside a compressed stream); the file is incomplete: copy it again".to_string()
        }
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            format!("is not valid gzip data ({e}); the file is damaged: copy it again")
        }
        _ => super::describe_io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decompresses_every_member_within_the_bound() {
        let mut two = gz(b"first\n");
        two.extend(gz(b"second\n"));
        assert!(is_gzip(&two));
        assert_eq!(
            decompress_bounded(&two, 100).unwrap().unwrap(),
            b"first\nsecond\n"
        );
        assert_eq!(decompress_bounded(&two, 12).unwrap(), None);
        let cut = &two[..two.len() - 5];
        let e = decompress_bounded(cut, 100).unwrap_err();
        assert!(
            describe(&e).starts_with("the gzip data is cut short"),
            "{e}"
        );
    }
}
