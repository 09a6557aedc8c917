//! CSV as tiersim writes it: through the csv crate, a field quoted only when
//! it must be (a comma, a quote or a line break in it), lines ended by `\n`.

/// Rows of CSV text being written.
pub struct Rows {
    w: csv::Writer<Vec<u8>>,
}

impl Default for Rows {
    fn default() -> Self {
        Rows::new()
    }
}

impl Rows {
    pub fn new() -> Rows {
        Rows {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .flexible(true)
                .from_writer(Vec::new()),
        }
    }

    /// Appends one row.
    pub fn row<I, S>(&mut self, fields: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // Writing to memory with rows of any length (`flexible`) has no
        // way to fail: the csv crate's only errors are I/O and unequal rows.
        self.w
            .write_record(fields)
            .expect("a CSV row written to memory");
    }

    /// The text written.
    pub fn finish(self) -> String {
        let bytes = self
            .w
            .into_inner()
            .expect("a CSV writer over memory flushes");
        String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_quoting() {
        let mut r = Rows::new();
        r.row(["plain", "a,b", "say \"hi\"", "", "two\nlines"]);
        r.row(["x"]);
        assert_eq!(
            r.finish(),
            "plain,\"a,b\",\"say \"\"hi\"\"\",,\"two\nlines\"\nx\n"
        );
    }
}
