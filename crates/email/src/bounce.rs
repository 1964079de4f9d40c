//! Delivery status notifications (RFC 3464): which message of ours
//! bounced, and why.

use mail_parser::MessageParser;

use super::parse::Email;

/// What a bounce says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// `Message-ID` of the message that bounced, when the report quotes it.
    pub original_message_id: Option<String>,
    /// The failed recipients' status and diagnostics, in a line.
    pub reason: String,
}

/// The bounce `email` reports, if it is a delivery failure report.
pub fn of(email: &Email) -> Option<Bounce> {
    if email.report_type.as_deref() != Some("delivery-status") {
        return None;
    }
    let status = email
        .attachments
        .iter()
        .find(|a| {
            a.content_type
                .eq_ignore_ascii_case("message/delivery-status")
        })
        .map(|a| String::from_utf8_lossy(&a.data).into_owned())?;
    let failures = failures(&status);
    if failures.is_empty() {
        // Delayed or delivered: not a bounce.
        return None;
    }
    let original_message_id = email
        .attachments
        .iter()
        .filter(|a| {
            let ct = a.content_type.to_ascii_lowercase();
            ct == "message/rfc822" || ct == "text/rfc822-headers" || ct == "message/rfc822-headers"
        })
        .find_map(|a| {
            MessageParser::default()
                .parse_headers(&a.data)
                .and_then(|m| m.message_id().map(str::to_string))
        });
    Some(Bounce {
        original_message_id,
        reason: failures.join("; "),
    })
}

/// One line per recipient whose `Action` is `failed`.
fn failures(status: &str) -> Vec<String> {
    // Per-message fields come first, then one block per recipient, blocks
    // separated by empty lines.
    let unfolded = status.replace("\r\n", "\n");
    unfolded
        .split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block.lines().find_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    key.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_string())
                })
            };
            if !field("Action")?.eq_ignore_ascii_case("failed") {
                return None;
            }
            let recipient = field("Final-Recipient")
                .or_else(|| field("Original-Recipient"))
                .map(|r| {
                    r.split_once(';')
                        .map_or(r.clone(), |(_, a)| a.trim().to_string())
                })
                .unwrap_or_else(|| "a recipient".into());
            let code = field("Status").unwrap_or_else(|| "5.0.0".into());
            Some(match field("Diagnostic-Code") {
                Some(diagnostic) => format!("{recipient}: {code} ({diagnostic})"),
                None => format!("{recipient}: {code}"),
            })
        })
        .collect()
}
