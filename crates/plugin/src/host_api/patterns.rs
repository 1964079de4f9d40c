//! `parley:plugin/patterns`: regular expressions compiled and run by the
//! host with the `regex` crate, so a pattern means the same in every
//! plugin language. Always available. Compiled patterns live in the
//! store's resource table, at most [`MAX_LIVE`] per instance, each at most
//! [`COMPILED_SIZE_LIMIT`] compiled; matching is linear in the text.

use super::host_error;
use super::iface::patterns::{Group, Host, HostRegex, Span};
use crate::bindings::types::{Error, ErrorKind};
use crate::sandbox::HostState;
use wasmtime::component::Resource;

/// Patterns one instance may hold at a time.
pub const MAX_LIVE: usize = 256;
/// Largest compiled form of one pattern (and of its lazy DFA cache).
pub const COMPILED_SIZE_LIMIT: usize = 1 << 20;
/// Longest pattern source.
const MAX_PATTERN: usize = 64 << 10;
/// Most matches `find-all` returns (the first ones), so that a pattern
/// matching everywhere in a long text cannot make the host allocate
/// without bound.
pub const MAX_MATCHES: usize = 10_000;

/// A pattern compiled for a plugin: the `regex` resource.
pub struct CompiledRegex(regex::Regex);

impl Host for HostState {}

/// The span of a match, with its text.
fn span(m: regex::Match<'_>) -> Span {
    Span {
        start: m.start() as u32,
        end: m.end() as u32,
        text: m.as_str().to_string(),
    }
}

impl HostState {
    fn regex(&mut self, handle: &Resource<CompiledRegex>) -> wasmtime::Result<&regex::Regex> {
        Ok(&self.table().get(handle)?.0)
    }
}

impl HostRegex for HostState {
    fn compile(
        &mut self,
        pattern: String,
    ) -> wasmtime::Result<Result<Resource<CompiledRegex>, Error>> {
        if self.live_patterns >= MAX_LIVE {
            return Ok(Err(host_error(
                ErrorKind::InvalidInput,
                format!("{MAX_LIVE} patterns are alive in this instance already; drop one first"),
            )));
        }
        if pattern.len() > MAX_PATTERN {
            return Ok(Err(host_error(
                ErrorKind::InvalidInput,
                format!("the pattern is over {MAX_PATTERN} bytes"),
            )));
        }
        let compiled = regex::RegexBuilder::new(&pattern)
            .size_limit(COMPILED_SIZE_LIMIT)
            .dfa_size_limit(COMPILED_SIZE_LIMIT)
            .build();
        match compiled {
            Ok(regex) => {
                let handle = self.table().push(CompiledRegex(regex))?;
                self.live_patterns += 1;
                Ok(Ok(handle))
            }
            Err(e) => Ok(Err(host_error(ErrorKind::InvalidInput, e.to_string()))),
        }
    }

    fn is_match(
        &mut self,
        handle: Resource<CompiledRegex>,
        text: String,
    ) -> wasmtime::Result<bool> {
        Ok(self.regex(&handle)?.is_match(&text))
    }

    fn find(
        &mut self,
        handle: Resource<CompiledRegex>,
        text: String,
    ) -> wasmtime::Result<Option<Span>> {
        Ok(self.regex(&handle)?.find(&text).map(span))
    }

    fn find_all(
        &mut self,
        handle: Resource<CompiledRegex>,
        text: String,
    ) -> wasmtime::Result<Vec<Span>> {
        Ok(self
            .regex(&handle)?
            .find_iter(&text)
            .take(MAX_MATCHES)
            .map(span)
            .collect())
    }

    fn captures(
        &mut self,
        handle: Resource<CompiledRegex>,
        text: String,
    ) -> wasmtime::Result<Option<Vec<Group>>> {
        let regex = self.regex(&handle)?;
        Ok(regex.captures(&text).map(|captures| {
            regex
                .capture_names()
                .zip(captures.iter())
                .map(|(name, m)| Group {
                    name: name.map(str::to_string),
                    span: m.map(span),
                })
                .collect()
        }))
    }

    fn drop(&mut self, handle: Resource<CompiledRegex>) -> wasmtime::Result<()> {
        self.table().delete(handle)?;
        self.live_patterns -= 1;
        Ok(())
    }
}
