//! A real redis-server with the search module, for the tests of the
//! semantic cache's Redis store through the binary: installed by
//! `scripts/redis install` (safe when test processes run it at the same
//! time), started on a free port by `scripts/redis start PORT` as a child,
//! killed when dropped. Plus a raw RESP client, enough to look at what the
//! gateway left in Redis without trusting the gateway's own account.

#![allow(dead_code, reason = "used by run_semantic_cache only")]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The repository's root: the gateway crate is one level below it.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn script() -> PathBuf {
    repo_root().join("scripts/redis")
}

pub struct Redis {
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl Redis {
    /// Installs Redis if needed and starts a server on a free port (three
    /// tries: another process may take the port between asking and binding).
    pub fn start() -> Redis {
        let out = Command::new(script())
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/redis install failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut last = String::new();
        for _ in 0..3 {
            match Redis::start_on(free_port()) {
                Ok(r) => return r,
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    fn start_on(port: u16) -> Result<Redis, String> {
        let log = std::env::temp_dir().join(format!(
            "sluice-e2e-redis-{}-{port}.log",
            std::process::id()
        ));
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
        // Dropped (killed) on every early return below.
        let mut r = Redis { port, child, log };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = r.child.try_wait() {
                return Err(format!("redis-server exited ({status}):\n{}", r.log_text()));
            }
            if r.command(&["PING"]).is_ok_and(|reply| reply == "+PONG") {
                return Ok(r);
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "no PONG on port {port} within {START_TIMEOUT:?}:\n{}",
                    r.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends one command on a new connection and returns the first line of
    /// the reply (`+PONG`, `:3`, `-ERR ...`, `*2`), at most 2 s.
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
            .unwrap();
        reply
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("KEYS {pattern}: unexpected reply `{reply}`"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
