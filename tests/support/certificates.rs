//! Certificates for TLS tests, made by `openssl` in a test's directory.

use std::path::Path;
use std::process::Command;

/// Runs `openssl` with `args` in `dir`; the test fails if it does.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl req` arguments for a new P-256 key, unencrypted, written to
/// the file named next.
const NEW_KEY: [&str; 6] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
];

/// A test CA in `dir` (`ca.pem`, `ca.key`).
pub fn make_ca(dir: &Path) {
    let args = [
        &["req", "-x509"][..],
        &NEW_KEY,
        &[
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Parley test CA",
        ],
    ]
    .concat();
    openssl(dir, &args);
}

/// A certificate for 127.0.0.1 signed by the CA, as `<name>.pem` and
/// `<name>.key`.
pub fn make_cert(dir: &Path, name: &str) {
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let pem = format!("{name}.pem");
    let args = [
        &["req"][..],
        &NEW_KEY,
        &[&key, "-out", &csr, "-subj", "/CN=127.0.0.1"],
    ]
    .concat();
    openssl(dir, &args);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}
