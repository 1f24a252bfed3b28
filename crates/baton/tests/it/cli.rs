//! The `baton` binary as an operator uses it: its commands, their JSON output,
//! exit codes and configuration through the environment.
//!
//! Every test runs the real binary (`CARGO_BIN_EXE_baton`) on a fresh data
//! folder with no inherited `BATON_*` variable. Tests that also make sense on
//! PostgreSQL run there too when `BATON_TEST_POSTGRES_URL` is set.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Connection;

use crate::common;
use common::{free_port, TempDir};

// ---------------------------------------------------------------- helpers

/// `baton` on `data_dir` with no inherited `BATON_*` configuration.
fn baton(data_dir: &Path) -> Command {
    common::baton_command(data_dir, None)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run baton")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// What `baton agency create --json` printed.
struct Agency {
    id: String,
    email: String,
    password: String,
    token: String,
}

fn create_agency(cmd: &mut Command, name: &str, email: &str) -> Agency {
    let stdout = ok(cmd.args([
        "agency",
        "create",
        "--name",
        name,
        "--admin-email",
        email,
        "--json",
    ]));
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("agency create --json printed non-JSON ({e}): {stdout}"));
    let field = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("agency create --json lacks {k:?}: {v}"))
            .to_string()
    };
    Agency {
        id: field("agency_id"),
        email: field("admin_email"),
        password: field("admin_password"),
        token: field("api_token"),
    }
}

/// A running `baton serve`, killed on drop if still running.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `cmd` (a `baton` command without its subcommand) as `serve`
    /// listening on `port`, and waits for `/healthz`.
    async fn start(mut cmd: Command, port: u16, log: PathBuf) -> Server {
        let child = cmd
            .arg("serve")
            .env("BATON_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn baton serve");
        let mut s = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!("baton serve exited early with {status}:\n{}", s.log_text());
            }
            if let Ok(r) = http.get(format!("{}/healthz", s.base)).send().await {
                if r.status().is_success() {
                    return s;
                }
            }
            assert!(
                Instant::now() < deadline,
                "baton serve did not answer /healthz within 60 s:\n{}",
                s.log_text()
            );
            // A child process starting: polled until the deadline above.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: libc::c_int) {
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.child.id());
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

fn postgres_configured() -> bool {
    std::env::var(baton_store::testing::POSTGRES_ENV).is_ok_and(|v| !v.trim().is_empty())
}

async fn sqlite_conn(file: &Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("open the SQLite file directly")
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn agency_create_and_token_create_print_working_credentials() {
    let dir = TempDir::new("agency");
    let a = create_agency(
        &mut baton(dir.path()),
        "Northwind Social",
        "Admin@Northwind.test",
    );
    assert!(a.id.starts_with("agy_"), "agency id {}", a.id);
    assert_eq!(a.email, "admin@northwind.test", "emails are normalised");
    assert!(a.password.len() >= 10, "admin password too short");
    assert!(a.token.starts_with("bt_"), "api token {}", a.token);

    let stdout = ok(baton(dir.path()).args([
        "token",
        "create",
        "--member",
        "admin@northwind.test",
        "--scope",
        "read",
        "--json",
    ]));
    let t: Value = serde_json::from_str(stdout.trim()).expect("token create --json");
    let read_token = t["token"].as_str().expect("token").to_string();
    assert!(read_token.starts_with("bt_"));
    assert_ne!(read_token, a.token);

    let out = run(baton(dir.path()).args(["token", "create", "--member", "nobody@x.test"]));
    assert!(!out.status.success(), "a token for an unknown member");
    assert!(text(&out.stderr).contains("nobody@x.test"));

    let port = free_port();
    let server = Server::start(baton(dir.path()), port, dir.path().join("serve.log")).await;
    let http = reqwest::Client::new();
    // The agency token has admin scope: it may add a member.
    let r = http
        .post(format!("{}/api/v1/members", server.base))
        .bearer_auth(&a.token)
        .json(&json!({"email": "leo@northwind.test", "name": "Leo", "roles": ["project_manager"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "admin token adds a member");
    // The same policy as the web app and the API: a token never gives more
    // than its member may do, so only admins hold admin-scoped tokens.
    let out = run(baton(dir.path()).args([
        "token",
        "create",
        "--member",
        "leo@northwind.test",
        "--scope",
        "admin",
    ]));
    assert!(!out.status.success(), "an admin token for a non-admin");
    assert!(
        text(&out.stderr).contains("only agency admins"),
        "{}",
        text(&out.stderr)
    );
    ok(baton(dir.path()).args([
        "token",
        "create",
        "--member",
        "leo@northwind.test",
        "--scope",
        "write",
    ]));
    let r = http
        .get(format!("{}/api/v1/agency", server.base))
        .bearer_auth(&read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let agency: Value = r.json().await.unwrap();
    assert_eq!(agency["id"], a.id.as_str());
    assert_eq!(agency["name"], "Northwind Social");
    // …and the read-scoped one may not write.
    let r = http
        .post(format!("{}/api/v1/clients", server.base))
        .bearer_auth(&read_token)
        .json(&json!({"name": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "read token cannot write");
}

#[test]
fn bad_configuration_exits_2_with_one_line() {
    let dir = TempDir::new("badcfg");
    for (var, value) in [
        ("BATON_LISTEN", "nonsense"),
        ("BATON_LOG_FORMAT", "xml"),
        ("BATON_DATABASE_URL", "mysql://x"),
        ("BATON_PUBLIC_URL", "ftp://x"),
        ("BATON_SECRET_KEY", "short"),
        // SMTP needs both the URL and the sender
        ("BATON_SMTP_URL", "smtp://127.0.0.1:25"),
        ("BATON_SMTP_FROM", "Baton <baton@agency.example>"),
        ("BATON_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("BATON_TRUSTED_PROXIES", "proxy.internal"),
        ("BATON_METRICS_TOKEN", "short"),
        ("BATON_DB_POOL", "0"),
        ("BATON_DB_POOL", "many"),
        ("BATON_DNS_SERVER", "dns.example.com"),
    ] {
        let out = run(baton(dir.path()).env(var, value).arg("serve"));
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{var}={value}: exit code {:?}, stderr {err}",
            out.status.code()
        );
        let err = err.trim_end();
        assert!(
            !err.is_empty() && !err.contains('\n'),
            "{var}={value}: the error must be one line, got:\n{err}"
        );
        assert!(
            err.contains(var),
            "{var}={value}: error does not name {var}: {err}"
        );
    }
    // The same rules hold for the TOML file.
    let file = dir.path().join("baton.toml");
    std::fs::write(&file, "listen = \"nonsense\"\n").unwrap();
    let out = run(baton(dir.path()).arg("--config").arg(&file).arg("serve"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim_end().lines().count(), 1);
    // Both set, but the URL is not SMTP; the password never reaches the output.
    let out = run(baton(dir.path())
        .env("BATON_SMTP_URL", "ftp://user:hunter2@mail.example")
        .env("BATON_SMTP_FROM", "baton@agency.example")
        .arg("serve"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("BATON_SMTP_URL") && !err.contains("hunter2"),
        "{err}"
    );
}

/// `baton serve` honours BATON_DATABASE_URL, BATON_LISTEN, BATON_PUBLIC_URL
/// and BATON_DATA_DIR, and builds links from the public URL.
async fn serve_honours_environment(database_url: &str, dir: &TempDir) {
    let public_url = "https://ops.northwind.example";
    let with_env = || {
        let mut c = baton(dir.path());
        c.env("BATON_DATABASE_URL", database_url)
            .env("BATON_PUBLIC_URL", public_url);
        c
    };
    let a = create_agency(&mut with_env(), "Env Agency", "env@northwind.test");
    let port = free_port();
    let server = Server::start(with_env(), port, dir.path().join("serve.log")).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/members", server.base))
        .bearer_auth(&a.token)
        .json(&json!({"email": "ana@northwind.test", "name": "Ana Ortiz", "roles": ["strategist"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let m: Value = r.json().await.unwrap();
    let invite = m["invite_url"].as_str().expect("invite_url");
    assert!(
        invite.starts_with(&format!("{public_url}/")),
        "invite_url {invite} is not built from BATON_PUBLIC_URL"
    );
    // Never from the Host header.
    let r = http
        .post(format!("{}/api/v1/members", server.base))
        .bearer_auth(&a.token)
        .header("host", "evil.example")
        .json(&json!({"email": "bo@northwind.test", "name": "Bo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let m: Value = r.json().await.unwrap();
    assert!(m["invite_url"].as_str().unwrap().starts_with(public_url));
    // The generated secret key lives in the data dir, readable by the owner only.
    let key = dir.path().join("secret.key");
    assert!(key.exists(), "secret.key not generated in BATON_DATA_DIR");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "secret.key mode {mode:o}");
    }
}

#[tokio::test]
async fn serve_honours_environment_on_sqlite() {
    let dir = TempDir::new("env");
    let elsewhere = TempDir::new("env-db");
    let file = elsewhere.path().join("nested").join("agency.db");
    serve_honours_environment(&format!("sqlite://{}", file.display()), &dir).await;
    assert!(file.exists(), "BATON_DATABASE_URL's file was not used");
    assert!(
        !dir.path().join("baton.db").exists(),
        "the default database was created despite BATON_DATABASE_URL"
    );

    // Without BATON_DATABASE_URL the database is <data dir>/baton.db.
    let dir2 = TempDir::new("env-default");
    create_agency(&mut baton(dir2.path()), "Default", "d@northwind.test");
    assert!(dir2.path().join("baton.db").exists());
}

#[tokio::test]
async fn serve_honours_environment_on_postgres() {
    if !postgres_configured() {
        eprintln!("skipped: {} is not set", baton_store::testing::POSTGRES_ENV);
        return;
    }
    let test_db = baton_store::testing::TestDb::new().await;
    let dir = TempDir::new("env-pg");
    serve_honours_environment(&test_db.url, &dir).await;
    assert!(
        !dir.path().join("baton.db").exists(),
        "an SQLite file was created although BATON_DATABASE_URL names PostgreSQL"
    );
    test_db.cleanup().await;
}

#[tokio::test]
async fn demo_is_idempotent() {
    let dir = TempDir::new("demo");
    let first = ok(baton(dir.path()).arg("demo"));
    let second = ok(baton(dir.path()).arg("demo"));
    for out in [&first, &second] {
        assert!(
            out.contains("maya@northwind.example") && out.contains("northwind-demo"),
            "demo must print the login:\n{out}"
        );
        assert!(out.contains("bt_"), "demo must print an API token:\n{out}");
    }
    let token = |out: &str| {
        out.split_whitespace()
            .find(|w| w.starts_with("bt_"))
            .unwrap()
            .to_string()
    };
    assert_ne!(
        token(&first),
        token(&second),
        "each run prints a fresh token"
    );

    let mut conn = sqlite_conn(&dir.path().join("baton.db")).await;
    let agencies: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM agencies")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(agencies.len(), 1, "demo twice made {agencies:?}");
    assert_eq!(agencies[0].1, "Northwind Social");
    let (clients,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM clients")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let (members,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM members")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        clients >= 5,
        "demo seeds clients at every stage ({clients})"
    );
    drop(conn);

    // A third run still keeps one agency and the same rows, and its token works.
    let third = ok(baton(dir.path()).arg("demo"));
    let mut conn = sqlite_conn(&dir.path().join("baton.db")).await;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM agencies), (SELECT COUNT(*) FROM clients), (SELECT COUNT(*) FROM members)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(counts, (1, clients, members));
    drop(conn);
    let server = Server::start(baton(dir.path()), free_port(), dir.path().join("serve.log")).await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/clients", server.base))
        .bearer_auth(token(&third))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len() as i64, clients);
    ok(baton(dir.path()).args(["audit", "verify"]));
}

#[tokio::test]
async fn audit_verify_detects_an_altered_entry() {
    let dir = TempDir::new("audit-alter");
    create_agency(&mut baton(dir.path()), "Audit Agency", "a@audit.test");
    let out = ok(baton(dir.path()).args(["audit", "verify"]));
    assert!(out.contains("intact"), "{out}");

    let mut conn = sqlite_conn(&dir.path().join("baton.db")).await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        n >= 2,
        "agency create writes at least two audit entries ({n})"
    );
    let changed = sqlx::query("UPDATE audit_log SET detail = '{\"tampered\":true}' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 1);
    drop(conn);

    let out = run(baton(dir.path()).args(["audit", "verify"]));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "tampering went unnoticed:\n{all}");
    assert!(all.contains("#2"), "the report must name entry #2:\n{all}");
}

#[tokio::test]
async fn audit_verify_detects_a_removed_newest_entry() {
    let dir = TempDir::new("audit-remove");
    create_agency(&mut baton(dir.path()), "Audit Agency", "a@audit.test");
    ok(baton(dir.path()).args(["token", "create", "--member", "a@audit.test"]));
    ok(baton(dir.path()).args(["audit", "verify"]));

    let mut conn = sqlite_conn(&dir.path().join("baton.db")).await;
    let (newest,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(newest)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);

    let out = run(baton(dir.path()).args(["audit", "verify"]));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !out.status.success(),
        "a removed entry went unnoticed:\n{all}"
    );
    assert!(
        all.contains(&format!("#{newest}")),
        "the report must name entry #{newest}:\n{all}"
    );
}

#[tokio::test]
async fn backup_while_serving_is_a_working_database() {
    let dir = TempDir::new("backup");
    let a = create_agency(&mut baton(dir.path()), "Backup Agency", "b@backup.test");
    let server = Server::start(baton(dir.path()), free_port(), dir.path().join("serve.log")).await;
    let http = reqwest::Client::new();
    let mut names = Vec::new();
    for i in 0..12 {
        let name = format!("Client {i:02}");
        let r = http
            .post(format!("{}/api/v1/clients", server.base))
            .bearer_auth(&a.token)
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        names.push(name);
    }
    // Back up while writes are still coming in.
    let base = server.base.clone();
    let token = a.token.clone();
    let writes = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for i in 0..20 {
            let _ = http
                .post(format!("{base}/api/v1/clients"))
                .bearer_auth(&token)
                .json(&json!({"name": format!("Later {i}")}))
                .send()
                .await;
        }
    });
    let backup = dir.path().join("copy").join("backup.db");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    let out = ok(baton(dir.path()).arg("backup").arg(&backup));
    assert!(out.contains("backup written"), "{out}");
    writes.await.unwrap();
    let again = run(baton(dir.path()).arg("backup").arg(&backup));
    assert!(
        !again.status.success(),
        "backup must refuse to overwrite a file"
    );
    drop(server);

    // The copy opens as a Baton database with the clients.
    let url = format!("sqlite://{}", backup.display());
    let db = baton_store::Db::open(&url).await.expect("open the backup");
    let page = baton_store::clients::list(&db, &a.id, None, None, Some(200))
        .await
        .unwrap();
    let got: Vec<&str> = page.items.iter().map(|c| c.name.as_str()).collect();
    for n in &names {
        assert!(got.contains(&n.as_str()), "{n} missing from the backup");
    }
    db.close().await;
    ok(baton(dir.path())
        .env("BATON_DATABASE_URL", &url)
        .args(["audit", "verify"]));
}

#[tokio::test]
async fn serve_exits_0_promptly_on_sigterm() {
    let dir = TempDir::new("sigterm");
    create_agency(&mut baton(dir.path()), "Term Agency", "t@term.test");
    let mut server =
        Server::start(baton(dir.path()), free_port(), dir.path().join("serve.log")).await;
    // A keep-alive connection is open while the signal arrives.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let sent = Instant::now();
    server.signal(libc::SIGTERM);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "baton serve still running 10 s after SIGTERM:\n{}",
            server.log_text()
        );
        // Shutdown of a child process: polled until the 10 s deadline.
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        status.success(),
        "baton serve exited with {status} on SIGTERM:\n{}",
        server.log_text()
    );
    eprintln!("baton serve stopped {:?} after SIGTERM", sent.elapsed());
}
