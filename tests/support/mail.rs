//! Real mail servers for the e-mail tests, each in its own temporary
//! directory on free ports: Dovecot (IMAP 143 + STARTTLS, IMAPS, POP3 +
//! STLS, POP3S) with one user and a Maildir, and the aiosmtpd SMTP server
//! of `tests/peers/smtp_sink.py` (STARTTLS and implicit TLS, AUTH
//! required). Both use a fresh self-signed certificate the tests trust
//! through `ca-file`. `scripts/mail-peers.sh` installs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::free_port;

/// The mail user of every Dovecot instance.
pub const USER: &str = "testuser";
/// Its password.
pub const PASSWORD: &str = "testpass";
/// The SMTP user.
pub const SMTP_USER: &str = "smtpuser";
/// Its password.
pub const SMTP_PASSWORD: &str = "smtppass";

/// Waits until 127.0.0.1:`port` accepts connections; `Err` with the exit
/// status when the peer exits first.
fn wait_port(port: u16, child: &mut Child, what: &str) -> Result<(), String> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited early: {status}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} is not listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Starts a peer on `N` free ports and waits until it listens on all of
/// them. A port is free when picked but another test may bind it before
/// the peer does, which then exits; so a peer that exits early is started
/// again on fresh ports, up to five times. `diagnostics` says what the
/// peer left (its log) for the final failure.
fn start_on_free_ports<const N: usize>(
    what: &str,
    mut spawn: impl FnMut([u16; N]) -> Child,
    diagnostics: impl Fn() -> String,
) -> (Child, [u16; N]) {
    let mut failure = String::new();
    for _ in 0..5 {
        let ports = std::array::from_fn(|_| free_port());
        let mut child = spawn(ports);
        match ports
            .iter()
            .try_for_each(|&port| wait_port(port, &mut child, what))
        {
            Ok(()) => return (child, ports),
            Err(error) => failure = error,
        }
    }
    panic!("{failure}\n{}", diagnostics());
}

/// Stops a peer with SIGTERM, then SIGKILL after 10 s.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Writes a self-signed certificate for `localhost` and 127.0.0.1 (not a
/// CA, so rustls accepts it as a pinned server certificate).
fn certificate(dir: &Path) -> PathBuf {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (scripts/mail-peers.sh installs it)");
    assert!(status.success(), "openssl made no certificate");
    dir.join("cert.pem")
}

/// A running Dovecot.
pub struct Dovecot {
    child: Child,
    dir: tempfile::TempDir,
    /// IMAP (plain, STARTTLS offered).
    pub imap: u16,
    /// IMAP over TLS.
    pub imaps: u16,
    /// POP3 (plain, STLS offered).
    pub pop3: u16,
    /// POP3 over TLS.
    pub pop3s: u16,
}

impl Dovecot {
    /// Starts a Dovecot with user [`USER`] and an empty INBOX.
    pub fn start() -> Dovecot {
        let dir = tempfile::Builder::new()
            .prefix("dovecot-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        Command::new("chmod").arg("755").arg(d).status().unwrap();
        certificate(d);
        Command::new("chmod")
            .arg("600")
            .arg(d.join("key.pem"))
            .status()
            .unwrap();
        let maildir = d.join("mail").join(USER).join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(d.join("mail"))
            .status()
            .unwrap();
        std::fs::write(
            d.join("users"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:65534:65534::{}::\n",
                d.join("mail").join(USER).display()
            ),
        )
        .unwrap();
        let d = d.display();
        let name = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let config = dir.path().join("dovecot.conf");
        let log = dir.path().join("dovecot.log");
        let (child, [imap, imaps, pop3, pop3s]) = start_on_free_ports(
            "dovecot",
            |[imap, imaps, pop3, pop3s]| {
                std::fs::write(
                    &config,
                    format!(
                        r#"protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = {name}
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"#
                    ),
                )
                .unwrap();
                Command::new("dovecot")
                    .arg("-F")
                    .arg("-c")
                    .arg(&config)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("dovecot starts (scripts/mail-peers.sh installs it)")
            },
            || std::fs::read_to_string(&log).unwrap_or_default(),
        );
        // A stop right after start waits for login processes; let them settle.
        std::thread::sleep(Duration::from_millis(200));
        Dovecot {
            child,
            dir,
            imap,
            imaps,
            pop3,
            pop3s,
        }
    }

    /// The certificate to trust.
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail").join(USER).join("Maildir")
    }

    /// Delivers `raw` into the INBOX as a mail server would (written into
    /// `tmp/`, renamed into `new/`).
    pub fn deliver(&self, raw: &[u8]) {
        let name = format!(
            "{}.{}.parley-test",
            uuid::Uuid::now_v7().simple(),
            std::process::id()
        );
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, raw).unwrap();
        Command::new("chown")
            .arg("65534:65534")
            .arg(&tmp)
            .status()
            .unwrap();
        std::fs::rename(&tmp, self.maildir().join("new").join(&name)).unwrap();
    }

    /// Messages in the INBOX now (new and seen).
    pub fn count(&self) -> usize {
        ["new", "cur"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(self.maildir().join(sub))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// The `[[email.mailbox]]` settings (TOML) of a mailbox on this server.
    pub fn mailbox(
        &self,
        name: &str,
        protocol: &str,
        port: u16,
        security: &str,
        extra: &str,
    ) -> String {
        format!(
            "[[email.mailbox]]\nname = {name:?}\nprotocol = {protocol:?}\nhost = \"localhost\"\nport = {port}\n\
             security = {security:?}\nuser = {USER:?}\npassword = {PASSWORD:?}\nca-file = {:?}\n\
             poll-interval-s = 1\n{extra}\n",
            self.cert().display().to_string()
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The Python that runs the SMTP server (from `scripts/mail-peers.sh`).
fn smtp_python() -> PathBuf {
    let python = std::env::var("PARLEY_TEST_SMTP_PYTHON").map_or_else(
        |_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/parley/peers-venv/bin/python")
        },
        PathBuf::from,
    );
    assert!(
        python.is_file(),
        "{} is missing: run scripts/mail-peers.sh (scripts/test.sh does)",
        python.display()
    );
    python
}

/// A running SMTP server.
pub struct SmtpServer {
    child: Child,
    dir: tempfile::TempDir,
    /// STARTTLS port (STARTTLS and AUTH required).
    pub port: u16,
    /// Implicit TLS port.
    pub tls_port: u16,
}

impl SmtpServer {
    /// Starts one; `reject` recipients get 550, the first `defer` messages
    /// get 451.
    pub fn start(reject: &[&str], defer: u32) -> SmtpServer {
        let dir = tempfile::Builder::new().prefix("smtp-").tempdir().unwrap();
        certificate(dir.path());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/smtp_sink.py");
        let (child, [port, tls_port]) = start_on_free_ports(
            "the SMTP server",
            |[port, tls_port]| {
                let mut command = Command::new(smtp_python());
                command
                    .arg(&script)
                    .args(["--port", &port.to_string()])
                    .args(["--implicit-tls-port", &tls_port.to_string()])
                    .arg("--outdir")
                    .arg(dir.path().join("inbox"))
                    .arg("--cert")
                    .arg(dir.path().join("cert.pem"))
                    .arg("--key")
                    .arg(dir.path().join("key.pem"))
                    .args(["--user", SMTP_USER, "--password", SMTP_PASSWORD])
                    .args(["--defer-first", &defer.to_string()]);
                for address in reject {
                    command.args(["--reject", address]);
                }
                command
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("the SMTP server starts")
            },
            String::new,
        );
        SmtpServer {
            child,
            dir,
            port,
            tls_port,
        }
    }

    /// The `[email.smtp]` settings (TOML) for this server.
    pub fn settings(&self, security: &str) -> String {
        let port = if security == "tls" {
            self.tls_port
        } else {
            self.port
        };
        format!(
            "[email.smtp]\nhost = \"localhost\"\nport = {port}\nsecurity = {security:?}\nuser = {SMTP_USER:?}\n\
             password = {SMTP_PASSWORD:?}\nca-file = {:?}\nretry-after-s = 1\nmax-attempts = 3\n",
            self.dir.path().join("cert.pem").display().to_string()
        )
    }

    /// The messages received so far: raw bytes and envelope, in order.
    pub fn received(&self) -> Vec<(Vec<u8>, serde_json::Value)> {
        let inbox = self.dir.path().join("inbox");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&inbox)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .into_iter()
            .map(|eml| {
                let meta = std::fs::read_to_string(eml.with_extension("json")).unwrap();
                (
                    std::fs::read(&eml).unwrap(),
                    serde_json::from_str(&meta).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
