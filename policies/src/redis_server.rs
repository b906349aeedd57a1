//! A real redis-server with the search module, for tests (this crate's
//! vector store suite and the gateway's end-to-end test through the
//! binary): installed by `scripts/redis install` (once per process; the
//! script itself is safe when test processes run it at the same time),
//! started on a free port as a child by `scripts/redis start`, killed when
//! dropped. Plus a raw RESP client, enough to look at what a test left in
//! Redis without trusting the code under test.
//!
//! Compiled for this crate's tests and, for other crates' tests, behind the
//! `redis-server` feature.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a server that cannot start fails the test that asked for it"
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The repository's root: this crate is one level below it.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("CARGO_MANIFEST_DIR has a parent")
}

fn script() -> PathBuf {
    repo_root().join("scripts/redis")
}

fn install() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let r = INSTALLED.get_or_init(|| {
        let out = Command::new(script())
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run scripts/redis: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "scripts/redis install failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// A loopback port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl RedisServer {
    /// A server on a free port (three tries: another process may take the
    /// port between asking and binding).
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..3 {
            match Self::start_on(free_port()) {
                Ok(s) => return s,
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    /// A server on `port`.
    pub fn start_on(port: u16) -> Result<Self, String> {
        install();
        let log =
            std::env::temp_dir().join(format!("sluice-redis-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(script())
            .arg("start")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run scripts/redis start: {e}"))?;
        // Dropped (killed) on an early return below.
        let mut server = Self {
            port,
            child: Some(child),
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// What the server printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the server at once (SIGKILL: no chance to save anything).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a new, empty server on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let mut last = String::new();
        for _ in 0..5 {
            match Self::start_on(self.port) {
                Ok(mut s) => {
                    self.child = s.child.take();
                    return;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("redis-server did not restart on port {}: {last}", self.port);
    }

    /// Waits until our child answers PING.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "redis-server exited ({status}):\n{}",
                    self.log_text()
                ));
            }
            if self.command(&["PING"]).is_ok_and(|reply| reply == "+PONG") {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                self.kill();
                return Err(format!(
                    "no PONG on port {} within {START_TIMEOUT:?}:\n{}",
                    self.port,
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one command on a new connection and returns the first line of
    /// the reply (`+PONG`, `:3`, `-ERR ...`, `*2`), waiting at most 2 s.
    pub fn command(&self, args: &[&str]) -> Result<String, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(s)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end().to_owned())
    }

    /// How many keys match the glob `pattern`, asked of Redis itself.
    pub fn count_keys(&self, pattern: &str) -> u64 {
        let reply = self
            .command(&["EVAL", "return #redis.call('KEYS', ARGV[1])", "0", pattern])
            .unwrap_or_else(|e| panic!("KEYS {pattern}: {e}"));
        reply
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("KEYS {pattern}: unexpected reply `{reply}`"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}
