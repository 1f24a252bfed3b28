//! Helpers shared by the CLI, crash and browser tests, which all drive the
//! real `baton` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A temporary folder, removed on drop unless the test failed (its logs stay).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "baton-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A port that was free a moment ago, and not handed out before in this
/// process (tests running in parallel each get their own).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// `baton` with only the configuration given here (no inherited `BATON_*`).
pub fn baton_command(data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baton"));
    for (k, _) in std::env::vars() {
        if k.starts_with("BATON_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("BATON_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        cmd.env("BATON_DATABASE_URL", url);
    }
    cmd
}

/// A `baton serve` process on a port of its own.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    pub async fn start(data_dir: &Path, database_url: Option<&str>, log_name: &str) -> Server {
        Server::start_with(data_dir, database_url, log_name, &[]).await
    }

    /// [`Server::start`] with more environment (`BATON_SECRET_KEY`, …).
    pub async fn start_with(
        data_dir: &Path,
        database_url: Option<&str>,
        log_name: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let log = data_dir.join(log_name);
        let mut cmd = baton_command(data_dir, database_url);
        cmd.envs(env.iter().copied());
        let child = cmd
            .arg("serve")
            .env("BATON_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn baton serve");
        let mut server = Server { child, base, log };
        server.wait_healthy().await;
        server
    }

    pub async fn wait_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "baton serve exited early with {status}:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "baton serve did not answer /healthz within 60 s:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            // A child process starting: polled until the deadline above.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `sig` (SIGSTOP freezes the process, SIGCONT wakes it).
    pub fn signal(&self, sig: libc::c_int) {
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    /// SIGKILL: no shutdown code runs.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL baton serve");
        self.child.wait().expect("reap baton serve");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
