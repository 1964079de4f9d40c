//! A `parley serve` process on a free port, for tests that need a real
//! process: the command line, and crashes (`kill -9`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::parley_bin;

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `parley serve`; killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// `host:port` it listens on.
    pub listen: String,
}

impl ServerProcess {
    /// Starts `parley serve` with `args` added, listening on `listen`, and
    /// waits until it accepts connections.
    pub fn start(listen: &str, args: &[&str]) -> ServerProcess {
        let child = Command::new(parley_bin())
            .args(["serve", "--listen", listen])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("parley serve starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(listen).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        ServerProcess {
            child,
            listen: listen.to_string(),
        }
    }

    /// Starts `parley serve --config FILE`.
    pub fn with_config(listen: &str, config: &Path) -> ServerProcess {
        ServerProcess::start(listen, &["--config", config.to_str().unwrap()])
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory now, in bytes (from `/proc`).
    pub fn resident_bytes(&self) -> u64 {
        self.memory("VmRSS:")
    }

    /// The most resident memory it has had, in bytes.
    pub fn peak_resident_bytes(&self) -> u64 {
        self.memory("VmHWM:")
    }

    /// A memory figure of `/proc/<pid>/status`, in bytes.
    fn memory(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    /// Kills it with SIGKILL, as a crash would, and waits for it to die.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
