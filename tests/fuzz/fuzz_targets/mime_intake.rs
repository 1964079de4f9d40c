//! E-mail intake: raw bytes from a mailbox through the MIME reader, the
//! bounce reader and the threading headers. Whatever the bytes, the reader
//! answers a message or a reason, and a message it answers keeps within
//! the limits it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_email::bounce;
use parley_email::parse::{self, Limits};

/// Small limits, so that inputs the fuzzer can write reach the refusals.
const LIMITS: Limits = Limits {
    max_bytes: 64 << 10,
    max_header_bytes: 8 << 10,
    max_parts: 32,
    max_decoded_bytes: 128 << 10,
};

fuzz_target!(|raw: &[u8]| {
    let Ok(email) = parse::parse(raw, &LIMITS) else {
        return;
    };
    let decoded: usize = email.attachments.iter().map(|a| a.data.len()).sum();
    assert!(
        decoded <= LIMITS.max_decoded_bytes,
        "attachments decode to {decoded} bytes, over the limit"
    );
    for attachment in &email.attachments {
        assert_eq!(attachment.size, attachment.data.len());
    }
    if let Some(from) = &email.from {
        assert_eq!(from.address, from.address.to_ascii_lowercase());
    }
    for id in email.thread_ids() {
        assert!(!id.is_empty(), "an empty thread id");
    }
    if let Some(report) = bounce::of(&email) {
        assert!(!report.reason.is_empty(), "a bounce without a reason");
    }
});
