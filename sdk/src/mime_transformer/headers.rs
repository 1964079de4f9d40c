//! Byte-exact editing of a message's header block (RFC 5322, section
//! 2.2): remove fields, add fields above or below the others, and keep
//! every other byte as it was, line endings and body included.
//!
//! ```ignore
//! let block = HeaderBlock::parse(&mime)?;
//! let mut edit = block.edit();
//! edit.remove("X-Spam-*");
//! edit.append("Organization", "Example Corp")?;
//! let changed = edit.changed();
//! let message = edit.finish();
//! ```

use crate::Error;
use std::ops::Range;

/// Longest line RFC 5322 allows, without its line ending.
const MAX_LINE: usize = 998;

/// One header field of a header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    name: &'a str,
    raw: &'a [u8],
    span: Range<usize>,
}

impl<'a> Field<'a> {
    /// The name as written, e.g. `Content-Type`.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The whole field as written: name, colon, value, folded continuation
    /// lines and line endings.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The value unfolded (line breaks of folding removed) and trimmed, as
    /// text; bytes that are not UTF-8 read as U+FFFD.
    pub fn value(&self) -> String {
        let after_colon = &self.raw[self
            .raw
            .iter()
            .position(|b| *b == b':')
            .map_or(0, |i| i + 1)..];
        let unfolded: Vec<u8> = after_colon
            .iter()
            .copied()
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect();
        String::from_utf8_lossy(&unfolded).trim().to_string()
    }

    /// Whether the name matches `pattern`, ignoring case; a `*` at the end
    /// of the pattern matches any rest (`X-Spam-*`).
    pub fn matches(&self, pattern: &str) -> bool {
        name_matches(self.name, pattern)
    }
}

/// Whether `name` matches `pattern`, ignoring case, with an optional `*`
/// suffix wildcard.
pub fn name_matches(name: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix)),
        None => name.eq_ignore_ascii_case(pattern),
    }
}

/// The header block at the start of a message.
#[derive(Debug, Clone)]
pub struct HeaderBlock<'a> {
    message: &'a [u8],
    fields: Vec<Field<'a>>,
    end: usize,
    newline: &'static str,
}

/// A valid field name (printable US-ASCII except `:`), the part of `line`
/// before its colon; obsolete syntax allows blanks before the colon.
fn field_name(line: &[u8]) -> Option<&str> {
    let colon = line.iter().position(|b| *b == b':')?;
    let name = line[..colon].trim_ascii_end();
    let valid = !name.is_empty() && name.iter().all(|b| (33..=126).contains(b));
    valid.then(|| std::str::from_utf8(name).ok()).flatten()
}

impl<'a> HeaderBlock<'a> {
    /// Reads the header block of `message`: the fields up to the first
    /// empty line (or the end of the message). A line without a colon
    /// inside the block is kept with the field before it (broken
    /// folding). Fails when the message does not start with a header
    /// field, i.e. is not a message at all.
    pub fn parse(message: &'a [u8]) -> Result<Self, Error> {
        let mut fields: Vec<Field<'a>> = Vec::new();
        let mut pos = 0;
        while pos < message.len() {
            let line_end = message[pos..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(message.len(), |i| pos + i + 1);
            let line = &message[pos..line_end];
            let content = line
                .strip_suffix(b"\n")
                .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
            if content.is_empty() {
                break;
            }
            let continuation = matches!(content[0], b' ' | b'\t');
            match (continuation, field_name(content), fields.last_mut()) {
                (false, Some(name), _) => fields.push(Field {
                    name,
                    raw: line,
                    span: pos..line_end,
                }),
                (_, _, Some(last)) => {
                    last.span.end = line_end;
                    last.raw = &message[last.span.clone()];
                }
                (_, _, None) => {
                    return Err(Error::invalid_input(
                        "not a MIME message: it does not start with a header field",
                    ));
                }
            }
            pos = line_end;
        }
        let Some(first) = fields.first() else {
            return Err(Error::invalid_input(
                "not a MIME message: it has no header fields",
            ));
        };
        let newline = if first.raw.ends_with(b"\n") && !first.raw.ends_with(b"\r\n") {
            "\n"
        } else {
            "\r\n"
        };
        Ok(HeaderBlock {
            message,
            fields,
            end: pos,
            newline,
        })
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    /// The first field called `name`, ignoring case.
    pub fn get(&self, name: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The line ending of the block's first line: `"\r\n"` or `"\n"`.
    pub fn newline(&self) -> &'static str {
        self.newline
    }

    /// Everything after the fields: the empty line and the body (empty for
    /// a message of header fields only).
    pub fn rest(&self) -> &'a [u8] {
        &self.message[self.end..]
    }

    /// Starts editing the block.
    pub fn edit(&self) -> Edit<'_, 'a> {
        Edit {
            block: self,
            keep: vec![true; self.fields.len()],
            top: Vec::new(),
            bottom: Vec::new(),
        }
    }
}

/// Changes to a header block, applied by [`Edit::finish`].
#[derive(Debug)]
pub struct Edit<'b, 'a> {
    block: &'b HeaderBlock<'a>,
    keep: Vec<bool>,
    top: Vec<u8>,
    bottom: Vec<u8>,
}

impl Edit<'_, '_> {
    /// Removes every field whose name matches `pattern` (see
    /// [`Field::matches`]) and returns how many it removed.
    pub fn remove(&mut self, pattern: &str) -> usize {
        let mut removed = 0;
        for (field, keep) in self.block.fields.iter().zip(&mut self.keep) {
            if *keep && field.matches(pattern) {
                *keep = false;
                removed += 1;
            }
        }
        removed
    }

    /// Adds `name: value` above the first field (after fields added
    /// there before).
    pub fn prepend(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let line = self.line(name, value)?;
        self.top.extend_from_slice(&line);
        Ok(())
    }

    /// Adds `name: value` below the last field (after fields added there
    /// before).
    pub fn append(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let line = self.line(name, value)?;
        self.bottom.extend_from_slice(&line);
        Ok(())
    }

    /// One new field, with the block's line ending. The name must be a
    /// valid field name; the value must fit on one line (no line breaks,
    /// which would inject fields, and at most 998 bytes with its name).
    fn line(&self, name: &str, value: &str) -> Result<Vec<u8>, Error> {
        if field_name(format!("{name}:").as_bytes()) != Some(name) {
            return Err(Error::invalid_input(format!(
                "`{name}` is not a valid header name"
            )));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(Error::invalid_input(format!(
                "the value of header `{name}` contains a line break or NUL"
            )));
        }
        let line = format!("{name}: {}", value.trim());
        if line.len() > MAX_LINE {
            return Err(Error::invalid_input(format!(
                "header `{name}` would be longer than {MAX_LINE} bytes"
            )));
        }
        Ok((line + self.block.newline).into_bytes())
    }

    /// Whether the edit changes anything.
    pub fn changed(&self) -> bool {
        !self.top.is_empty() || !self.bottom.is_empty() || self.keep.contains(&false)
    }

    /// The edited message: added fields, the kept fields as they were,
    /// then the rest of the message untouched.
    pub fn finish(self) -> Vec<u8> {
        let block = self.block;
        let mut out = Vec::with_capacity(block.message.len() + self.top.len() + self.bottom.len());
        out.extend_from_slice(&self.top);
        for (field, keep) in block.fields.iter().zip(&self.keep) {
            if *keep {
                out.extend_from_slice(field.raw);
            }
        }
        if !self.bottom.is_empty() {
            if !out.is_empty() && !out.ends_with(b"\n") {
                out.extend_from_slice(block.newline.as_bytes());
            }
            out.extend_from_slice(&self.bottom);
        }
        out.extend_from_slice(block.rest());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"Received: from mx\r\n by host; Mon\r\nFrom: Ann <ann@example.com>\r\nX-Spam-Score: 3\r\nX-Spam-Flag: NO\r\nSubject: hi\r\n\r\nbody\r\nX-Spam-Score: 9\r\n";

    #[test]
    fn fields_keep_their_folded_lines() {
        let block = HeaderBlock::parse(MESSAGE).unwrap();
        let names: Vec<&str> = block.fields().iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            ["Received", "From", "X-Spam-Score", "X-Spam-Flag", "Subject"]
        );
        assert_eq!(
            block.fields()[0].raw(),
            b"Received: from mx\r\n by host; Mon\r\n"
        );
        assert_eq!(block.fields()[0].value(), "from mx by host; Mon");
        assert_eq!(block.get("from").unwrap().value(), "Ann <ann@example.com>");
        assert_eq!(block.newline(), "\r\n");
        assert_eq!(block.rest(), b"\r\nbody\r\nX-Spam-Score: 9\r\n");
    }

    #[test]
    fn an_edit_changes_only_the_header_block() {
        let block = HeaderBlock::parse(MESSAGE).unwrap();
        let mut edit = block.edit();
        assert!(!edit.changed());
        assert_eq!(edit.remove("x-spam-*"), 2);
        edit.prepend("X-Top", "1").unwrap();
        edit.append("Organization", " Example Corp ").unwrap();
        assert!(edit.changed());
        assert_eq!(
            edit.finish(),
            b"X-Top: 1\r\nReceived: from mx\r\n by host; Mon\r\nFrom: Ann <ann@example.com>\r\nSubject: hi\r\nOrganization: Example Corp\r\n\r\nbody\r\nX-Spam-Score: 9\r\n"
        );
    }

    #[test]
    fn bare_line_feeds_and_a_missing_body_are_kept() {
        let block = HeaderBlock::parse(b"From: a@example.com\nSubject: x").unwrap();
        assert_eq!(block.newline(), "\n");
        let mut edit = block.edit();
        edit.append("X-New", "y").unwrap();
        assert_eq!(
            edit.finish(),
            b"From: a@example.com\nSubject: x\nX-New: y\n"
        );
    }

    #[test]
    fn anything_but_a_header_field_first_is_not_a_message() {
        for bad in [
            &b""[..],
            b"\r\nbody",
            b"%PDF-1.7\n%\xe2\xe3\n",
            b" folded: first\r\n",
            b"Hello there,\r\nhow are you?\r\n",
            b"\xff\xfe: x\r\n",
        ] {
            assert!(HeaderBlock::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn injected_or_invalid_fields_are_refused() {
        let block = HeaderBlock::parse(MESSAGE).unwrap();
        let mut edit = block.edit();
        assert!(edit.append("X-A", "1\r\nBcc: evil@example.com").is_err());
        assert!(edit.append("Bad Name", "1").is_err());
        assert!(edit.append("X-Colon:", "1").is_err());
        assert!(edit.append("X-Long", &"v".repeat(1000)).is_err());
        assert!(!edit.changed());
    }

    #[test]
    fn wildcards_match_prefixes_only_at_the_end() {
        assert!(name_matches("X-Spam-Score", "X-SPAM-*"));
        assert!(name_matches("X-Mailer", "x-mailer"));
        assert!(!name_matches("X-Mailer-Version", "X-Mailer"));
        assert!(!name_matches("X-Spa", "X-Spam-*"));
        assert!(name_matches("Anything", "*"));
    }
}
