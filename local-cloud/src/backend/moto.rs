//! moto, the local DynamoDB and SQS: started from the project's virtual environment on a
//! free loopback port. A small shell watchdog owns the server and stops it when its stdin
//! closes — when this [`Moto`] is dropped, or when the process that started it ends in any
//! way (a panic, a kill, a test binary exiting with moto in a static) — so no server is
//! ever left behind.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::BackendError;

/// The moto version the Makefile installs (`tools/moto-constraints.txt`).
pub const MOTO_VERSION: &str = "5.2.5";

/// Runs moto ($1) on port $2, its output to $3, and stops it when stdin reaches its end.
/// The log goes with the server, unless the owner wrote `keep` first: a start that
/// failed names the log in its message.
const WATCHDOG: &str = r#"
"$1" -H 127.0.0.1 -p "$2" >"$3" 2>&1 </dev/null &
server=$!
echo "$server"
said=$(cat)
kill "$server" 2>/dev/null
[ "$said" = keep ] || rm -f "$3"
"#;

/// A running moto server; stopped when dropped.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The server's process id.
    pub pid: Option<u32>,
    /// The server's output, removed when it is stopped.
    log: PathBuf,
    watchdog: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // End of stdin: the watchdog kills the server and exits.
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// Where `moto_server` is in a project: its virtual environment.
pub fn moto_path(project: &Path) -> PathBuf {
    project.join(".venv/bin/moto_server")
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it listens.
    ///
    /// # Errors
    /// [`BackendError`] when the binary is missing or the server does not come up
    /// within 60 s (its output is in a log file the message names).
    pub fn start(moto_server: &Path) -> Result<Self, BackendError> {
        if !moto_server.exists() {
            return Err(BackendError::MotoMissing(moto_server.to_owned()));
        }
        let port = super::free_port()?;
        let log = std::env::temp_dir().join(format!("online-feedback-moto-{port}.log"));
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("moto-watchdog")
            .arg(moto_server)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| BackendError::Start(format!("cannot run sh to start moto: {e}")))?;
        let stdin = watchdog.stdin.take();
        let pid = watchdog.stdout.take().and_then(|out| {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).ok()?;
            line.trim().parse().ok()
        });
        let mut moto = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            pid,
            log,
            watchdog,
            stdin,
        };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_mins(1);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            let ended =
                matches!(moto.watchdog.try_wait(), Ok(Some(_))) || moto.pid.is_some_and(has_exited);
            if Instant::now() > deadline || ended {
                if let Some(stdin) = moto.stdin.as_mut() {
                    let _ = stdin.write_all(b"keep");
                }
                return Err(BackendError::Start(format!(
                    "moto {} on {}; its output is in {}",
                    if ended {
                        "exited before it listened"
                    } else {
                        "did not listen within 60 s"
                    },
                    moto.endpoint,
                    moto.log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Nothing to say to the watchdog; the pipe only has to stay open.
        if let Some(stdin) = moto.stdin.as_mut() {
            let _ = stdin.flush();
        }
        Ok(moto)
    }
}

/// Whether process `pid` has ended: gone, or a zombie its parent (the watchdog, busy
/// reading its stdin) has not reaped yet.
fn has_exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_moto_says_where_it_looked_and_what_to_run() {
        let Err(error) = Moto::start(Path::new("/nonexistent/moto_server")) else {
            panic!("started a moto that does not exist");
        };
        let message = error.to_string();
        assert!(message.contains("/nonexistent/moto_server"), "{message}");
        assert!(message.contains("make"), "{message}");
    }

    #[test]
    fn dropping_moto_stops_the_server() {
        // A stand-in server: anything that listens on the port it is given.
        let (_dir, fake) = crate::test_support::executable(
            "moto_server",
            "#!/bin/sh\nexec python3 -c 'import socket,sys,time; s=socket.socket(); s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(); time.sleep(600)' \"$4\"\n",
        );
        let moto = Moto::start(&fake).unwrap();
        let pid = moto.pid.unwrap();
        let log = moto.log.clone();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        assert!(log.exists(), "no log at {}", log.display());
        drop(moto);
        assert!(!log.exists(), "{} outlived its server", log.display());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !has_exited(pid) {
            assert!(Instant::now() < deadline, "the server outlived its Moto");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_moto_that_exits_at_start_is_reported_at_once_with_its_log_kept() {
        let (_dir, fake) = crate::test_support::executable(
            "moto_server",
            "#!/bin/sh\necho 'ImportError: no module named moto' >&2\nexit 1\n",
        );
        let started = Instant::now();
        let Err(error) = Moto::start(&fake) else {
            panic!("a server that exits was taken as started");
        };
        assert!(started.elapsed() < Duration::from_secs(10), "{error}");
        let message = error.to_string();
        assert!(message.contains("exited before it listened"), "{message}");
        let log = message.rsplit_once("its output is in ").unwrap().1;
        let output = std::fs::read_to_string(log).unwrap();
        assert!(output.contains("ImportError"), "{output}");
        std::fs::remove_file(log).unwrap();
    }
}
