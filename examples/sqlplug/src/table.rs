//! Rows as a table for people: a header, a rule, a line per row, numbers
//! aligned right; NULL as `NULL`, blobs as the start of their hex, and
//! control characters (a plugin's result may hold any) escaped.

use std::fmt;

use rusqlite::types::ValueRef;
use rusqlite::{Rows, Statement};

/// Cells wider than this are cut, with an ellipsis.
const MAX_WIDTH: usize = 60;

/// The result of a query, ready to print.
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

struct Cell {
    text: String,
    numeric: bool,
}

impl Table {
    /// Runs `statement` and collects every row.
    pub fn query(statement: &mut Statement<'_>) -> rusqlite::Result<Table> {
        let columns: Vec<String> = statement.column_names().map(|c| c.to_string()).collect();
        let count = columns.len();
        let mut rows = Vec::new();
        let mut cursor: Rows<'_> = statement.query([])?;
        while let Some(row) = cursor.next()? {
            rows.push(
                (0..count)
                    .map(|i| row.get_ref(i).map(cell))
                    .collect::<rusqlite::Result<Vec<Cell>>>()?,
            );
        }
        Ok(Table { columns, rows })
    }

    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

fn cell(value: ValueRef<'_>) -> Cell {
    let (text, numeric) = match value {
        ValueRef::Null => ("NULL".to_string(), false),
        ValueRef::Integer(n) => (n.to_string(), true),
        ValueRef::Real(x) => (x.to_string(), true),
        ValueRef::Text(bytes) => (
            wasmplug::escape_control(&String::from_utf8_lossy(bytes)).into_owned(),
            false,
        ),
        ValueRef::Blob(bytes) => {
            let hex: String = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let more = if bytes.len() > 16 { "…" } else { "" };
            (format!("x'{hex}{more}'"), false)
        }
    };
    Cell {
        text: cut(text),
        numeric,
    }
}

fn cut(text: String) -> String {
    if text.chars().count() <= MAX_WIDTH {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_WIDTH - 1).collect();
    cut.push('…');
    cut
}

fn width(text: &str) -> usize {
    text.chars().count()
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width(c)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell.text));
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: Vec<(&str, bool)>| -> fmt::Result {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|((text, numeric), w)| {
                    let pad = " ".repeat(w - width(text));
                    if *numeric {
                        format!(" {pad}{text} ")
                    } else {
                        format!(" {text}{pad} ")
                    }
                })
                .collect();
            writeln!(f, "{}", parts.join("|").trim_end())
        };
        line(
            f,
            self.columns.iter().map(|c| (c.as_str(), false)).collect(),
        )?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
        writeln!(f, "{}", rule.join("+"))?;
        for row in &self.rows {
            line(
                f,
                row.iter().map(|c| (c.text.as_str(), c.numeric)).collect(),
            )?;
        }
        let plural = if self.rows.len() == 1 { "" } else { "s" };
        write!(f, "({} row{plural})", self.rows.len())
    }
}
