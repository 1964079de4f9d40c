//! Parsing real-world-shaped e-mail (`tests/corpus/email/`): multipart
//! alternatives, non-UTF-8 charsets (Latin-1, Shift_JIS, ISO-2022-JP
//! subjects), inline images, forwarded messages, threading headers, broken
//! MIME read as far as it goes, and hostile input refused with a reason.

use parley_email::parse::{Limits, Malformed, parse};

fn corpus(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/email")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn multipart_alternative_gives_text_html_and_addresses() {
    let email = parse(&corpus("alternative.eml"), &Limits::default()).unwrap();
    let from = email.from.as_ref().unwrap();
    assert_eq!(
        (from.name.as_deref(), from.address.as_str()),
        (Some("Ada Lovelace"), "ada@example.com")
    );
    assert_eq!(email.to[0].address, "support@shop.example");
    assert_eq!(email.subject.as_deref(), Some("Order 1234 – where is it?"));
    assert_eq!(email.message_id.as_deref(), Some("alt-1@example.com"));
    assert_eq!(email.date, Some(1_795_255_200_000));
    assert_eq!(
        email.text.as_deref().map(str::trim),
        Some("Hello, my order 1234 has not arrived – café au lait.")
    );
    assert!(email.html.as_deref().unwrap().contains("<b>1234</b>"));
    assert!(email.attachments.is_empty());
}

#[test]
fn a_from_header_written_as_one_encoded_word_is_read_as_mail_clients_do() {
    let email = parse(&corpus("encoded-from.eml"), &Limits::default()).unwrap();
    let from = email.from.as_ref().expect("a sender");
    assert_eq!(
        (from.name.as_deref(), from.address.as_str()),
        (Some("Zoë Ng"), "zoe.ng@example.com")
    );
}

#[test]
fn text_only_in_an_attachment_or_a_nested_message_is_the_body() {
    let attached = parse(&corpus("text-in-attachment.eml"), &Limits::default()).unwrap();
    assert_eq!(
        attached.text.as_deref().map(str::trim),
        Some("My order 778 arrived broken.")
    );
    let nested = parse(&corpus("nested-only.eml"), &Limits::default()).unwrap();
    assert_eq!(
        nested.text.as_deref().map(str::trim),
        Some("The courier left the parcel in the rain.")
    );
}

#[test]
fn auto_replies_and_reports_are_machine_mail() {
    let out_of_office = parse(&corpus("out-of-office.eml"), &Limits::default()).unwrap();
    assert_eq!(
        out_of_office.machine.as_deref(),
        Some("an auto-reply (X-Autoreply)")
    );
    assert!(out_of_office.automatic);
    let report = parse(&corpus("dsn-unmatched.eml"), &Limits::default()).unwrap();
    assert_eq!(report.machine.as_deref(), Some("a delivery-status report"));
    let customer = parse(&corpus("alternative.eml"), &Limits::default()).unwrap();
    assert_eq!(customer.machine, None);
}

#[test]
fn latin1_and_shift_jis_are_decoded() {
    let latin = parse(&corpus("latin1.eml"), &Limits::default()).unwrap();
    assert_eq!(latin.from.unwrap().name.as_deref(), Some("André Müller"));
    assert_eq!(latin.subject.as_deref(), Some("Réclamation"));
    assert_eq!(
        latin.text.as_deref().map(str::trim),
        Some("Bonjour, la facture est erronée. Grüße")
    );
    assert_eq!(latin.html, None, "a text-only message has no HTML body");

    let japanese = parse(&corpus("shift_jis.eml"), &Limits::default()).unwrap();
    assert_eq!(japanese.subject.as_deref(), Some("注文"));
    assert_eq!(
        japanese.text.as_deref().map(str::trim),
        Some("こんにちは、注文について質問があります。")
    );
}

#[test]
fn replies_carry_their_thread_and_inline_images() {
    let reply = parse(&corpus("inline-reply.eml"), &Limits::default()).unwrap();
    assert_eq!(reply.in_reply_to, ["agent-reply-1@shop.example"]);
    assert_eq!(
        reply.references,
        ["alt-1@example.com", "agent-reply-1@shop.example"]
    );
    assert_eq!(
        reply.thread_ids(),
        ["agent-reply-1@shop.example", "alt-1@example.com"]
    );
    let image = &reply.attachments[0];
    assert_eq!(image.content_type, "image/png");
    assert_eq!(image.content_id.as_deref(), Some("label@ex"));
    assert!(image.inline);
    assert!(image.data.starts_with(b"\x89PNG"));
    assert!(reply.html.unwrap().contains("cid:label@ex"));
}

#[test]
fn a_forwarded_message_is_an_attachment_of_its_own() {
    let email = parse(&corpus("forwarded.eml"), &Limits::default()).unwrap();
    assert_eq!(
        email.text.as_deref().map(str::trim),
        Some("See the forwarded message below.")
    );
    let forwarded = &email.attachments[0];
    assert_eq!(forwarded.content_type, "message/rfc822");
    let inner = parse(&forwarded.data, &Limits::default()).unwrap();
    assert_eq!(inner.subject.as_deref(), Some("my complaint"));
    assert_eq!(inner.from.unwrap().address, "carol@example.com");
}

#[test]
fn broken_mime_is_read_as_far_as_it_goes() {
    let email = parse(&corpus("broken.eml"), &Limits::default()).unwrap();
    assert_eq!(email.subject.as_deref(), Some("broken"));
    assert!(email.text.unwrap().contains("Still readable text"));
    assert_eq!(email.attachments[0].name.as_deref(), Some("bad.pdf"));
}

#[test]
fn hostile_input_is_refused_with_a_reason() {
    let limits = Limits {
        max_bytes: 4096,
        max_header_bytes: 512,
        max_parts: 10,
        max_decoded_bytes: 2048,
    };
    let huge = vec![b'a'; 5000];
    assert_eq!(
        parse(&huge, &limits),
        Err(Malformed::TooLarge {
            size: 5000,
            limit: 4096
        })
    );
    let mut long_header = b"Subject: ".to_vec();
    long_header.extend(std::iter::repeat_n(b'x', 600));
    long_header.extend(b"\r\n\r\nbody");
    assert_eq!(
        parse(&long_header, &limits),
        Err(Malformed::HeadersTooLarge { limit: 512 })
    );
    let mut many = b"Content-Type: multipart/mixed; boundary=z\r\n\r\n".to_vec();
    for _ in 0..20 {
        many.extend(b"--z\r\nContent-Type: text/plain\r\n\r\nx\r\n");
    }
    many.extend(b"--z--\r\n");
    assert!(matches!(
        parse(&many, &limits),
        Err(Malformed::TooManyParts { .. })
    ));
    let bomb = format!(
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        "QUFBQUFBQUFBQUFB".repeat(200)
    );
    assert_eq!(
        parse(bomb.as_bytes(), &limits),
        Err(Malformed::DecodesTooLarge { limit: 2048 })
    );
    assert!(matches!(
        parse(b"\x00\x01\x02 no headers", &limits),
        Err(Malformed::NotMime(_))
    ));
}

#[test]
fn a_delivery_report_names_the_bounced_message_and_why() {
    let email = parse(&corpus("bounce.eml"), &Limits::default()).unwrap();
    assert!(email.automatic, "a mailer daemon's report is automatic");
    let bounce = parley_email::bounce::of(&email).expect("a bounce");
    assert_eq!(
        bounce.original_message_id.as_deref(),
        Some("agent-reply-9@shop.example")
    );
    assert_eq!(
        bounce.reason,
        "nobody@example.net: 5.1.1 (smtp; 550 5.1.1 <nobody@example.net>: User unknown)"
    );
    let customer = parse(&corpus("alternative.eml"), &Limits::default()).unwrap();
    assert!(!customer.automatic);
    assert_eq!(parley_email::bounce::of(&customer), None);
}
