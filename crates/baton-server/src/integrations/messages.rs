//! What a Slack or Teams channel is told about an event: what happened, to
//! whom, and a link to the page — as a Slack Block Kit message (with its
//! plain-text fallback) or a Teams Adaptive Card 1.2 in a `message`.

use baton_store::events::Event;
use serde_json::{json, Value};

/// A channel message before it is laid out for Slack or Teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// "SOP run breached: Sales handoff for Acme Bakery".
    pub title: String,
    /// One or two sentences: details and who acted.
    pub text: String,
    /// The page in Baton.
    pub link: String,
}

fn s<'a>(data: &'a Value, key: &str) -> &'a str {
    data.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The page of what an event is about.
fn page(e: &Event, public_url: &str) -> String {
    let client = e.client_id.as_deref().unwrap_or("");
    let path = match e.entity_type.as_str() {
        "content" => format!("/content/{}", e.entity_id),
        "incident" => format!("/incidents/{}", e.entity_id),
        "sop_run" if !client.is_empty() => format!("/clients/{client}/runs"),
        "scorecard" | "measurable" | "action" => "/scorecard".into(),
        "cadence_occurrence" => format!("/cadences/meetings/{}", e.entity_id),
        "integration_endpoint" => "/settings/integrations".into(),
        _ if !client.is_empty() => format!("/clients/{client}"),
        _ => "/my-work".into(),
    };
    format!("{public_url}{path}")
}

/// The message for `e` (about `client_name`, when it is a client's).
pub fn for_event(e: &Event, client_name: Option<&str>, public_url: &str) -> Message {
    let d = &e.data;
    let of_client = client_name.map(|c| format!(" for {c}")).unwrap_or_default();
    let by = if e.actor_label.is_empty() {
        String::new()
    } else {
        format!(" By {}.", e.actor_label)
    };
    let (title, text) = match e.topic.as_str() {
        "sop_run.at_risk" | "sop_run.breached" => {
            let sop = [s(d, "sop_name"), s(d, "sop_key")]
                .into_iter()
                .find(|x| !x.is_empty())
                .unwrap_or("An SOP run");
            let what = if e.topic.ends_with("breached") {
                "SOP run breached"
            } else {
                "SOP run at risk"
            };
            (
                format!("{what}: {sop}{of_client}"),
                format!(
                    "{sop}{of_client} is {}.",
                    if e.topic.ends_with("breached") {
                        "past its SLA"
                    } else {
                        "at risk of missing its SLA"
                    }
                ),
            )
        }
        "content.drafts_ready" => (
            format!("Approval waiting: {}{of_client}", s(d, "title")),
            format!(
                "Round {} of \"{}\" is waiting for its reviewers and approvers.{by}",
                d.get("round").and_then(Value::as_i64).unwrap_or(1),
                s(d, "title")
            ),
        ),
        "content.decided" => {
            let decision = match s(d, "decision") {
                "approve" => "approved",
                "request_changes" => "requested changes on",
                other => other,
            };
            (
                format!("Decision on {}{of_client}", s(d, "title")),
                format!(
                    "{} {decision} round {} of \"{}\".",
                    if s(d, "by").is_empty() {
                        "Someone"
                    } else {
                        s(d, "by")
                    },
                    d.get("round").and_then(Value::as_i64).unwrap_or(1),
                    s(d, "title")
                ),
            )
        }
        "access.granted_by_client" | "access.verified" | "access.failed" => {
            let what = match e.topic.as_str() {
                "access.granted_by_client" => "Access granted by the client",
                "access.verified" => "Access verified",
                _ => "Access check failed",
            };
            let asset = [s(d, "asset"), s(d, "platform")]
                .into_iter()
                .find(|x| !x.is_empty())
                .unwrap_or("a platform");
            let reason = match s(d, "reason") {
                "" => String::new(),
                r => format!(" Reason: {r}."),
            };
            (
                format!("{what}: {asset}{of_client}"),
                format!(
                    "{what} — {} ({}){of_client}.{reason}{by}",
                    asset,
                    s(d, "platform")
                ),
            )
        }
        "incident.opened" | "incident.triage_breached" => {
            let what = if e.topic == "incident.opened" {
                "Incident reported"
            } else {
                "Incident triage breached"
            };
            (
                format!("{what}: {}", s(d, "title")),
                format!("{} ({}){of_client}.{by}", s(d, "title"), s(d, "severity")),
            )
        }
        "scorecard.shipped" => (
            format!("Weekly scorecard shipped: {}", s(d, "week")),
            format!("The scorecard of week {} was shipped.{by}", s(d, "week")),
        ),
        "webhook.test" => (
            "Test message from Baton".into(),
            "This channel is connected: Baton's notices will arrive here.".into(),
        ),
        other => (
            format!("{other}{of_client}"),
            format!("{}{of_client}.{by}", e.note.as_deref().unwrap_or(other)),
        ),
    };
    Message {
        title,
        text,
        link: page(e, public_url),
    }
}

/// The longest text of a Slack section block (a longer one is refused
/// with `invalid_blocks`).
const SLACK_SECTION_MAX: usize = 3_000;
/// Slack cuts a message's `text` there.
const SLACK_TEXT_MAX: usize = 40_000;

/// Slack's mrkdwn needs `&`, `<` and `>` escaped (or a name like
/// `<!channel>` would notify everyone); at most `max` characters, cut with
/// `…` between escapes, never inside one.
fn slack_escape(text: &str, max: usize) -> String {
    let escape = |c: char| match c {
        '&' => "&amp;".to_string(),
        '<' => "&lt;".to_string(),
        '>' => "&gt;".to_string(),
        c => c.to_string(),
    };
    let whole: String = text.chars().map(escape).collect();
    if whole.chars().count() <= max {
        return whole;
    }
    let mut out = String::new();
    let mut len = 0;
    for piece in text.chars().map(escape) {
        let n = piece.chars().count();
        // Room is kept for the `…`.
        if len + n >= max {
            break;
        }
        out.push_str(&piece);
        len += n;
    }
    out.push('…');
    out
}

/// A Slack incoming-webhook body: Block Kit, with `text` as the fallback
/// for notifications and clients without blocks (both mrkdwn, so both
/// escaped).
pub fn slack_body(m: &Message) -> Value {
    let fallback = format!("{} — {} {}", m.title, m.text, m.link);
    json!({
        "text": slack_escape(&fallback, SLACK_TEXT_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": truncate(&m.title, 150), "emoji": false}},
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(&m.text, SLACK_SECTION_MAX)}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Open in Baton"}, "url": m.link}
            ]}
        ]
    })
}

/// A Teams Workflows webhook body: an Adaptive Card 1.2 in a `message`.
pub fn teams_body(m: &Message) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.2",
                "body": [
                    {"type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium", "wrap": true},
                    {"type": "TextBlock", "text": m.text, "wrap": true}
                ],
                "actions": [{"type": "Action.OpenUrl", "title": "Open in Baton", "url": m.link}]
            }
        }]
    })
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(topic: &str, entity_type: &str, data: Value) -> Event {
        Event {
            id: "evt_1".into(),
            seq: 1,
            client_id: Some("cli_1".into()),
            event_type: topic.into(),
            topic: topic.into(),
            entity_type: entity_type.into(),
            entity_id: "x_1".into(),
            occurred_at: 0,
            recorded_at: 0,
            actor_kind: "member".into(),
            actor_id: "mem_1".into(),
            actor_label: "Ana Ortiz".into(),
            note: None,
            data,
        }
    }

    #[test]
    fn messages_say_what_to_whom_and_link_the_page() {
        let url = "https://baton.example";
        let cases = [
            (
                event(
                    "sop_run.breached",
                    "sop_run",
                    json!({"sop_name": "Sales handoff"}),
                ),
                "SOP run breached: Sales handoff for Acme",
                "https://baton.example/clients/cli_1/runs",
            ),
            (
                event(
                    "content.drafts_ready",
                    "content",
                    json!({"title": "Reel", "round": 2}),
                ),
                "Approval waiting: Reel for Acme",
                "https://baton.example/content/x_1",
            ),
            (
                event(
                    "content.decided",
                    "content",
                    json!({"title": "Reel", "round": 1, "decision": "approve", "by": "Dana"}),
                ),
                "Decision on Reel for Acme",
                "https://baton.example/content/x_1",
            ),
            (
                event(
                    "access.verified",
                    "access_request",
                    json!({"platform": "meta", "asset": "Acme page"}),
                ),
                "Access verified: Acme page for Acme",
                "https://baton.example/clients/cli_1",
            ),
            (
                event(
                    "incident.opened",
                    "incident",
                    json!({"title": "Wrong post", "severity": "sev2"}),
                ),
                "Incident reported: Wrong post",
                "https://baton.example/incidents/x_1",
            ),
        ];
        for (e, title, link) in cases {
            let m = for_event(&e, Some("Acme"), url);
            assert_eq!(m.title, title);
            assert_eq!(m.link, link);
        }
        let m = for_event(
            &event(
                "content.decided",
                "content",
                json!({"title": "A <b> & c", "decision": "approve", "by": "Dana"}),
            ),
            Some("Acme"),
            url,
        );
        let slack = slack_body(&m);
        assert!(slack["text"]
            .as_str()
            .unwrap()
            .contains("https://baton.example/content/x_1"));
        assert!(slack["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("&lt;b&gt; &amp; c"));
        // The fallback is mrkdwn too: a name cannot mention the channel.
        let m = for_event(
            &event("client.created", "client", json!({})),
            Some("Acme <!channel> & Co"),
            url,
        );
        let text = slack_body(&m)["text"].as_str().unwrap().to_string();
        assert!(text.contains("Acme &lt;!channel&gt; &amp; Co"), "{text}");
        let teams = teams_body(&m);
        assert_eq!(teams["type"], "message");
        assert_eq!(teams["attachments"][0]["content"]["version"], "1.2");
        assert_eq!(
            teams["attachments"][0]["content"]["actions"][0]["url"],
            m.link
        );
    }

    #[test]
    fn slack_text_is_escaped_and_cut_to_its_limit_between_escapes() {
        assert_eq!(slack_escape("a<b>&c", 100), "a&lt;b&gt;&amp;c");
        assert_eq!(slack_escape("abcdef", 6), "abcdef");
        assert_eq!(slack_escape("abcdefg", 6), "abcde…");
        // Never inside an escape: `&amp;` fits whole or not at all.
        assert_eq!(slack_escape("ab&cdefg", 6), "ab…");
        let long = slack_escape(&"&".repeat(1_000), SLACK_SECTION_MAX);
        assert!(long.chars().count() <= SLACK_SECTION_MAX);
        assert!(long.ends_with("&amp;…"), "{}", &long[long.len() - 10..]);
        let m = Message {
            title: "t".into(),
            text: "x".repeat(10_000),
            link: "https://baton.example".into(),
        };
        let body = slack_body(&m);
        let section = body["blocks"][1]["text"]["text"].as_str().unwrap();
        assert_eq!(section.chars().count(), SLACK_SECTION_MAX);
        assert!(body["text"].as_str().unwrap().contains(&"x".repeat(10_000)));
    }
}
