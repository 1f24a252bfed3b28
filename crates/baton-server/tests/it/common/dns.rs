//! A tiny DNS responder on a local UDP port, for the custom-domain and
//! webhook tests: it answers TXT and A queries from tables the test fills (a
//! name with neither is NXDOMAIN; a name with records of one type answers
//! the other with no records) and counts the queries per name. The server
//! under test asks it through `ServerConfig::dns_server`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use baton_core::clock::Clock;
use baton_server::testing::TestApp;
use serde_json::{json, Value};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

#[derive(Default)]
struct Zone {
    /// name (lower-case, no trailing dot) → TXT values; an empty list: the
    /// name exists without TXT records.
    txt: HashMap<String, Vec<String>>,
    /// name → IPv4 addresses (answered with a TTL of 0: never cached).
    a: HashMap<String, Vec<Ipv4Addr>>,
    queries: HashMap<String, usize>,
}

pub struct DnsResponder {
    pub addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    task: tokio::task::JoinHandle<()>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsResponder {
    pub async fn start() -> DnsResponder {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind dns");
        let addr = socket.local_addr().unwrap();
        let zone = Arc::new(Mutex::new(Zone::default()));
        let z = zone.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let answer = answer(&z, &query);
                if let Ok(bytes) = answer.to_vec() {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        });
        DnsResponder { addr, zone, task }
    }

    /// Puts TXT records at `name` (replacing any there).
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        self.zone
            .lock()
            .unwrap()
            .txt
            .insert(key(name), values.iter().map(|v| v.to_string()).collect());
    }

    /// Puts A records at `name` (replacing any there): what a host name
    /// resolves to.
    pub fn set_a(&self, name: &str, addrs: &[Ipv4Addr]) {
        self.zone
            .lock()
            .unwrap()
            .a
            .insert(key(name), addrs.to_vec());
    }

    /// Removes `name`, its TXT and A records (it becomes NXDOMAIN).
    pub fn remove(&self, name: &str) {
        let mut zone = self.zone.lock().unwrap();
        zone.txt.remove(&key(name));
        zone.a.remove(&key(name));
    }

    /// How many queries for `name` arrived.
    pub fn queries(&self, name: &str) -> usize {
        *self
            .zone
            .lock()
            .unwrap()
            .queries
            .get(&key(name))
            .unwrap_or(&0)
    }
}

impl Drop for DnsResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(zone: &Mutex<Zone>, query: &Message) -> Message {
    let mut m = Message::new();
    m.set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let Some(q) = query.queries().first() else {
        m.set_response_code(ResponseCode::FormErr);
        return m;
    };
    m.add_query(q.clone());
    let name = key(&q.name().to_ascii());
    let mut zone = zone.lock().unwrap();
    *zone.queries.entry(name.clone()).or_default() += 1;
    let (txt, a) = (zone.txt.get(&name), zone.a.get(&name));
    if txt.is_none() && a.is_none() {
        m.set_response_code(ResponseCode::NXDomain);
        return m;
    }
    match q.query_type() {
        RecordType::TXT => {
            for v in txt.into_iter().flatten() {
                m.add_answer(Record::from_rdata(
                    q.name().clone(),
                    60,
                    RData::TXT(TXT::new(vec![v.clone()])),
                ));
            }
        }
        RecordType::A => {
            for ip in a.into_iter().flatten() {
                m.add_answer(Record::from_rdata(q.name().clone(), 0, RData::A(A(*ip))));
            }
        }
        // The name exists without records of this type (AAAA, …).
        _ => {}
    }
    m
}

/// The app with its custom-domain checks asking a fresh [`DnsResponder`].
pub async fn app_with_dns(clock: Arc<dyn Clock>) -> (TestApp, DnsResponder) {
    let dns = DnsResponder::start().await;
    let addr = dns.addr;
    let app = TestApp::spawn_with_config(clock, move |c| c.dns_server = Some(addr)).await;
    (app, dns)
}

/// Sets `domain` as the agency's custom domain, publishes the TXT record
/// Baton asks for, and verifies it: the agency as the API then shows it.
pub async fn verified_domain(
    api: &super::Api,
    token: &str,
    dns: &DnsResponder,
    domain: &str,
) -> Value {
    let set = api
        .patch("/api/v1/agency", token, json!({ "custom_domain": domain }))
        .await;
    set.expect(200, "set the custom domain");
    assert_eq!(set.body["custom_domain_status"], "pending", "{}", set.text);
    dns.set_txt(
        set.body["custom_domain_txt_name"].as_str().unwrap(),
        &[set.body["custom_domain_txt_value"].as_str().unwrap()],
    );
    let r = api
        .post("/api/v1/agency/custom-domain/verify", token, json!({}))
        .await;
    r.expect(200, "verify the custom domain");
    assert_eq!(r.body["custom_domain_status"], "verified", "{}", r.text);
    r.body.clone()
}
