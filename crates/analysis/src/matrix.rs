//! [`BarrierMatrix`]: a named, square, model-by-model matrix, and its CSV form.
//!
//! The CSV form is what `lmc cluster --barriers D.csv` reads: a header row whose first cell is any
//! label (often empty) followed by the model names, then one row per model, in the same order, whose
//! first cell is the model's name. Fields may be double-quoted (RFC 4180 style, `""` for a quote inside
//! a quoted field); embedded line breaks are not supported.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, MatrixProblem, Result};
use crate::io::write_atomically;

/// Default tolerance for symmetry and zero-diagonal checks of matrices read from files.
pub const DEFAULT_MATRIX_TOLERANCE: f64 = 1e-9;

/// A square matrix over models: `values[i * n + j]` is the entry of row `names[i]`, column `names[j]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarrierMatrix {
    /// Model names, in row (and column) order.
    pub names: Vec<String>,
    /// Row-major `n × n` entries.
    pub values: Vec<f64>,
}

/// Result of [`BarrierMatrix::triangle_inequality`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriangleCheck {
    /// Unordered triples of distinct models examined.
    pub triples: u64,
    /// Triples where some side exceeds the sum of the other two by more than `tolerance`.
    pub violating: u64,
    /// `violating / triples` (0 when there are no triples).
    pub share: f64,
    /// Largest excess `D[i][k] − D[i][j] − D[j][k]` over all triples (0 if none is positive).
    pub worst_excess: f64,
    /// The tolerance used.
    pub tolerance: f64,
}

impl BarrierMatrix {
    /// A matrix from names and row-major values, checking only the shape and that names are unique.
    /// Use [`BarrierMatrix::validate`] to check it is a proper barrier matrix.
    ///
    /// # Errors
    /// [`AnalysisError::Matrix`] (labelled `origin`) when there are no names, the value count is not
    /// `n²`, or a name repeats.
    pub fn new(names: Vec<String>, values: Vec<f64>, origin: &str) -> Result<Self> {
        let problem = |problem| AnalysisError::Matrix {
            origin: origin.to_owned(),
            problem,
        };
        let n = names.len();
        if n == 0 {
            return Err(problem(MatrixProblem::Empty));
        }
        if values.len() != n * n {
            return Err(problem(MatrixProblem::WrongSize {
                names: n,
                expected: n * n,
                found: values.len(),
            }));
        }
        let mut seen = HashSet::with_capacity(n);
        for name in &names {
            if !seen.insert(name.as_str()) {
                return Err(problem(MatrixProblem::DuplicateName(name.clone())));
            }
        }
        Ok(Self { names, values })
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: a `BarrierMatrix` has at least one model.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Entry `(i, j)`.
    ///
    /// # Panics
    /// If `i` or `j` is out of range.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let n = self.len();
        assert!(
            i < n && j < n,
            "index ({i}, {j}) out of range for {n} models"
        );
        self.values[i * n + j]
    }

    /// Index of a model by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Checks that the matrix is a barrier (dissimilarity) matrix: every entry finite and
    /// non-negative, diagonal within `tolerance` of 0, and `|D[i][j] − D[j][i]| ≤ tolerance`.
    ///
    /// # Errors
    /// [`AnalysisError::Matrix`] labelled `origin`, naming the first offending row and column.
    pub fn validate(&self, tolerance: f64, origin: &str) -> Result<()> {
        let n = self.len();
        let problem = |problem| AnalysisError::Matrix {
            origin: origin.to_owned(),
            problem,
        };
        for i in 0..n {
            for j in 0..n {
                let value = self.get(i, j);
                let (row, column) = (self.names[i].clone(), self.names[j].clone());
                if !value.is_finite() {
                    return Err(problem(MatrixProblem::NonFinite { row, column, value }));
                }
                if value < 0.0 {
                    return Err(problem(MatrixProblem::Negative { row, column, value }));
                }
            }
        }
        for i in 0..n {
            let value = self.get(i, i);
            if value.abs() > tolerance {
                return Err(problem(MatrixProblem::NonZeroDiagonal {
                    model: self.names[i].clone(),
                    value,
                }));
            }
            for j in i + 1..n {
                let (upper, lower) = (self.get(i, j), self.get(j, i));
                if (upper - lower).abs() > tolerance {
                    return Err(problem(MatrixProblem::Asymmetric {
                        row: self.names[i].clone(),
                        column: self.names[j].clone(),
                        upper,
                        lower,
                    }));
                }
            }
        }
        Ok(())
    }

    /// The matrix restricted and reordered to `order` (indices into this matrix).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn permuted(&self, order: &[usize]) -> Self {
        let names = order.iter().map(|&i| self.names[i].clone()).collect();
        let values = order
            .iter()
            .flat_map(|&i| order.iter().map(move |&j| self.get(i, j)))
            .collect();
        Self { names, values }
    }

    /// The share of unordered triples `{i, j, k}` for which `D` violates the triangle inequality
    /// (some side longer than the sum of the other two plus `tolerance`). Barrier metrics are not
    /// distances, so violations are expected; the paper's code reports this share. O(n³).
    pub fn triangle_inequality(&self, tolerance: f64) -> TriangleCheck {
        let n = self.len();
        let (mut triples, mut violating, mut worst_excess) = (0_u64, 0_u64, 0.0_f64);
        for i in 0..n {
            for j in i + 1..n {
                let dij = self.get(i, j);
                for k in j + 1..n {
                    let (dik, djk) = (self.get(i, k), self.get(j, k));
                    let excess = (dij - dik - djk).max(dik - dij - djk).max(djk - dij - dik);
                    triples += 1;
                    worst_excess = worst_excess.max(excess);
                    if excess > tolerance {
                        violating += 1;
                    }
                }
            }
        }
        let share = if triples == 0 {
            0.0
        } else {
            violating as f64 / triples as f64
        };
        TriangleCheck {
            triples,
            violating,
            share,
            worst_excess,
            tolerance,
        }
    }

    /// Reads and validates a barrier CSV (see the module docs for the layout), with symmetry and
    /// diagonal tolerance [`DEFAULT_MATRIX_TOLERANCE`].
    ///
    /// # Errors
    /// [`AnalysisError::Io`] if the file cannot be read; [`AnalysisError::Csv`] naming the line for
    /// a malformed layout (ragged rows, a row name that differs from the header, an unparsable
    /// number); [`AnalysisError::Matrix`] naming row and column for a non-finite, negative, asymmetric
    /// or non-zero-diagonal entry.
    pub fn read_csv(path: &Path) -> Result<Self> {
        Self::read_csv_with_tolerance(path, DEFAULT_MATRIX_TOLERANCE)
    }

    /// [`BarrierMatrix::read_csv`] with an explicit tolerance.
    ///
    /// # Errors
    /// As [`BarrierMatrix::read_csv`].
    pub fn read_csv_with_tolerance(path: &Path, tolerance: f64) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| AnalysisError::Io {
            path: path.to_owned(),
            source,
        })?;
        let matrix = Self::parse_csv(&text, path)?;
        matrix.validate(tolerance, &path.display().to_string())?;
        Ok(matrix)
    }

    /// Parses the CSV layout without the value checks of [`BarrierMatrix::validate`]; `path` is used
    /// only in error messages.
    ///
    /// # Errors
    /// [`AnalysisError::Csv`] for layout problems, [`AnalysisError::Matrix`] for repeated names.
    pub fn parse_csv(text: &str, path: &Path) -> Result<Self> {
        let csv_error = |line: usize, message: String| AnalysisError::Csv {
            path: path.to_owned(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line.trim_end_matches('\r')))
            .filter(|(_, line)| !line.trim().is_empty());
        let (header_line, header) = lines
            .next()
            .ok_or_else(|| csv_error(1, "the file is empty".to_owned()))?;
        let header = split_csv_line(header).map_err(|m| csv_error(header_line, m))?;
        let names: Vec<String> = header[1..].to_vec();
        let n = names.len();
        if n == 0 {
            return Err(csv_error(
                header_line,
                "the header names no models (expected a first cell, then one cell per model)"
                    .to_owned(),
            ));
        }
        if let Some(index) = names.iter().position(|name| name.is_empty()) {
            return Err(csv_error(
                header_line,
                format!("column {} of the header has no model name", index + 1),
            ));
        }
        let mut values = Vec::with_capacity(n * n);
        let mut rows = 0;
        for (line_number, line) in lines {
            let cells = split_csv_line(line).map_err(|m| csv_error(line_number, m))?;
            if rows == n {
                return Err(csv_error(
                    line_number,
                    format!("more rows than the {n} models in the header"),
                ));
            }
            if cells.len() != n + 1 {
                return Err(csv_error(
                    line_number,
                    format!(
                        "row `{}` has {} cells, expected {} (its name and {n} values)",
                        cells[0],
                        cells.len(),
                        n + 1
                    ),
                ));
            }
            if cells[0] != names[rows] {
                return Err(csv_error(
                    line_number,
                    format!(
                        "row {} is named `{}` but column {} of the header is `{}`: rows must follow the header's order",
                        rows + 1,
                        cells[0],
                        rows + 1,
                        names[rows]
                    ),
                ));
            }
            for (column, cell) in names.iter().zip(&cells[1..]) {
                let value: f64 = cell.trim().parse().map_err(|_| {
                    csv_error(
                        line_number,
                        format!(
                            "row `{}`, column `{column}`: `{cell}` is not a number",
                            cells[0]
                        ),
                    )
                })?;
                values.push(value);
            }
            rows += 1;
        }
        if rows != n {
            return Err(csv_error(
                text.lines().count(),
                format!("{rows} rows for the {n} models in the header: the matrix must be square"),
            ));
        }
        Self::new(names, values, &path.display().to_string())
    }

    /// The CSV form: header `,name…` then one row per model. Numbers use Rust's shortest exact
    /// representation, so a write/read round trip is lossless.
    pub fn to_csv_string(&self) -> String {
        let mut out = String::new();
        for name in &self.names {
            out.push(',');
            out.push_str(&quote_csv(name));
        }
        out.push('\n');
        for (i, name) in self.names.iter().enumerate() {
            out.push_str(&quote_csv(name));
            for j in 0..self.len() {
                let _ = write!(out, ",{}", self.get(i, j));
            }
            out.push('\n');
        }
        out
    }

    /// Writes [`BarrierMatrix::to_csv_string`] to `path` atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`AnalysisError::Io`].
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        write_atomically(path, self.to_csv_string().as_bytes())
    }
}

/// Splits one CSV line into cells, honouring double quotes.
pub(crate) fn split_csv_line(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => in_quotes = false,
            ('"', false) if cell.trim().is_empty() && !was_quoted => {
                cell.clear();
                in_quotes = true;
                was_quoted = true;
            }
            (',', false) => {
                cells.push(finish_cell(&mut cell, was_quoted));
                was_quoted = false;
            }
            _ => cell.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quoted field".to_owned());
    }
    cells.push(finish_cell(&mut cell, was_quoted));
    Ok(cells)
}

fn finish_cell(cell: &mut String, was_quoted: bool) -> String {
    let text = std::mem::take(cell);
    if was_quoted {
        text
    } else {
        text.trim().to_owned()
    }
}

/// Quotes a CSV field when it holds a comma, a quote or surrounding whitespace.
pub(crate) fn quote_csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.trim() != field {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_with_awkward_names() {
        let m = BarrierMatrix::new(
            vec!["a,b".into(), "q\"x".into(), " s ".into()],
            vec![0.0, 0.1, 0.2, 0.1, 0.0, 1.0 / 3.0, 0.2, 1.0 / 3.0, 0.0],
            "test",
        )
        .unwrap();
        let back = BarrierMatrix::parse_csv(&m.to_csv_string(), Path::new("x.csv")).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn triangle_check_counts_violations() {
        let m = BarrierMatrix::new(
            vec!["a".into(), "b".into(), "c".into()],
            vec![0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0],
            "test",
        )
        .unwrap();
        let check = m.triangle_inequality(1e-9);
        assert_eq!((check.triples, check.violating), (1, 1));
        assert!((check.worst_excess - 1.0).abs() < 1e-15);
    }
}
