//! Tab-separated files as GLUE, HANS, PAWS and SNLI publish them.
//!
//! Fields are split on tabs and nothing else: these files contain quote characters that are text,
//! not CSV quoting. Lines end with `\n` or `\r\n`; a final line without a newline counts; a UTF-8
//! byte-order mark at the start of the file is ignored. Each line is checked for valid UTF-8 on its
//! own, so an error can name the line.

use std::path::Path;

use crate::error::{DataError, Result};

/// Reads a whole data file, refusing an empty one.
pub(crate) fn read_data_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| DataError::io(path, source))?;
    if bytes.is_empty() {
        return Err(DataError::EmptyFile {
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}

/// The lines of a file's bytes, each with its 1-based line number, as raw bytes.
pub(crate) fn raw_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = body.is_empty() && bytes.is_empty();
    body.split(|&byte| byte == b'\n')
        .filter(move |_| !empty)
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix(b"\r").unwrap_or(line)))
}

/// The lines of a file as text, each with its 1-based line number; invalid UTF-8 is an error.
pub(crate) fn text_lines<'a>(
    path: &'a Path,
    bytes: &'a [u8],
) -> impl Iterator<Item = Result<(usize, &'a str)>> + 'a {
    raw_lines(bytes).map(move |(line, raw)| match std::str::from_utf8(raw) {
        Ok(text) => Ok((line, text)),
        Err(error) => Err(DataError::InvalidUtf8 {
            path: path.to_owned(),
            line,
            byte_offset: error.valid_up_to(),
        }),
    })
}

/// Splits a line into `fields` (cleared first) on tabs.
pub(crate) fn split_fields<'a>(line: &'a str, fields: &mut Vec<&'a str>) {
    fields.clear();
    fields.extend(line.split('\t'));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Vec<(usize, &[u8])> {
        raw_lines(bytes).collect()
    }

    #[test]
    fn trailing_newline_does_not_make_an_extra_line() {
        assert_eq!(lines(b"a\nb\n"), vec![(1, &b"a"[..]), (2, &b"b"[..])]);
        assert_eq!(lines(b"a\nb"), vec![(1, &b"a"[..]), (2, &b"b"[..])]);
    }

    #[test]
    fn crlf_and_bom_are_stripped() {
        assert_eq!(
            lines(b"\xEF\xBB\xBFh\r\nx\r\n"),
            vec![(1, &b"h"[..]), (2, &b"x"[..])]
        );
    }

    #[test]
    fn blank_lines_in_the_middle_are_kept_as_lines() {
        assert_eq!(
            lines(b"a\n\nb\n"),
            vec![(1, &b"a"[..]), (2, &b""[..]), (3, &b"b"[..])]
        );
    }

    #[test]
    fn a_lone_newline_is_one_empty_line() {
        assert_eq!(lines(b"\n"), vec![(1, &b""[..])]);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn quotes_are_text() {
        let mut fields = Vec::new();
        split_fields("0\t\"a\tb\"\tc", &mut fields);
        assert_eq!(fields, vec!["0", "\"a", "b\"", "c"]);
    }
}
