//! Test support: the whole application spawned on a random local port over a
//! fresh database (SQLite, or PostgreSQL when `BATON_TEST_POSTGRES_URL` is
//! set), with one agency, its admin and an admin API token ready to use.
//! Uploaded files go to the test database's folder, or, when
//! `BATON_TEST_S3_ENDPOINT` is set, to a fresh prefix of the bucket
//! [`S3_BUCKET`] on that S3-compatible server. Used by this crate's
//! integration tests and the CLI's.

use std::sync::Arc;

use baton_core::clock::{Clock, ManualClock, SystemClock};
use baton_store::agencies::{self, NewAgency};
use baton_store::members::Member;
use baton_store::testing::TestDb;
use baton_store::tokens::{self, Scope};
use baton_store::{Actor, Cx};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::{AppState, ServerConfig};

/// An agency made for a test: its id, admin (with password) and admin token.
#[derive(Debug, Clone)]
pub struct TestAgency {
    pub id: baton_core::types::AgencyId,
    pub admin: Member,
    pub admin_password: String,
    pub token: String,
}

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub state: AppState,
    pub agency: TestAgency,
    test_db: Option<TestDb>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// The environment variable naming a local S3-compatible server
/// (`http://127.0.0.1:PORT`) for the file tests.
pub const S3_ENV: &str = "BATON_TEST_S3_ENDPOINT";

/// The bucket the file tests use on that server (the CI script creates it).
pub const S3_BUCKET: &str = "baton-test";

/// Object storage on the test S3 server under a prefix of its own, when
/// [`S3_ENV`] is set.
pub fn test_object_store() -> Option<crate::file_store::FileStore> {
    let endpoint = std::env::var(S3_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())?;
    let prefix = format!(
        "t{}",
        &baton_core::secret::random_token()[..16].to_ascii_lowercase()
    );
    let builder = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint.trim())
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("baton-test")
        .with_secret_access_key("baton-test-secret");
    let store = crate::file_store::FileStore::s3(&format!("s3://{S3_BUCKET}/{prefix}"), builder)
        .expect("test object storage settings");
    Some(store)
}

/// The password every test agency's admin gets.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Spawns the app on the wall clock.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with_clock(Arc::new(SystemClock)).await
    }

    /// Spawns the app on a manual clock starting at `now_ms`.
    pub async fn spawn_at(now_ms: i64) -> (TestApp, ManualClock) {
        let clock = ManualClock::new(now_ms);
        (
            TestApp::spawn_with_clock(Arc::new(clock.clone())).await,
            clock,
        )
    }

    pub async fn spawn_with_clock(clock: Arc<dyn Clock>) -> TestApp {
        TestApp::spawn_with_config(clock, |_| {}).await
    }

    /// Spawns the app after `configure` adjusted its configuration (SMTP, …).
    pub async fn spawn_with_config(
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestApp {
        init_logs();
        let test_db = TestDb::new().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let mut config = ServerConfig::for_url(&address, test_db.dir.clone());
        config.body_limit = 1024 * 1024;
        // A test says when background work happens (`drain_outbox`,
        // `tick_scheduler`); a test of the loops turns them back on.
        config.background_jobs = false;
        if let Some(files) = test_object_store() {
            config.files = files;
        }
        configure(&mut config);
        let state = AppState::with_clock(test_db.db.clone(), config, clock);
        let agency = create_agency(&state, "Northwind Social", "admin@northwind.test").await;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let _ = crate::serve(server_state, listener, async {
                let _ = stop_rx.await;
            })
            .await;
        });
        TestApp {
            address,
            state,
            agency,
            test_db: Some(test_db),
            stop: Some(stop_tx),
            server: Some(server),
        }
    }

    /// Another agency in the same database (for tenant-isolation tests).
    pub async fn other_agency(&self, email: &str) -> TestAgency {
        create_agency(&self.state, "Rival Agency", email).await
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Runs the background passes (outbox jobs, reminders, link expiry,
    /// webhook and channel deliveries)
    /// until none finds anything due, as the worker loop would. Jobs that
    /// fail are rescheduled for later and not retried here.
    pub async fn drain_outbox(&self) {
        for _ in 0..100 {
            let jobs = crate::worker::run_once(&self.state)
                .await
                .expect("outbox pass");
            let reminders = crate::reminders::run_once(&self.state)
                .await
                .expect("reminder pass");
            let expired = crate::worker::expire_links(&self.state)
                .await
                .expect("link expiry pass");
            let sent = crate::integrations::deliver::run_once(&self.state)
                .await
                .expect("delivery pass");
            if jobs + reminders + expired + sent == 0 {
                return;
            }
        }
        panic!("the outbox never went idle in 100 passes");
    }

    /// One pass of the SLA scheduler at the app's clock (escalations due now).
    pub async fn tick_scheduler(&self) -> crate::scheduler::Tick {
        crate::scheduler::tick(&self.state)
            .await
            .expect("scheduler pass")
    }

    /// Stops this server (its loops finish their pass) and starts a new one
    /// on the same database with the same configuration (and server key),
    /// adjusted by `configure`: a restart, as after a crash or a deploy.
    /// The new server listens on a new port.
    pub async fn restart(mut self, configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let mut config = self.state.config.clone();
        config.public_url = address.clone();
        configure(&mut config);
        let state = AppState::with_clock(self.state.db.clone(), config, self.state.clock.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let _ = crate::serve(server_state, listener, async {
                let _ = stop_rx.await;
            })
            .await;
        });
        TestApp {
            address,
            state,
            agency: self.agency.clone(),
            test_db: self.test_db.take(),
            stop: Some(stop_tx),
            server: Some(server),
        }
    }

    /// Stops the server and removes the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(db) = self.test_db.take() {
            db.cleanup().await;
        }
    }
}

/// Creates an agency with an admin whose password is [`ADMIN_PASSWORD`] and
/// an admin-scoped token.
pub async fn create_agency(state: &AppState, name: &str, admin_email: &str) -> TestAgency {
    let now = state.now();
    let hash = crate::auth::password::hash_async(ADMIN_PASSWORD.to_string()).await;
    let (agency, admin) = agencies::create(
        &state.db,
        &Actor::cli(),
        now,
        NewAgency {
            name: name.into(),
            timezone: None,
            admin_email: admin_email.into(),
            admin_name: "Test Admin".into(),
            admin_password_hash: hash,
        },
    )
    .await
    .expect("create test agency");
    let (_, token) = tokens::create(
        Cx::new(&state.db, &admin.agency_id, &Actor::cli(), now),
        &admin,
        "test",
        Scope::Admin,
    )
    .await
    .expect("create test token");
    TestAgency {
        id: agency.id,
        admin,
        admin_password: ADMIN_PASSWORD.into(),
        token,
    }
}

/// Messages (the DATA part, one string each) a [`fake_smtp`] relay took.
pub type Inbox = Arc<std::sync::Mutex<Vec<String>>>;

/// A minimal SMTP relay on 127.0.0.1: enough of RFC 5321 for one client per
/// connection. It keeps each message it takes, then waits `delay` before
/// answering `250` (the window where a sender that dies has sent an email
/// it has not yet marked as sent). Returns its port and what it took.
pub async fn fake_smtp(delay: std::time::Duration) -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    fake_smtp_on(listener, delay)
}

/// [`fake_smtp`] on a listener already bound (to a port chosen earlier).
pub fn fake_smtp_on(listener: TcpListener, delay: std::time::Duration) -> (u16, Inbox) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let port = listener.local_addr().expect("addr").port();
    let inbox: Inbox = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let inbox = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.ok();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            inbox.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            tokio::time::sleep(delay).await;
                            write.write_all(b"250 queued\r\n").await.ok();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, inbox)
}

/// The server's warnings and errors (a 500's cause) go through the test
/// harness's output capture: shown with a failing test, silent otherwise.
/// `BATON_TEST_LOG` (an env filter such as `baton_store=debug`) asks for more.
fn init_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = std::env::var("BATON_TEST_LOG").unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .try_init();
    });
}
