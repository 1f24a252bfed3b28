//! Crash safety: every write the server acknowledged survives a SIGKILL.
//!
//! Spawns the real `baton serve`, runs a concurrent write load (new clients and
//! timeline notes), records the id of every 2xx answer, kills the process with
//! SIGKILL mid-load, restarts it on the same database and checks that each
//! acknowledged client and event is there and the audit chain still verifies.
//! Runs on embedded SQLite always, and on PostgreSQL too when
//! `BATON_TEST_POSTGRES_URL` is set (on a fresh database of its own).

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common;
use common::{baton_command as baton, Server, TempDir};

/// Load runs this long in total; the server is killed part-way through.
const LOAD: Duration = Duration::from_secs(3);
const KILL_AFTER: Duration = Duration::from_millis(2000);
const WRITERS: usize = 8;
const EVENTS_PER_CLIENT: usize = 8;

#[derive(Default)]
struct Acked {
    clients: Vec<String>,
    /// (client id, event id)
    events: Vec<(String, String)>,
    refused: u64,
}

/// One writer: a client, then notes on it, then the next client, until told to stop.
async fn writer(
    http: reqwest::Client,
    base: String,
    token: String,
    w: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acked>>,
) {
    let mut k = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let r = http
            .post(format!("{base}/api/v1/clients"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("crash-{w}-{k}")}))
            .send()
            .await;
        k += 1;
        let client_id = match r {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(v) => v["id"].as_str().expect("client id").to_string(),
                Err(_) => continue, // the body was cut off: not acknowledged
            },
            Ok(r) => {
                assert!(
                    r.status().is_server_error(),
                    "unexpected answer {} to a valid create",
                    r.status()
                );
                acked.lock().unwrap().refused += 1;
                continue;
            }
            Err(_) => {
                // The server is being killed and restarted: retry the write shortly.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        acked.lock().unwrap().clients.push(client_id.clone());
        for _ in 0..EVENTS_PER_CLIENT {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let r = http
                .post(format!("{base}/api/v1/clients/{client_id}/events"))
                .bearer_auth(&token)
                .json(&json!({"type": "note", "note": format!("n-{k}")}))
                .send()
                .await;
            k += 1;
            match r {
                Ok(r) if r.status().is_success() => {
                    if let Ok(v) = r.json::<Value>().await {
                        let id = v["id"].as_str().expect("event id").to_string();
                        acked.lock().unwrap().events.push((client_id.clone(), id));
                    }
                }
                Ok(r) => {
                    assert!(
                        r.status().is_server_error(),
                        "unexpected answer {} to a valid note",
                        r.status()
                    );
                    acked.lock().unwrap().refused += 1;
                }
                Err(_) => {
                    // The server is down (killed on purpose): retry shortly.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    break;
                }
            }
        }
    }
}

/// Every event id of `client`, following the cursor.
async fn events_of(http: &reqwest::Client, base: &str, token: &str, client: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/events?client={client}&limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200, "listing events of {client}");
        let page: Value = r.json().await.unwrap();
        for e in page["items"].as_array().expect("items") {
            ids.push(e["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = Some(c.to_string()),
            _ => return ids,
        }
    }
}

async fn crash_and_recover(data_dir: &Path, database_url: Option<&str>) {
    let out = baton(data_dir, database_url)
        .args([
            "agency",
            "create",
            "--name",
            "Crash Test Agency",
            "--admin-email",
            "ops@crash.test",
            "--json",
        ])
        .output()
        .expect("run baton agency create");
    assert!(
        out.status.success(),
        "agency create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("agency create --json");
    let token = created["api_token"].as_str().unwrap().to_string();

    let mut server = Server::start(data_dir, database_url, "serve-1.log").await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let started = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(writer(
                http.clone(),
                server.base.clone(),
                token.clone(),
                w,
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    // The crash test is about time: kill the server while writes are in flight.
    tokio::time::sleep(KILL_AFTER).await;
    server.sigkill();
    let killed_at = started.elapsed();
    tokio::time::sleep(LOAD.saturating_sub(killed_at)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("writer task");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    eprintln!(
        "crash test ({}): killed after {killed_at:?}; {} clients and {} events acknowledged, {} refused",
        database_url.map(|_| "postgres").unwrap_or("sqlite"),
        acked.clients.len(),
        acked.events.len(),
        acked.refused
    );
    assert!(
        acked.clients.len() >= WRITERS && !acked.events.is_empty(),
        "the load acknowledged too little to test anything ({} clients, {} events)",
        acked.clients.len(),
        acked.events.len()
    );

    let server = Server::start(data_dir, database_url, "serve-2.log").await;
    let mut missing = Vec::new();
    for id in &acked.clients {
        let r = http
            .get(format!("{}/api/v1/clients/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            missing.push(format!("client {id} ({})", r.status()));
        }
    }
    let mut by_client: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (c, e) in &acked.events {
        by_client.entry(c).or_default().push(e);
    }
    for (client, wanted) in by_client {
        let present: HashSet<String> = events_of(&http, &server.base, &token, client)
            .await
            .into_iter()
            .collect();
        for e in wanted {
            if !present.contains(e) {
                missing.push(format!("event {e} of {client}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged writes were lost after SIGKILL: {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );

    let verify = baton(data_dir, database_url)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "audit verify after the crash failed ({}):\n{}{}",
        verify.status,
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_sqlite() {
    let dir = TempDir::new("crash");
    crash_and_recover(&dir.0, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_pg),
    ignore = "PostgreSQL not configured: the SQLite crash test ran; set BATON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn acknowledged_writes_survive_sigkill_postgres() {
    if std::env::var(baton_store::testing::POSTGRES_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        let test_db = baton_store::testing::TestDb::new().await;
        let url = test_db.url.clone();
        test_db.db.close().await;
        let dir = TempDir::new("crash-pg");
        crash_and_recover(&dir.0, Some(&url)).await;
        test_db.cleanup().await;
    } else {
        eprintln!(
            "skipped: {} is not set (the SQLite crash test ran)",
            baton_store::testing::POSTGRES_ENV
        );
    }
}
