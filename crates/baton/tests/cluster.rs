//! Several `baton serve` processes on one PostgreSQL database: the SLA
//! scheduler's leader is frozen (SIGSTOP) and another server escalates a
//! due run within 15 s; when the frozen leader wakes up it writes nothing
//! (its lease's fencing token is gone). PostgreSQL only: SQLite is one
//! process's database.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::{baton_command as baton, Server, TempDir};

async fn json_of(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_scheduler_leader_is_replaced_within_15_s_and_wakes_up_powerless() {
    if !std::env::var(baton_store::testing::POSTGRES_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        eprintln!(
            "skipped: {} is not set (several servers need PostgreSQL)",
            baton_store::testing::POSTGRES_ENV
        );
        return;
    }
    let test_db = baton_store::testing::TestDb::new().await;
    let url = test_db.url.clone();
    test_db.db.close().await;
    let dir = TempDir::new("cluster");
    let secret = "cluster-test-secret-key-0123456789abcdef";
    let out = baton(&dir.0, Some(&url))
        .env("BATON_SECRET_KEY", secret)
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

    // The first server becomes the scheduler's leader; then a second starts.
    let a = Server::start_with(&dir.0, Some(&url), "a.log", &[("BATON_SECRET_KEY", secret)]).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let b = Server::start_with(&dir.0, Some(&url), "b.log", &[("BATON_SECRET_KEY", secret)]).await;

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
    let started_at = baton_core::clock::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            - 52_000,
    );
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
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("escalated {escalated_after:?} after the leader froze");

    // The old leader wakes up: it must not write the change again.
    a.signal(libc::SIGCONT);
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
    test_db.cleanup().await;
}
