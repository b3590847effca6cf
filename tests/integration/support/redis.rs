//! A real `redis-server` per test, in a directory of its own, with nothing saved to disk.
//!
//! It listens on a unix socket in that directory, whose path no other test can take, so it can
//! be killed and started again at the same address ([`url`](RedisServer::url)); and on a free
//! loopback port too ([`tcp_url`](RedisServer::tcp_url), a fresh port after each restart), so
//! the TCP path is tested where a test needs no restart. Ready when it says so and answers
//! `PING` (no sleeps), stopped by its PID when dropped; paused and resumed by signals, so a
//! test decides how long Redis hangs. The blocking parts (starting it, raw
//! commands, signals) run on Tokio's blocking pool, so they never stall a test's runtime.
//! `scripts/test` installs `redis-server` (Debian's package) when it is missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How long a server may take to say it is ready, or a command to answer.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// How many fresh ports a start tries before giving up (another process may take a free port
/// between the moment it is picked and the server binding it).
const PORT_ATTEMPTS: usize = 5;

pub struct RedisServer {
    /// The loopback port of the current run.
    port: u16,
    dir: PathBuf,
    socket: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server in a fresh directory.
    pub async fn start() -> RedisServer {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        // Short: a unix socket's path has a limit of about 100 bytes.
        let dir = std::env::temp_dir().join(format!(
            "twss-redis-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("a directory for redis");
        let mut server = RedisServer {
            port: 0,
            socket: dir.join("redis.sock"),
            dir,
            child: None,
        };
        server.restart().await;
        server
    }

    /// `redis+unix://<dir>/redis.sock?db=0`: the same across restarts.
    pub fn url(&self) -> String {
        format!("redis+unix://{}?db=0", self.socket.display())
    }

    /// `redis://127.0.0.1:<port>/0`: valid until the next restart, which picks another port.
    pub fn tcp_url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (SIGKILL, by PID): every connection drops, nothing is saved.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Starts the server again at the same socket (empty: nothing was saved).
    pub async fn restart(&mut self) {
        self.kill();
        let (dir, socket) = (self.dir.clone(), self.socket.clone());
        let (child, port) = tokio::task::spawn_blocking(move || launch(&dir, &socket))
            .await
            .expect("redis-server starts");
        self.child = Some(child);
        self.port = port;
        assert_eq!(self.command(&["PING"]).await, "+PONG");
    }

    /// Sends one command over the socket and returns the first line of the reply.
    pub async fn command(&self, args: &[&str]) -> String {
        let socket = self.socket.clone();
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        tokio::task::spawn_blocking(move || command(&socket, &args))
            .await
            .expect("the command's thread")
    }

    /// Runs `commands` in one `MULTI` on one connection: what one command does, the next one
    /// sees done, and no client gets in between. The replies of the `EXEC`, one line each.
    pub async fn transaction(&self, commands: &[&[&str]]) -> Vec<String> {
        let socket = self.socket.clone();
        let commands: Vec<Vec<String>> = commands
            .iter()
            .map(|args| args.iter().map(|arg| (*arg).to_owned()).collect())
            .collect();
        tokio::task::spawn_blocking(move || transaction(&socket, &commands))
            .await
            .expect("the transaction's thread")
    }

    /// Stops the server (SIGSTOP, by PID): connections stay open and every command waits,
    /// for as long as the test wants, until [`resume`](Self::resume). A Redis that hangs.
    pub async fn pause(&self) {
        self.signal("-STOP").await;
    }

    /// Lets a [paused](Self::pause) server go on (SIGCONT): it answers what waited.
    pub async fn resume(&self) {
        self.signal("-CONT").await;
    }

    async fn signal(&self, signal: &'static str) {
        let pid = self
            .child
            .as_ref()
            .expect("a running server")
            .id()
            .to_string();
        let status =
            tokio::task::spawn_blocking(move || Command::new("kill").args([signal, &pid]).status())
                .await
                .expect("the signal's thread")
                .expect("kill runs");
        assert!(status.success(), "kill {signal} failed");
    }
}

/// Starts `redis-server` on the socket and a free port; the child and its port once it says it
/// is ready. Blocking.
fn launch(dir: &Path, socket: &Path) -> (Child, u16) {
    for _ in 0..PORT_ATTEMPTS {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--unixsocket")
            .arg(socket)
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/test installs it)");
        // Ready when it says so: a thread reads its log and reports the line. If the server
        // exits first (the port was taken meanwhile), its log ends and the channel says so.
        let stdout = child.stdout.take().expect("redis-server's stdout");
        let (ready, said) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if line
                    .to_ascii_lowercase()
                    .contains("ready to accept connections")
                {
                    ready.send(()).ok();
                }
            }
        });
        match said.recv_timeout(READY_WITHIN) {
            Ok(()) => return (child, port),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                child.wait().ok();
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                child.kill().ok();
                child.wait().ok();
                panic!("redis-server did not say it was ready within {READY_WITHIN:?}");
            }
        }
    }
    panic!("redis-server could not bind a free port in {PORT_ATTEMPTS} attempts");
}

/// Sends one command in RESP over `socket` and returns the first line of the reply. Blocking.
fn command(socket: &Path, args: &[String]) -> String {
    let mut stream = connect(socket);
    stream.write_all(&request(args)).unwrap();
    line(&mut stream)
}

/// `MULTI`, `commands`, `EXEC` over `socket`; the `EXEC`'s replies (simple ones: a line each).
/// Blocking.
fn transaction(socket: &Path, commands: &[Vec<String>]) -> Vec<String> {
    let mut stream = connect(socket);
    let mut bytes = request(&["MULTI".to_owned()]);
    for args in commands {
        bytes.extend(request(args));
    }
    bytes.extend(request(&["EXEC".to_owned()]));
    stream.write_all(&bytes).unwrap();
    assert_eq!(line(&mut stream), "+OK", "MULTI");
    for args in commands {
        assert_eq!(line(&mut stream), "+QUEUED", "{args:?}");
    }
    let exec = line(&mut stream);
    let count: usize = exec
        .strip_prefix('*')
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("EXEC answered {exec}"));
    (0..count).map(|_| line(&mut stream)).collect()
}

fn connect(socket: &Path) -> UnixStream {
    let stream = UnixStream::connect(socket).expect("redis answers");
    stream.set_read_timeout(Some(READY_WITHIN)).unwrap();
    stream
}

/// One command in RESP.
fn request(args: &[String]) -> Vec<u8> {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    request.into_bytes()
}

/// One line of a reply, without its `\r\n`.
fn line(stream: &mut UnixStream) -> String {
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        reply.push(byte[0]);
    }
    String::from_utf8_lossy(&reply).trim_end().to_owned()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
