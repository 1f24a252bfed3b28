//! The event catalogue integrations subscribe to: each topic with what it
//! means and an example of its `data`, served in OpenAPI and on the settings
//! page; and the notices a Slack or Teams channel can choose.

use serde_json::{json, Value};

/// One event topic a webhook can subscribe to.
#[derive(Debug, Clone, Copy)]
pub struct Topic {
    /// Always namespaced: `client.contract_signed`, `access.verified`.
    pub topic: &'static str,
    pub means: &'static str,
    /// An example of the event's own `data`.
    pub example: &'static str,
}

macro_rules! topics {
    ($(($t:expr, $m:expr, $e:expr)),* $(,)?) => {
        &[$(Topic { topic: $t, means: $m, example: $e }),*]
    };
}

/// The topics, grouped by namespace. Filters are a topic, a namespace with
/// `.*` (`client.*`) or `*`; an event's topic is its type, namespaced
/// (`contract_signed` is `client.contract_signed`).
pub const TOPICS: &[Topic] = topics![
    (
        "client.created",
        "A client was added (by hand, by the API or by an inbound \"deal won\").",
        r#"{"name":"Acme Bakery","lifecycle":"won"}"#
    ),
    (
        "client.updated",
        "A client's name, website or notes changed.",
        r#"{"name":"Acme Bakery"}"#
    ),
    (
        "client.contract_signed",
        "The contract was signed; the sales-to-delivery handoff starts.",
        r#"{"from":"won","to":"onboarding"}"#
    ),
    (
        "client.kickoff_scheduled",
        "The kickoff meeting was scheduled.",
        r#"{}"#
    ),
    (
        "client.onboarding_completed",
        "Onboarding was completed: the client is active.",
        r#"{"from":"onboarding","to":"active"}"#
    ),
    (
        "client.contract_ended",
        "The contract ended; offboarding starts.",
        r#"{"from":"active","to":"offboarding","access_requests_withdrawn":1,"runs_cancelled":2}"#
    ),
    (
        "client.team_changed",
        "A seat on the client's account team changed.",
        r#"{"role":"account_lead","member_id":"mem_01JD…"}"#
    ),
    (
        "onboarding.link_created",
        "An onboarding link was made for a client.",
        r#"{"link_id":"lnk_01JD…","requests":4}"#
    ),
    (
        "onboarding.completed",
        "The client finished their onboarding link.",
        r#"{"link_id":"lnk_01JD…"}"#
    ),
    (
        "access.granted_by_client",
        "The client says they granted a platform's access.",
        r#"{"platform":"meta","permission":"admin","asset":"Acme Bakery page","request_id":"acc_01JD…","from":"requested"}"#
    ),
    (
        "access.verified",
        "A member verified the access works.",
        r#"{"platform":"meta","permission":"admin","asset":"Acme Bakery page","request_id":"acc_01JD…","from":"granted_by_client"}"#
    ),
    (
        "access.failed",
        "Verification failed: the access does not work yet.",
        r#"{"platform":"meta","permission":"admin","asset":"Acme Bakery page","request_id":"acc_01JD…","from":"granted_by_client","reason":"no admin role"}"#
    ),
    (
        "access.revoked",
        "Access was revoked at offboarding.",
        r#"{"platform":"meta","permission":"admin","asset":"Acme Bakery page","request_id":"acc_01JD…","from":"verified"}"#
    ),
    (
        "access.lost",
        "A connector's re-check no longer finds held access on the platform: the request is back with the client.",
        r#"{"platform":"ga4","permission":"editor","asset":"properties/123456","request_id":"acc_01JD…","from":"verified","connector":"ga4","platform_says":"property 123456 is not among the accounts and properties the agency's Google account can see"}"#
    ),
    (
        "access.revoke_confirmed",
        "At offboarding, a connector found the revoked access gone from the platform.",
        r#"{"platform":"ga4","permission":"editor","asset":"properties/123456","request_id":"acc_01JD…","from":"revoked","connector":"ga4"}"#
    ),
    (
        "connection.connected",
        "An admin connected the agency's account on a platform (connectors check access through it).",
        r#"{"platform":"ga4","account":"ops@agency.example"}"#
    ),
    (
        "connection.expired",
        "A platform refused a connection's refresh token: an admin reconnects it.",
        r#"{"reason":"Token has been expired or revoked."}"#
    ),
    (
        "connection.revoked",
        "An admin removed a connection.",
        r#"{"platform":"ga4"}"#
    ),
    (
        "sop_run.started",
        "An SOP run started (by its trigger or by hand).",
        r#"{"run_id":"run_01JD…","sop":"sales_handoff","sop_name":"Sales → delivery handoff","version":1,"owner":"Ana Ortiz","owner_source":"account_lead","due_at":1796000000000}"#
    ),
    (
        "sop_run.at_risk",
        "An SOP run is at risk of missing its SLA.",
        r#"{"run_id":"run_01JD…","sop":"sales_handoff","sop_name":"Sales → delivery handoff","due_at":1796000000000,"owner":"Ana Ortiz","notified":2}"#
    ),
    (
        "sop_run.breached",
        "An SOP run is past its SLA.",
        r#"{"run_id":"run_01JD…","sop":"sales_handoff","sop_name":"Sales → delivery handoff","due_at":1796000000000,"owner":"Ana Ortiz","notified":3}"#
    ),
    (
        "sop_run.completed",
        "An SOP run was completed.",
        r#"{"run_id":"run_01JD…","sop":"sales_handoff","sop_name":"Sales → delivery handoff"}"#
    ),
    (
        "content.cycle_started",
        "A content item was planned.",
        r#"{"content_id":"cnt_01JD…","title":"December promo reel"}"#
    ),
    (
        "content.drafts_ready",
        "Drafts were submitted: an approval is waiting.",
        r#"{"content_id":"cnt_01JD…","title":"December promo reel","round":1}"#
    ),
    (
        "content.decided",
        "A reviewer or the client decided on a round (approve or request changes).",
        r#"{"content_id":"cnt_01JD…","title":"December promo reel","round":1,"decision":"approve","by":"Dana (client)"}"#
    ),
    (
        "content.changes_requested",
        "The round ended with changes requested.",
        r#"{"content_id":"cnt_01JD…","title":"December promo reel","round":1}"#
    ),
    (
        "content.ready_to_schedule",
        "Approved: the item is ready to schedule.",
        r#"{"content_id":"cnt_01JD…","title":"December promo reel","round":1}"#
    ),
    (
        "content.published",
        "The item was published.",
        r#"{"content_id":"cnt_01JD…","title":"December promo reel"}"#
    ),
    (
        "incident.opened",
        "An incident was reported.",
        r#"{"severity":"sev2","title":"Wrong caption published"}"#
    ),
    (
        "incident.triage_breached",
        "An incident was not triaged in time.",
        r#"{"severity":"sev1","title":"Account locked"}"#
    ),
    (
        "incident.resolved",
        "An incident was resolved.",
        r#"{"severity":"sev2","title":"Wrong caption published"}"#
    ),
    (
        "scorecard.shipped",
        "The weekly scorecard was shipped.",
        r#"{"week":"2026-W49","off_track":2}"#
    ),
    (
        "cadence.held",
        "A cadence meeting was held with its artifact.",
        r#"{"cadence":"weekly_delivery_planning","on_date":"2026-12-07"}"#
    ),
    (
        "cadence.artifact_missing",
        "A meeting ended its day without its artifact.",
        r#"{"cadence":"monthly_account_review","on_date":"2026-12-07"}"#
    ),
    (
        "integration.endpoint_saved",
        "A webhook or channel was added or changed (one subscribed to `*` hears of its own creation).",
        r#"{"kind":"webhook","url":"https://hooks.example.com/baton","events":["client.*"]}"#
    ),
    (
        "integration.endpoint_deleted",
        "A webhook or channel was deleted.",
        r#"{"kind":"slack","url":"https://hooks.slack.com/…abcd"}"#
    ),
    (
        "integration.secret_rotated",
        "A webhook's secret was rotated; the old one signs until old_secret_until (unix ms).",
        r#"{"old_secret_until":1796000000000}"#
    ),
    (
        "integration.endpoint_disabled",
        "Delivery turned an endpoint off (410 Gone, or five days of failures).",
        r#"{"kind":"webhook","url":"https://hooks.example.com/baton","reason":"the receiver answered 410 Gone"}"#
    ),
    (
        "webhook.test",
        "Sent by \"Send test event\"; nothing happened in Baton.",
        r#"{"message":"A test event from Baton."}"#
    ),
];

/// A notice a Slack or Teams channel can take: a label and the filters it
/// stands for.
#[derive(Debug, Clone, Copy)]
pub struct ChannelNotice {
    pub key: &'static str,
    pub label: &'static str,
    pub filters: &'static [&'static str],
}

/// The notices of the issue's list, in the order the settings page shows.
pub const CHANNEL_NOTICES: &[ChannelNotice] = &[
    ChannelNotice {
        key: "sop_at_risk",
        label: "SOP run at risk",
        filters: &["sop_run.at_risk"],
    },
    ChannelNotice {
        key: "sop_breached",
        label: "SOP run breached",
        filters: &["sop_run.breached"],
    },
    ChannelNotice {
        key: "approvals_waiting",
        label: "Approvals waiting",
        filters: &["content.drafts_ready"],
    },
    ChannelNotice {
        key: "client_decisions",
        label: "Client decisions",
        filters: &["content.decided"],
    },
    ChannelNotice {
        key: "access",
        label: "Access granted, verified or failed",
        filters: &[
            "access.granted_by_client",
            "access.verified",
            "access.failed",
        ],
    },
    ChannelNotice {
        key: "incidents",
        label: "Incidents reported or triage breached",
        filters: &["incident.opened", "incident.triage_breached"],
    },
    ChannelNotice {
        key: "scorecard",
        label: "Weekly scorecard shipped",
        filters: &["scorecard.shipped"],
    },
];

/// A topic's entry, if it is in the catalogue.
pub fn topic(name: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.topic == name)
}

/// The body a webhook receives for `topic` with the example data, as the
/// settings page shows it.
pub fn example_body(t: &Topic) -> Value {
    let data: Value = serde_json::from_str(t.example).unwrap_or(Value::Null);
    let stored_type = match t.topic.strip_prefix("client.") {
        Some(rest) if !matches!(rest, "created" | "updated" | "team_changed") => rest,
        _ => t.topic,
    };
    json!({
        "type": t.topic,
        "timestamp": "2026-12-07T14:03:12Z",
        "data": {
            "id": "evt_01JEXAMPLE0000000000000000",
            "seq": 1042,
            "type": stored_type,
            "topic": t.topic,
            "client_id": "cli_01JEXAMPLE0000000000000000",
            "entity_type": t.topic.split('.').next().unwrap_or(""),
            "entity_id": "…",
            "occurred_at": "2026-12-07T14:03:12Z",
            "recorded_at": "2026-12-07T14:03:12Z",
            "actor": {"kind": "member", "id": "mem_01JEXAMPLE0000000000000000", "label": "Ana Ortiz"},
            "note": null,
            "data": data,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_is_json_and_every_channel_filter_is_a_topic() {
        for t in TOPICS {
            let v: Value = serde_json::from_str(t.example).expect(t.topic);
            assert!(v.is_object(), "{}", t.topic);
            assert!(t.topic.contains('.'), "{} is namespaced", t.topic);
        }
        for n in CHANNEL_NOTICES {
            for f in n.filters {
                assert!(topic(f).is_some(), "{f} of {} is in the catalogue", n.key);
            }
        }
        let body = example_body(topic("client.contract_signed").unwrap());
        assert_eq!(body["data"]["type"], "contract_signed");
        assert_eq!(body["type"], "client.contract_signed");
    }
}
