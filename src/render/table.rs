//! A plain text table: header, rows, columns padded to fit.

/// Column alignment.
#[derive(Clone, Copy)]
pub enum Align {
    Left,
    Right,
}

/// A plain text table: header, rows, columns padded to fit.
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(cols: &[(&str, Align)]) -> Table {
        Table {
            header: cols.iter().map(|(h, _)| h.to_string()).collect(),
            align: cols.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self, out: &mut String) {
        let n = self.header.len();
        let mut width = vec![0; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |out: &mut String, cells: &Vec<String>| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = width[i] - c.chars().count();
                match self.align[i] {
                    Align::Left => {
                        s.push_str(c);
                        if i + 1 < n {
                            s.push_str(&" ".repeat(pad));
                        }
                    }
                    Align::Right => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(out, &self.header);
        let total: usize = width.iter().sum::<usize>() + 2 * (n - 1);
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in &self.rows {
            line(out, r);
        }
    }
}

/// Appends `prefix` + `text`, wrapped at `width` columns with a hanging indent.
pub fn wrap_into(out: &mut String, prefix: &str, text: &str, width: usize) {
    let indent = " ".repeat(prefix.chars().count().min(8));
    let mut line = prefix.to_string();
    let mut first = true;
    for word in text.split(' ') {
        let len = line.chars().count();
        if len + word.len() + 1 > width && !first {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.clone();
        }
        if !(line.ends_with(' ') || line.is_empty() || line == indent) {
            line.push(' ');
        }
        line.push_str(word);
        first = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}
