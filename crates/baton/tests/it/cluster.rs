//! Several `baton serve` processes on one PostgreSQL database, each with
//! its own data directory, as a deployment behind a load balancer runs them:
//! - the SLA scheduler's leader is frozen (SIGSTOP) and another server
//!   escalates a due run within 15 s; when the frozen leader wakes up it
//!   writes nothing (its lease's fencing token is gone);
//! - three servers run the reminder pass over the same due links: each
//!   reminder, and each stop of a schedule, is written once;
//! - a server is killed (SIGKILL) halfway through a batch of emails to a
//!   slow relay: another server sends the rest no later than the outbox
//!   lease, and no email goes out more than twice (at most the one in
//!   flight at the kill, with the same `Message-ID`);
//! - with object storage (`BATON_STORAGE_URL`), a draft uploaded through
//!   one server downloads, ranged, through the other.
//!
//! PostgreSQL only: SQLite is one process's database. The object-storage
//! test also needs `BATON_TEST_S3_ENDPOINT` (`.ci/s3-files.sh` sets it).

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::common;
use common::{baton_command as baton, Server, TempDir};

async fn json_of(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const SECRET: &str = "cluster-test-secret-key-0123456789abcdef";

/// A fresh PostgreSQL database with one agency, and a folder for the
/// servers' data directories and logs.
struct Cluster {
    test_db: baton_store::testing::TestDb,
    dir: TempDir,
    token: String,
    http: reqwest::Client,
}

impl Cluster {
    /// `None` (and a line saying so) without PostgreSQL.
    async fn new(tag: &str) -> Option<Cluster> {
        if !std::env::var(baton_store::testing::POSTGRES_ENV).is_ok_and(|v| !v.trim().is_empty()) {
            eprintln!(
                "skipped: {} is not set (several servers need PostgreSQL)",
                baton_store::testing::POSTGRES_ENV
            );
            return None;
        }
        let test_db = baton_store::testing::TestDb::new().await;
        let dir = TempDir::new(tag);
        let out = baton(&dir.0, Some(&test_db.url))
            .env("BATON_SECRET_KEY", SECRET)
            .args([
                "agency",
                "create",
                "--name",
                "Cluster Agency",
                "--admin-email",
                "ops@cluster.test",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let created: Value = serde_json::from_slice(&out.stdout).unwrap();
        let token = created["api_token"].as_str().unwrap().to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Some(Cluster {
            test_db,
            dir,
            token,
            http,
        })
    }

    /// A server named `name`, with a data directory of its own.
    async fn server(&self, name: &str, env: &[(&str, &str)]) -> Server {
        let data = self.dir.0.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let mut all = vec![("BATON_SECRET_KEY", SECRET)];
        all.extend_from_slice(env);
        Server::start_with(&data, Some(&self.test_db.url), &format!("{name}.log"), &all).await
    }

    async fn post(&self, s: &Server, path: &str, body: Value) -> Value {
        json_of(
            self.http
                .post(format!("{}/api/v1{path}", s.base))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await
                .unwrap(),
            path,
        )
        .await
    }

    async fn get(&self, s: &Server, path: &str) -> Value {
        json_of(
            self.http
                .get(format!("{}/api/v1{path}", s.base))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
            path,
        )
        .await
    }

    /// A statement straight on the database, behind the servers' backs.
    async fn sql(&self, statement: &str) -> u64 {
        sqlx::query(statement)
            .execute(self.test_db.db.reader())
            .await
            .unwrap()
            .rows_affected()
    }

    async fn count(&self, query: &str) -> i64 {
        sqlx::query_scalar(query)
            .fetch_one(self.test_db.db.reader())
            .await
            .unwrap()
    }

    /// `n` clients, each with an onboarding link asking for one required
    /// request (and naming `contact`, when given, as who gets reminders).
    async fn links(&self, s: &Server, n: usize, contact: Option<&str>) -> Vec<String> {
        let mut links = Vec::new();
        for i in 0..n {
            let client = self
                .post(s, "/clients", json!({"name": format!("Client {i:02}")}))
                .await["id"]
                .as_str()
                .unwrap()
                .to_string();
            let mut body = json!({"requests": [{"platform": "meta_page"}]});
            if let Some(c) = contact {
                body["contact_email"] = json!(c.replace('@', &format!("+{i}@")));
            }
            let link = self
                .post(s, &format!("/clients/{client}/onboarding-links"), body)
                .await;
            links.push(link["id"].as_str().unwrap().to_string());
        }
        links
    }

    async fn audited(&self, action: &str) -> i64 {
        self.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
        ))
        .await
    }

    async fn cleanup(self) {
        let Cluster { test_db, dir, .. } = self;
        test_db.cleanup().await;
        drop(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_pg),
    ignore = "PostgreSQL not configured: several servers need it; set BATON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn a_frozen_scheduler_leader_is_replaced_within_15_s_and_wakes_up_powerless() {
    let Some(cluster) = Cluster::new("cluster-failover").await else {
        return;
    };
    let token = cluster.token.clone();
    let http = cluster.http.clone();

    // The first server becomes the scheduler's leader; then a second starts.
    let a = cluster.server("a", &[]).await;
    let b = cluster.server("b", &[]).await;

    // An SOP whose SLA is a minute (at risk) to two (breached).
    let api = |base: &str, path: &str| format!("{base}/api/v1{path}");
    let mut sop = json_of(
        http.get(api(&b.base, "/sops/access_setup"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        "sop",
    )
    .await;
    let obj = sop.as_object_mut().unwrap();
    for k in [
        "key",
        "sla_text",
        "version",
        "customized",
        "default",
        "changed_by",
        "changed_at",
    ] {
        obj.remove(k);
    }
    obj.insert(
        "sla".into(),
        json!({"unit": "hours", "target": 1.0 / 60.0, "limit": 2.0 / 60.0}),
    );
    obj.insert("reason".into(), json!("failover test"));
    json_of(
        http.put(api(&b.base, "/sops/access_setup"))
            .bearer_auth(&token)
            .json(&sop)
            .send()
            .await
            .unwrap(),
        "short SLA",
    )
    .await;
    let client = json_of(
        http.post(api(&b.base, "/clients"))
            .bearer_auth(&token)
            .json(&json!({"name": "Failover"}))
            .send()
            .await
            .unwrap(),
        "client",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Freeze the leader (it holds the lease: it started first and has been
    // renewing it every second), then start a run that comes due 8 s later.
    a.signal(libc::SIGSTOP);
    let frozen_at = Instant::now();
    let started_at = baton_core::clock::rfc3339(now_ms() - 52_000);
    let run = json_of(
        http.post(api(&b.base, "/sop-runs"))
            .bearer_auth(&token)
            .json(&json!({"sop": "access_setup", "client": client, "started_at": started_at}))
            .send()
            .await
            .unwrap(),
        "run",
    )
    .await;
    assert_eq!(run["status"], "on_track", "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();
    let escalated_after = loop {
        let r = json_of(
            http.get(api(&b.base, &format!("/sop-runs/{run_id}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            "run",
        )
        .await;
        if r["status"] == "at_risk" {
            break frozen_at.elapsed();
        }
        assert!(
            frozen_at.elapsed() < Duration::from_secs(15),
            "no server escalated the run within 15 s of the leader freezing:\n{}",
            std::fs::read_to_string(&b.log).unwrap_or_default()
        );
        // Another process's progress: polled until the deadline above.
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("escalated {escalated_after:?} after the leader froze");

    // The old leader wakes up: it must not write the change again.
    a.signal(libc::SIGCONT);
    // Give the woken leader time for a scheduler pass or two: a double write would show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let audit = json_of(
        http.get(api(&a.base, "/audit?limit=200"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        "audit",
    )
    .await;
    let changes = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sop_run.status_changed" && e["entity_id"] == run_id.as_str())
        .count();
    assert_eq!(changes, 1, "one escalation, written once");
    drop(a);
    drop(b);
    cluster.cleanup().await;
}

/// Three servers run the reminder pass every half second over the same due
/// links. Each reminder is claimed inside its transaction (the update sees
/// the schedule it read, or writes nothing), so every link gets one
/// reminder and, once its client leaves onboarding, one stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_pg),
    ignore = "PostgreSQL not configured: several servers need it; set BATON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn three_servers_send_each_reminder_and_stop_each_schedule_once() {
    let Some(cluster) = Cluster::new("cluster-reminders").await else {
        return;
    };
    let servers = [
        cluster.server("a", &[]).await,
        cluster.server("b", &[]).await,
        cluster.server("c", &[]).await,
    ];
    let links = cluster.links(&servers[0], 12, None).await;
    let wait_for = |action: &'static str, want: i64| {
        let cluster = &cluster;
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let n = cluster.audited(action).await;
                if n >= want || Instant::now() > deadline {
                    // A few more passes, so a double write would show.
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    return cluster.audited(action).await;
                }
                // Other processes' progress: polled until the deadline.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };

    // Every link's first reminder comes due at once, on every server.
    let due = now_ms() - 1_000;
    let n = cluster
        .sql(&format!(
            "UPDATE onboarding_links SET next_reminder_at = {due}"
        ))
        .await;
    assert_eq!(n, links.len() as u64);
    assert_eq!(
        wait_for("onboarding.reminder_sent", 12).await,
        12,
        "one reminder per link, whatever the number of servers"
    );
    let scheduled = cluster
        .count("SELECT COUNT(*) FROM onboarding_links WHERE next_reminder_at > 0")
        .await;
    assert_eq!(scheduled, 12, "each link's next reminder is scheduled");

    // The clients leave onboarding behind the schedules' backs; the next
    // pass on every server finds the links not live and stops them once.
    cluster
        .sql("UPDATE clients SET lifecycle = 'archived'")
        .await;
    cluster
        .sql(&format!(
            "UPDATE onboarding_links SET next_reminder_at = {}",
            now_ms() - 1_000
        ))
        .await;
    assert_eq!(
        wait_for("onboarding.reminders_stopped", 12).await,
        12,
        "one stop per link"
    );
    assert_eq!(cluster.audited("onboarding.reminder_sent").await, 12);
    let mut verify = baton(&cluster.dir.0, Some(&cluster.test_db.url));
    let out = verify.args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "the audit chain holds: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(servers);
    cluster.cleanup().await;
}

/// The outbox's lease on the jobs a pass claims (`worker::LEASE_MS`).
const OUTBOX_LEASE: Duration = Duration::from_secs(60);

/// A server dies halfway through a batch of reminder emails to a relay
/// that takes 300 ms a message. Each email is marked sent as soon as the
/// relay took it, so another server sends only the rest (once the dead
/// server's lease ends) and at most the one in flight goes twice, with the
/// same `Message-ID`; nothing is later than the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_pg),
    ignore = "PostgreSQL not configured: several servers need it; set BATON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn a_server_killed_mid_batch_leaves_the_rest_to_another_within_the_lease() {
    let Some(cluster) = Cluster::new("cluster-crash-batch").await else {
        return;
    };
    const EMAILS: usize = 16;
    let (port, inbox) = baton_server::testing::fake_smtp(Duration::from_millis(300)).await;
    // Each email's Message-ID, in the order the relay took them.
    let relayed = || -> Vec<String> {
        inbox
            .lock()
            .unwrap()
            .iter()
            .map(|m| {
                m.lines()
                    .find_map(|l| {
                        l.get(..11)
                            .filter(|h| h.eq_ignore_ascii_case("message-id:"))
                            .map(|_| l[11..].trim().to_string())
                    })
                    .unwrap_or_default()
            })
            .collect()
    };
    let smtp = format!("smtp://127.0.0.1:{port}");
    let mail = [
        ("BATON_SMTP_URL", smtp.as_str()),
        ("BATON_SMTP_FROM", "Cluster Agency <ops@cluster.test>"),
    ];
    let mut a = cluster.server("a", &mail).await;
    cluster
        .links(&a, EMAILS, Some("owner@client.example"))
        .await;
    cluster
        .sql(&format!(
            "UPDATE onboarding_links SET next_reminder_at = {}",
            now_ms() - 1_000
        ))
        .await;

    // Kill the server once the relay has taken a few.
    let deadline = Instant::now() + Duration::from_secs(30);
    while inbox.lock().unwrap().len() < 4 {
        assert!(
            Instant::now() < deadline,
            "no emails reached the relay:\n{}",
            std::fs::read_to_string(&a.log).unwrap_or_default()
        );
        // The relay is another process's: polled until the deadline above.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.sigkill();
    let killed = Instant::now();
    let before = inbox.lock().unwrap().len();
    assert!(
        before < EMAILS,
        "the batch was still being sent at the kill"
    );
    let leased = cluster
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'email' AND done_at IS NULL")
        .await;
    assert!(
        leased as usize >= EMAILS - before,
        "{leased} emails left in the outbox"
    );

    // Another server takes over the rest once the dead server's lease ends.
    let b = cluster.server("b", &mail).await;
    let deadline = killed + OUTBOX_LEASE + Duration::from_secs(30);
    let (distinct, late) = loop {
        let ids: std::collections::BTreeSet<String> = relayed().into_iter().collect();
        if ids.len() >= EMAILS {
            break (ids, killed.elapsed());
        }
        assert!(
            Instant::now() < deadline,
            "{} of {EMAILS} emails sent {:?} after the kill:\n{}",
            ids.len(),
            killed.elapsed(),
            std::fs::read_to_string(&b.log).unwrap_or_default()
        );
        // Waiting for the lease to lapse on another process: polled until the deadline.
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // A few more passes, so a repeat would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let relayed = relayed();
    assert_eq!(distinct.len(), EMAILS);
    assert!(
        distinct.iter().all(|id| id.contains(".baton@")),
        "every email carries Baton's stable Message-ID: {distinct:?}"
    );
    let mut times: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &relayed {
        *times.entry(id).or_default() += 1;
    }
    let repeated: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.len() <= 1 && repeated.iter().all(|(_, n)| **n == 2),
        "only the email in flight at the kill may go twice: {repeated:?}"
    );
    eprintln!(
        "{before} sent before the kill; the rest by {late:?} after it; repeated: {repeated:?}"
    );
    // The rest start once the lease (taken before the kill) ends, and the
    // relay takes 300 ms each.
    assert!(
        late <= OUTBOX_LEASE + Duration::from_millis(300) * EMAILS as u32 + Duration::from_secs(5),
        "the rest came {late:?} after the kill"
    );
    let pending = cluster
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'email' AND done_at IS NULL")
        .await;
    assert_eq!(pending, 0, "every email job is done");
    drop(b);
    cluster.cleanup().await;
}

/// With object storage, a draft uploaded through one server (into its own
/// data directory nothing is written) downloads through another, whole and
/// by byte range. Needs PostgreSQL and `BATON_TEST_S3_ENDPOINT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(baton_pg, baton_s3)),
    ignore = "needs PostgreSQL and S3: set BATON_TEST_POSTGRES_URL and BATON_TEST_S3_ENDPOINT (bash .ci/s3-files.sh does)"
)]
async fn a_draft_uploaded_through_one_server_downloads_ranged_through_another() {
    let Some(endpoint) = std::env::var(baton_server::testing::S3_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        eprintln!(
            "skipped: {} is not set (the shared-files test needs object storage)",
            baton_server::testing::S3_ENV
        );
        return;
    };
    let Some(cluster) = Cluster::new("cluster-files").await else {
        return;
    };
    let prefix = format!("cluster-{}", now_ms());
    let storage = format!("s3://{}/{prefix}", baton_server::testing::S3_BUCKET);
    let env = [
        ("BATON_STORAGE_URL", storage.as_str()),
        ("AWS_ENDPOINT_URL", endpoint.trim()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "baton-test"),
        ("AWS_SECRET_ACCESS_KEY", "baton-test-secret"),
    ];
    let a = cluster.server("a", &env).await;
    let b = cluster.server("b", &env).await;

    let client = cluster
        .post(&a, "/clients", json!({"name": "Harbor Fitness"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = cluster
        .post(
            &a,
            &format!("/clients/{client}/content"),
            json!({"title": "Launch reel", "channel": "instagram", "format": "reel"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Larger than one multipart part (8 MiB), so the upload is streamed in
    // parts: an MP4 header, then bytes that tell their offset.
    let mut video = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    let size = 9 * 1024 * 1024 + 123;
    video.extend((video.len()..size).map(|i| (i * 7 % 251) as u8));
    let boundary = "----baton-cluster-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"launch.mp4\"\r\n\
         Content-Type: video/mp4\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&video);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let version = json_of(
        cluster
            .http
            .post(format!("{}/api/v1/content/{item}/versions", a.base))
            .bearer_auth(&cluster.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap(),
        "upload through a",
    )
    .await;
    assert_eq!(version["size_bytes"], size);
    let file_url = version["file_url"].as_str().unwrap().to_string();

    // Neither server keeps the file in its own data directory.
    for name in ["a", "b"] {
        let uploads = cluster.dir.0.join(name).join("uploads");
        let files = std::fs::read_dir(&uploads)
            .map(|d| d.flatten().count())
            .unwrap_or(0);
        assert_eq!(files, 0, "{} holds files", uploads.display());
    }

    let whole = cluster
        .http
        .get(format!("{}{file_url}", b.base))
        .bearer_auth(&cluster.token)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), video.as_slice());

    let from = 8 * 1024 * 1024 - 10;
    let ranged = cluster
        .http
        .get(format!("{}{file_url}", b.base))
        .bearer_auth(&cluster.token)
        .header("range", format!("bytes={from}-{}", from + 99))
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes {from}-{}/{size}", from + 99).as_str()
    );
    assert_eq!(
        ranged.bytes().await.unwrap().as_ref(),
        &video[from..from + 100],
        "the range across the first part's end"
    );

    // And the other server shows the item at that version.
    let shown = cluster.get(&b, &format!("/content/{item}")).await;
    assert_eq!(shown["current_version"], 1, "{shown}");
    drop((a, b));
    cluster.cleanup().await;
}
