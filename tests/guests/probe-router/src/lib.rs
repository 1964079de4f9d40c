//! A router that tries what its sandbox may or may not allow and reports
//! each outcome as an attribute of its decision. The probes are the texts
//! of the interaction's `probe` attribute:
//!
//! - `read:<path>`: read a file (WASI filesystem);
//! - `write:<path>`: write a file;
//! - `env:<name>`: read an environment variable (WASI environment);
//! - `clock`: the WASI wall clock, in seconds since the Unix epoch;
//! - `kv`: increment a counter in the key-value store;
//! - `screen:<plugin>`: screen the interaction's subject with a screener;
//! - `screen-interaction:<plugin>`: screen the stored interaction itself,
//!   `screen-interaction:<plugin>:<id>` another one, through the host;
//! - `secret:<name>`: read a secret;
//! - `fail-with-secret:<name>`: fail the call with the secret's value in
//!   the error message (which the host must redact);
//! - `regex:<pattern>|<text>`: the host pattern engine's captures of
//!   `<text>`, as `name=match` pairs (`0` for unnamed groups);
//! - `http:<url>`: GET `<url>` with `wasi:http/outgoing-handler`,
//!   following up to three redirects (each a request of its own), as
//!   `status=<code> bytes=<body length>` or the error code.

use parley_sdk::patterns::Regex;
use parley_sdk::prelude::*;
use parley_sdk::router::{CandidateSet, Decision, Guest, Target, plugins};
use parley_sdk::{ScreenRequest, ScreenResult, kv, secrets};
use std::time::{SystemTime, UNIX_EPOCH};

/// The exported router.
pub struct ProbeRouter;

/// A screening's categories and fields (`billing=0.9,field:order-number=AB12`),
/// or its error.
fn outcome(screened: Result<ScreenResult, Error>) -> String {
    match screened {
        Ok(result) => result
            .categories
            .iter()
            .map(|c| format!("{}={}", c.name, c.score))
            .chain(
                result
                    .fields
                    .iter()
                    .map(|f| format!("field:{}={}", f.name, f.value)),
            )
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("error: {:?}: {}", e.kind, e.message),
    }
}

fn probe(what: &str, interaction: &Interaction) -> String {
    let (kind, arg) = what.split_once(':').unwrap_or((what, ""));
    match kind {
        "read" => std::fs::read_to_string(arg).unwrap_or_else(|e| format!("error: {e}")),
        "write" => match std::fs::write(arg, "written by probe-router") {
            Ok(()) => "written".into(),
            Err(e) => format!("error: {e}"),
        },
        "env" => std::env::var(arg).unwrap_or_else(|e| format!("error: {e}")),
        "clock" => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs().to_string())
            .unwrap_or_else(|e| format!("error: {e}")),
        "kv" => match kv::increment("probes", 1) {
            Ok(n) => n.to_string(),
            Err(e) => format!("error: {}", e.message),
        },
        "screen" => {
            let request = ScreenRequest {
                media_type: interaction.media_type.clone(),
                subject: None,
                content: Content::plain(interaction.subject.clone().unwrap_or_default()),
                attached: Vec::new(),
                language: None,
            };
            outcome(plugins::screen(arg, &request))
        }
        "screen-interaction" => {
            let (plugin, id) = arg.split_once(':').unwrap_or((arg, &interaction.id));
            outcome(plugins::screen_interaction(plugin, id))
        }
        "secret" => {
            secrets::get(arg).unwrap_or_else(|e| format!("error: {:?}: {}", e.kind, e.message))
        }
        "regex" => {
            let (pattern, text) = arg.split_once('|').unwrap_or((arg, ""));
            match Regex::compile(pattern) {
                Ok(regex) => match regex.captures(text) {
                    Some(groups) => groups
                        .iter()
                        .enumerate()
                        .map(|(i, g)| {
                            let name = g.name.clone().unwrap_or_else(|| i.to_string());
                            let matched = g.span.as_ref().map_or("-", |s| s.text.as_str());
                            format!("{name}={matched}")
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    None => "no match".into(),
                },
                Err(e) => format!("error: {:?}: {}", e.kind, e.message),
            }
        }
        "http" => http_get(arg, 3),
        _ => format!("error: unknown probe `{what}`"),
    }
}

/// GETs `url`, following redirects up to `redirects` times.
fn http_get(url: &str, redirects: u32) -> String {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{Fields, OutgoingRequest, Scheme, http_error_code};
    use wasip2::io::streams::StreamError;

    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("error: `{url}` is not a URL");
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let request = OutgoingRequest::new(Fields::new());
    let scheme = match scheme {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => Scheme::Other(other.to_string()),
    };
    let _ = request.set_scheme(Some(&scheme));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(if path.is_empty() { "/" } else { path }));
    let future = match outgoing_handler::handle(request, None) {
        Ok(future) => future,
        Err(code) => return format!("error: {code:?}"),
    };
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return format!("error: {code:?}"),
        other => return format!("error: no response ({other:?})"),
    };
    let status = response.status();
    if (300..400).contains(&status) && redirects > 0 {
        let location = response.headers().get("location");
        if let Some(location) = location.first() {
            // Done with this response (which frees its request) first.
            drop(response);
            drop(future);
            return http_get(&String::from_utf8_lossy(location), redirects - 1);
        }
    }
    let Ok(body) = response.consume() else {
        return "error: the body was taken".into();
    };
    let Ok(stream) = body.stream() else {
        return "error: no body stream".into();
    };
    let mut bytes = 0;
    loop {
        match stream.blocking_read(64 << 10) {
            Ok(chunk) => bytes += chunk.len(),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return match http_error_code(&e) {
                    Some(code) => format!("error: {code:?} after {bytes} bytes"),
                    None => format!(
                        "error: {} after {bytes} bytes",
                        e.to_debug_string().lines().next().unwrap_or_default()
                    ),
                };
            }
        }
    }
    format!("status={status} bytes={bytes}")
}

impl Guest for ProbeRouter {
    fn on_queued(interaction: Interaction) -> Result<Decision, Error> {
        let probes: Vec<String> = interaction
            .attribute("probe")
            .map(|v| v.texts().into_iter().map(String::from).collect())
            .unwrap_or_default();
        let mut decision = Decision::route(Target::Agent("probe".into()));
        for what in probes {
            if let Some(name) = what.strip_prefix("fail-with-secret:") {
                let value = secrets::get(name).unwrap_or_default();
                return Err(Error::internal(format!(
                    "the service refused token {value}"
                )));
            }
            let outcome = probe(&what, &interaction);
            decision = decision.set_attribute(&what, outcome.as_str());
        }
        Ok(decision)
    }

    fn on_timer(interaction: Interaction, _: String) -> Result<Decision, Error> {
        Self::on_queued(interaction)
    }

    fn pick_agent(_: Interaction, candidates: CandidateSet) -> Result<Option<String>, Error> {
        Ok(candidates.iter().next().map(|c| c.id().to_string()))
    }

    fn pick_interaction(
        _: AgentCandidate,
        waiting: Vec<Interaction>,
    ) -> Result<Option<String>, Error> {
        Ok(waiting.first().map(|i| i.id.clone()))
    }
}

parley_sdk::export_router!(ProbeRouter);
