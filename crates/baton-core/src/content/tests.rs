//! Tests of the content rules: status moves, captions, briefs, approval
//! outcomes, version naming, QA checklists and metrics.

use super::*;
use crate::sop::default_library;
use ContentAction as A;
use ContentStatus as S;

#[test]
fn status_keys_labels_and_openness() {
    let keys: Vec<&str> = S::ALL.iter().map(|s| s.key()).collect();
    assert_eq!(
        keys,
        [
            "brief",
            "in_production",
            "in_review",
            "changes_requested",
            "approved",
            "scheduled",
            "published",
            "cancelled"
        ]
    );
    for s in S::ALL {
        assert_eq!(S::parse(s.key()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.key()));
        assert_eq!(s.is_open(), !matches!(s, S::Published | S::Cancelled));
    }
    assert_eq!(S::parse("Brief"), None);
    assert_eq!(S::parse("done"), None);
    assert_eq!(S::InProduction.label(), "In production");
    assert_eq!(S::ChangesRequested.label(), "Changes requested");
    assert!(S::Brief < S::Published, "ordered by workflow");
    assert_eq!(A::ApproveBrief.key(), "approve_brief");
    assert_eq!(A::RequestChanges.key(), "request_changes");
    assert_eq!(
        serde_json::to_value(A::ApproveBrief).unwrap(),
        serde_json::json!("approve_brief")
    );
}

#[test]
fn transitions_table() {
    let allowed = [
        (S::Brief, A::ApproveBrief, S::InProduction),
        (S::InProduction, A::Submit, S::InReview),
        (S::InReview, A::RequestChanges, S::ChangesRequested),
        (S::ChangesRequested, A::Submit, S::InReview),
        (S::InReview, A::Approve, S::Approved),
        (S::Approved, A::Schedule, S::Scheduled),
        (S::Scheduled, A::Publish, S::Published),
        (S::Scheduled, A::Unschedule, S::Approved),
        (S::Brief, A::Cancel, S::Cancelled),
        (S::InProduction, A::Cancel, S::Cancelled),
        (S::InReview, A::Cancel, S::Cancelled),
        (S::ChangesRequested, A::Cancel, S::Cancelled),
        (S::Approved, A::Cancel, S::Cancelled),
        (S::Scheduled, A::Cancel, S::Cancelled),
    ];
    let mut refused = 0;
    for from in S::ALL {
        for action in ACTIONS {
            let want = allowed
                .iter()
                .find(|(f, a, _)| *f == from && *a == action)
                .map(|(_, _, to)| *to);
            match (transition(from, action), want) {
                (Ok(to), Some(w)) => assert_eq!(to, w, "{from:?} {action:?}"),
                (Err(CoreError::Conflict(msg)), None) => {
                    refused += 1;
                    assert!(
                        msg.contains(from.label()),
                        "{from:?} {action:?}: {msg} must name the status"
                    );
                    assert!(msg.contains(action.phrase()), "{msg}");
                }
                (got, want) => panic!("{from:?} {action:?}: got {got:?}, want {want:?}"),
            }
        }
    }
    assert_eq!(refused, 8 * 8 - allowed.len());
}

#[test]
fn a_caption_change_reopens_approval() {
    for from in S::ALL {
        let got = transition(from, A::ReopenApproval);
        match from {
            S::Approved | S::Scheduled => assert_eq!(got, Ok(S::InProduction), "{from:?}"),
            _ => {
                let Err(CoreError::Conflict(msg)) = got else {
                    panic!("{from:?}: {got:?}");
                };
                assert!(msg.contains("have its approval reopened"), "{msg}");
            }
        }
    }
    assert_eq!(action_event(A::ReopenApproval), "content.approval_reopened");
    assert_eq!(A::ReopenApproval.key(), "reopen_approval");
    // Not offered as a next step: it follows a caption edit.
    let Err(CoreError::Conflict(msg)) = transition(S::Approved, A::Publish) else {
        panic!("approved content is not published directly");
    };
    assert!(!msg.contains("reopened"), "{msg}");
}

#[test]
fn caption_validation_table() {
    let at_max = "é".repeat(CAPTION_MAX);
    let over = "é".repeat(CAPTION_MAX + 1);
    let cases: Vec<(&str, Result<&str, &str>)> = vec![
        ("", Ok("")),
        ("  Morning light.  ", Ok("Morning light.")),
        (
            "Line one\r\n\tLine two #run",
            Ok("Line one\n\tLine two #run"),
        ),
        ("Zoë's Café 東京 🚀", Ok("Zoë's Café 東京 🚀")),
        (&at_max, Ok(&at_max)),
        (&over, Err("at most 5,000 characters (got 5,001)")),
        ("bell\u{7}", Err("control characters")),
    ];
    for (input, want) in cases {
        match (validate_caption(input), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w),
            (Err(CoreError::Invalid { field, message }), Err(w)) => {
                assert_eq!(field, "caption");
                assert!(message.contains(w), "{message:?} lacks {w:?}");
            }
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn hashtags_and_caption_limits() {
    for (caption, n) in [
        ("", 0),
        ("#run #gym", 2),
        ("#run#gym", 1),
        ("price #1 and # alone", 1),
        ("mail a#b and C# code", 0),
        ("#über #東京 #_x", 3),
        ("##double", 1),
    ] {
        assert_eq!(hashtag_count(caption), n, "{caption:?}");
    }
    let tags: String = (0..31).map(|i| format!("#t{i} ")).collect();
    assert_eq!(
        caption_problems("instagram", &tags),
        vec![CaptionProblem {
            key: "hashtags",
            message: "the caption has 31 hashtags; Instagram allows 30".into()
        }]
    );
    assert!(
        caption_problems("tiktok", &tags).is_empty(),
        "no hashtag limit"
    );
    let long = "x".repeat(281);
    assert_eq!(
        caption_problems("x", &long),
        vec![CaptionProblem {
            key: "length",
            message: "the caption is 281 characters; X allows 280".into()
        }]
    );
    assert!(caption_problems("x", &long[1..]).is_empty());
    assert!(caption_problems("myspace", &long).is_empty());
    // Characters, not bytes.
    assert!(caption_problems("x", &"é".repeat(280)).is_empty());
}

#[test]
fn refusals_say_what_is_possible() {
    let cases = [
            (
                S::InReview,
                A::Schedule,
                "content in \"In review\" cannot be scheduled; from \"In review\" it can get changes requested, be approved or be cancelled",
            ),
            (
                S::Brief,
                A::Submit,
                "content in \"Brief\" cannot be submitted for review; from \"Brief\" it can have its brief approved or be cancelled",
            ),
            (
                S::Scheduled,
                A::Approve,
                "content in \"Scheduled\" cannot be approved; from \"Scheduled\" it can be unscheduled, be published or be cancelled",
            ),
        ];
    for (from, action, want) in cases {
        assert_eq!(
            transition(from, action),
            Err(CoreError::Conflict(want.to_string()))
        );
    }
    let Err(CoreError::Conflict(msg)) = transition(S::Published, A::Cancel) else {
        panic!("published content cannot be cancelled");
    };
    assert!(msg.contains("final"), "{msg}");
    let Err(CoreError::Conflict(msg)) = transition(S::Cancelled, A::Submit) else {
        panic!("cancelled content cannot be submitted");
    };
    assert!(msg.contains("new content item"), "{msg}");
}

#[test]
fn action_events_start_the_matching_sops() {
    let cases = [
        (A::ApproveBrief, "content.brief_approved"),
        (A::Submit, "content.drafts_ready"),
        (A::RequestChanges, "content.changes_requested"),
        (A::Approve, "content.ready_to_schedule"),
        (A::Schedule, "content.scheduled"),
        (A::Unschedule, "content.unscheduled"),
        (A::Publish, "content.published"),
        (A::Cancel, "content.cancelled"),
    ];
    for (action, event) in cases {
        assert_eq!(action_event(action), event, "{action:?}");
    }
    assert_eq!(CYCLE_STARTED, "content.cycle_started");
    let lib = default_library();
    let trigger = |key: &str| lib.iter().find(|d| d.key == key).unwrap().trigger.clone();
    assert_eq!(trigger("content_intake"), CYCLE_STARTED);
    assert_eq!(
        trigger("creative_production"),
        action_event(A::ApproveBrief)
    );
    assert_eq!(trigger("review_approval"), action_event(A::Submit));
    assert_eq!(trigger("publishing_qa"), action_event(A::Approve));
}

fn brief(a: &str, b: &str, c: &str, d: &str, e: &str) -> ContentBrief {
    ContentBrief {
        audience: a.into(),
        angle: b.into(),
        offer: c.into(),
        constraints: d.into(),
        examples: e.into(),
    }
}

#[test]
fn brief_fields_are_the_intake_checklist() {
    let lib = default_library();
    let intake = lib.iter().find(|d| d.key == "content_intake").unwrap();
    let keys: Vec<&str> = intake.checklist.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ContentBrief::FIELDS);
}

#[test]
fn brief_completeness_table() {
    let cases: Vec<(ContentBrief, Vec<&str>)> = vec![
        (ContentBrief::default(), ContentBrief::FIELDS.to_vec()),
        (brief("Gym-goers 25–40", "x", "y", "z", "w"), vec![]),
        (
            brief("a", "  ", "c", "\n", "e"),
            vec!["angle", "constraints"],
        ),
        (brief("", "b", "c", "d", ""), vec!["audience", "examples"]),
    ];
    for (b, want) in cases {
        assert_eq!(b.missing(), want, "{b:?}");
        assert_eq!(b.is_complete(), want.is_empty(), "{b:?}");
    }
}

#[test]
fn brief_validation_table() {
    let long = "é".repeat(5_001);
    let ok_long = "é".repeat(5_000);
    let cases: Vec<(ContentBrief, Result<ContentBrief, &str>)> = vec![
        (
            brief(" Runners ", "a\r\nb", "\tc", "", "Zoë's Café 東京 🚀"),
            Ok(brief("Runners", "a\nb", "c", "", "Zoë's Café 東京 🚀")),
        ),
        (
            brief("a", "line one\n\tline two", "c", "d", "e"),
            Ok(brief("a", "line one\n\tline two", "c", "d", "e")),
        ),
        (
            brief(&ok_long, "", "", "", ""),
            Ok(brief(&ok_long, "", "", "", "")),
        ),
        (brief(&long, "", "", "", ""), Err("brief.audience")),
        (brief("", "", "bell\u{7}", "", ""), Err("brief.offer")),
        (brief("", "", "", "", "cr\ronly"), Err("brief.examples")),
        (brief("", "", "", "nul\0", ""), Err("brief.constraints")),
    ];
    for (input, want) in cases {
        let got = input.clone().validated();
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w),
            (Err(CoreError::Invalid { field, .. }), Err(w)) => assert_eq!(field, w),
            (g, w) => panic!("{input:?}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn brief_serde_defaults_and_refuses_unknown_fields() {
    let b: ContentBrief = serde_json::from_str(r#"{"audience":"Parents"}"#).unwrap();
    assert_eq!(b.audience, "Parents");
    assert_eq!(b.missing(), ["angle", "offer", "constraints", "examples"]);
    assert!(serde_json::from_str::<ContentBrief>(r#"{"audiance":"typo"}"#).is_err());
}

#[test]
fn decision_mode_and_size_keys() {
    for d in [Decision::Approve, Decision::RequestChanges] {
        assert_eq!(Decision::parse(d.key()), Some(d));
    }
    assert_eq!(Decision::RequestChanges.key(), "request_changes");
    assert_eq!(Decision::parse("reject"), None);
    for m in [ApprovalMode::All, ApprovalMode::Any] {
        assert_eq!(ApprovalMode::parse(m.key()), Some(m));
    }
    assert_eq!(ApprovalMode::default(), ApprovalMode::All);
    assert_eq!(ApprovalMode::parse("majority"), None);
    for r in [RevisionSize::Major, RevisionSize::Minor] {
        assert_eq!(RevisionSize::parse(r.key()), Some(r));
    }
    assert_eq!(RevisionSize::parse("huge"), None);
    assert_eq!(
        serde_json::to_value(Decision::RequestChanges).unwrap(),
        serde_json::json!("request_changes")
    );
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn waiting(v: &[&str]) -> RoundOutcome {
    RoundOutcome::Pending { waiting_on: ids(v) }
}

#[test]
fn round_outcomes_table() {
    use ApprovalMode::{All, Any};
    use Decision::{Approve as Y, RequestChanges as N};
    let ab = ["ana", "ben"];
    type Case<'a> = (
        ApprovalMode,
        &'a [&'a str],
        Vec<(&'a str, Decision)>,
        RoundOutcome,
    );
    let cases: Vec<Case> = vec![
        // nobody decided yet: everyone, in the given order
        (All, &ab, vec![], waiting(&["ana", "ben"])),
        (Any, &ab, vec![], waiting(&["ana", "ben"])),
        // all: one approval is not enough
        (All, &ab, vec![("ben", Y)], waiting(&["ana"])),
        (
            All,
            &ab,
            vec![("ben", Y), ("ana", Y)],
            RoundOutcome::Approved,
        ),
        // any: one approval is enough
        (Any, &ab, vec![("ben", Y)], RoundOutcome::Approved),
        // changes beat approvals, in both modes
        (
            All,
            &ab,
            vec![("ana", Y), ("ben", N)],
            RoundOutcome::ChangesRequested,
        ),
        (
            Any,
            &ab,
            vec![("ana", Y), ("ben", N)],
            RoundOutcome::ChangesRequested,
        ),
        (Any, &ab, vec![("ana", N)], RoundOutcome::ChangesRequested),
        // latest decision wins
        (
            All,
            &ab,
            vec![("ana", N), ("ben", Y), ("ana", Y)],
            RoundOutcome::Approved,
        ),
        (
            Any,
            &ab,
            vec![("ana", Y), ("ana", N)],
            RoundOutcome::ChangesRequested,
        ),
        // a reviewer (non-approver) does not decide
        (All, &ab, vec![("cleo", N), ("ana", Y)], waiting(&["ben"])),
        (Any, &ab, vec![("cleo", Y)], waiting(&["ana", "ben"])),
        (
            All,
            &ab,
            vec![("cleo", N), ("ana", Y), ("ben", Y)],
            RoundOutcome::Approved,
        ),
        // no approvers: nothing can be approved
        (All, &[], vec![("cleo", Y)], waiting(&[])),
        (Any, &[], vec![], waiting(&[])),
        // an approver listed twice is waited on once
        (
            All,
            &["ana", "ben", "ana"],
            vec![],
            waiting(&["ana", "ben"]),
        ),
    ];
    for (mode, approvers, decisions, want) in cases {
        let decisions: Vec<(String, Decision)> = decisions
            .into_iter()
            .map(|(m, d)| (m.to_string(), d))
            .collect();
        assert_eq!(
            round_outcome(mode, &ids(approvers), &decisions),
            want,
            "{mode:?} {approvers:?} {decisions:?}"
        );
    }
}

#[test]
fn naming_validation_table() {
    let long = format!("{}{{n}}", "a".repeat(198));
    let cases: Vec<(String, Result<&str, &str>)> = vec![
        (DEFAULT_NAMING.into(), Ok(DEFAULT_NAMING)),
        ("  {title}-v{n}.final  ".into(), Ok("{title}-v{n}.final")),
        (
            "{date}_{client}_{title}_{n}".into(),
            Ok("{date}_{client}_{title}_{n}"),
        ),
        ("".into(), Err("empty")),
        ("   ".into(), Err("empty")),
        ("{client}_{campaign}".into(), Err("{n}")),
        (
            "{client}_{author}_v{n}".into(),
            Err("unknown placeholder {author}"),
        ),
        ("{Client}_v{n}".into(), Err("unknown placeholder {Client}")),
        (
            "{client_v{n}".into(),
            Err("unknown placeholder {client_v{n}"),
        ),
        ("{client}_v{n".into(), Err("not closed")),
        ("client}_v{n}".into(), Err("no opening")),
        ("{client}/v{n}".into(), Err("'/' is not allowed")),
        ("../{client}_v{n}".into(), Err("'/' is not allowed")),
        ("{client} v{n}".into(), Err("' ' is not allowed")),
        ("{client}_é_v{n}".into(), Err("'é' is not allowed")),
        (long.clone(), Err("at most 200")),
        (long[1..].to_string(), Ok(&long[1..])),
    ];
    for (input, want) in cases {
        match (validate_naming(&input), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w),
            (Err(CoreError::Invalid { field, message }), Err(w)) => {
                assert_eq!(field, "naming");
                assert!(message.contains(w), "{input:?}: {message:?} lacks {w:?}");
            }
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }
}

fn parts(client: &str, campaign: &str, channel: &str, format: &str) -> NameParts {
    NameParts {
        client: client.into(),
        campaign: campaign.into(),
        channel: channel.into(),
        format: format.into(),
        title: String::new(),
        date: String::new(),
    }
}

#[test]
fn version_names_table() {
    let cases = [
        (
            parts("Harbor Fitness", "Spring Launch", "Instagram", "Reel"),
            3,
            "harbor-fitness_spring-launch_instagram_reel_v3",
        ),
        (
            parts("Café Zoë", "Ça va — Ête", "TikTok", "ÆØÅ ßtraße"),
            1,
            "cafe-zoe_ca-va-ete_tiktok_aeoa-sstrasse_v1",
        ),
        // decomposed accents ("e" + U+0301) fold the same way
        (parts("Cafe\u{301}", "x", "y", "z"), 2, "cafe_x_y_z_v2"),
        (
            parts("東京 Tower", "🚀🚀", "  ", "Feed_Post"),
            12,
            "tower_x_x_feed-post_v12",
        ),
        (
            parts("../../etc/passwd", "a/b\\c", "..", "C:\\x"),
            1,
            "etc-passwd_a-b-c_x_c-x_v1",
        ),
        (
            parts("--Acme--", "Q3 -- 2025", "x.com", "Story 9:16"),
            4_000_000_000,
            "acme_q3-2025_x-com_story-9-16_v4000000000",
        ),
    ];
    for (p, n, want) in cases {
        assert_eq!(version_name(DEFAULT_NAMING, &p, n), want, "{p:?}");
    }
}

#[test]
fn version_names_limit_lengths() {
    let long = parts(
        &"a".repeat(100),
        "b b b b b b b b b b b b b b b b b b b b b",
        "c",
        "d",
    );
    let name = version_name(DEFAULT_NAMING, &long, 7);
    assert_eq!(
        name,
        format!(
            "{}_{}_c_d_v7",
            "a".repeat(40),
            "b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b"
        ),
        "parts are cut at 40 and never end in '-'"
    );
    // Seven long parts in a long pattern: the name stays within 200
    // characters and keeps the version number.
    let p = NameParts {
        client: "c".repeat(60),
        campaign: "k".repeat(60),
        channel: "h".repeat(60),
        format: "f".repeat(60),
        title: "t".repeat(60),
        date: "d".repeat(60),
    };
    let pattern = "{client}_{campaign}_{channel}_{format}_{title}_{date}_{client}_v{n}";
    assert!(validate_naming(pattern).is_ok());
    let name = version_name(pattern, &p, 15);
    assert!(name.len() <= 200, "{} chars: {name}", name.len());
    assert!(name.ends_with("_v15"), "{name}");
    assert!(name.starts_with("ccccc"), "{name}");
    assert!(name.len() > 150, "shortened only as needed: {name}");
}

#[test]
fn version_names_other_patterns() {
    let p = NameParts {
        client: "Acme".into(),
        campaign: "Launch".into(),
        channel: "LinkedIn".into(),
        format: "Carousel".into(),
        title: "Why we built it".into(),
        date: "2025-03-14".into(),
    };
    assert_eq!(
        version_name("{date}_{client}_{title}.v{n}", &p, 2),
        "2025-03-14_acme_why-we-built-it.v2"
    );
    // an invalid pattern falls back to the default convention
    assert_eq!(
        version_name("{client}/{n}", &p, 1),
        "acme_launch_linkedin_carousel_v1"
    );
    assert_eq!(version_name("", &p, 1), "acme_launch_linkedin_carousel_v1");
}

fn keys(items: &[QaItem]) -> Vec<&str> {
    items.iter().map(|i| i.key.as_str()).collect()
}

fn label<'a>(items: &'a [QaItem], key: &str) -> &'a str {
    &items.iter().find(|i| i.key == key).unwrap().label
}

#[test]
fn channels_are_known() {
    let expected = [
        ("instagram", Some(2_200), Some(30)),
        ("facebook", Some(63_206), None),
        ("tiktok", Some(2_200), None),
        ("linkedin", Some(3_000), None),
        ("x", Some(280), None),
        ("youtube", Some(5_000), None),
        ("pinterest", Some(500), None),
        ("threads", Some(500), None),
    ];
    assert_eq!(CHANNELS.len(), expected.len());
    for (key, caption, hashtags) in expected {
        let c = channel(key).unwrap();
        assert_eq!(c.key, key);
        assert_eq!(c.caption_limit, caption, "{key}");
        assert_eq!(c.hashtag_limit, hashtags, "{key}");
    }
    assert_eq!(channel(" Instagram ").map(|c| c.key), Some("instagram"));
    assert_eq!(channel("myspace"), None);
    for (n, want) in [
        (0, "0"),
        (500, "500"),
        (2_200, "2,200"),
        (63_206, "63,206"),
        (100_000, "100,000"),
        (1_234_567, "1,234,567"),
    ] {
        assert_eq!(thousands(n), want);
    }
}

#[test]
fn default_qa_per_channel() {
    let generic = [
        "links_checked",
        "tags_handles",
        "formatting",
        "length",
        "legal",
        "disclosure",
    ];
    let ig = default_qa("instagram");
    assert_eq!(
        keys(&ig),
        [
            "links_checked",
            "tags_handles",
            "formatting",
            "length",
            "hashtags",
            "legal",
            "disclosure"
        ]
    );
    assert_eq!(
        label(&ig, "length"),
        "Caption within Instagram's 2,200 characters"
    );
    assert_eq!(label(&ig, "hashtags"), "At most 30 hashtags");
    assert_eq!(
        label(&ig, "links_checked"),
        "Every link opens the right page, with UTM tags"
    );
    assert_eq!(
        label(&ig, "disclosure"),
        "Paid partnership / #ad disclosure where required"
    );
    let cases = [
        ("facebook", "Caption within Facebook's 63,206 characters"),
        ("x", "Caption within X's 280 characters"),
        ("linkedin", "Caption within LinkedIn's 3,000 characters"),
        ("pinterest", "Caption within Pinterest's 500 characters"),
        ("myspace", "Length fits the channel"),
        ("", "Length fits the channel"),
    ];
    for (ch, want) in cases {
        let items = default_qa(ch);
        assert_eq!(keys(&items), generic, "{ch}");
        assert_eq!(label(&items, "length"), want, "{ch}");
    }
    for c in CHANNELS {
        let items = default_qa(c.key);
        assert_eq!(validate_qa(items.clone()), Ok(items), "{}", c.key);
    }
}

fn qa(key: &str, label: &str) -> QaItem {
    QaItem {
        key: key.into(),
        label: label.into(),
    }
}

#[test]
fn qa_validation_table() {
    let thirty: Vec<QaItem> = (0..30).map(|i| qa(&format!("item_{i}"), "Check")).collect();
    let mut thirty_one = thirty.clone();
    thirty_one.push(qa("one_more", "Check"));
    type Case<'a> = (Vec<QaItem>, Result<Vec<QaItem>, &'a str>);
    let cases: Vec<Case> = vec![
        (
            vec![qa("alt_text", "  Alt text written  "), qa("ab", "x")],
            Ok(vec![qa("alt_text", "Alt text written"), qa("ab", "x")]),
        ),
        (thirty.clone(), Ok(thirty)),
        (
            vec![qa(&format!("a{}", "b".repeat(39)), "x")],
            Ok(vec![qa(&format!("a{}", "b".repeat(39)), "x")]),
        ),
        (vec![], Err("1–30")),
        (thirty_one, Err("1–30")),
        (vec![qa("a", "x")], Err("\"a\"")),
        (vec![qa("Alt", "x")], Err("\"Alt\"")),
        (vec![qa("1st", "x")], Err("\"1st\"")),
        (vec![qa("alt-text", "x")], Err("\"alt-text\"")),
        (vec![qa(&format!("a{}", "b".repeat(40)), "x")], Err("2–40")),
        (vec![qa("legal", "x"), qa("legal", "y")], Err("used twice")),
        (vec![qa("legal", "   ")], Err("label")),
        (vec![qa("legal", &"l".repeat(201))], Err("label")),
        (vec![qa("legal", "two\nlines")], Err("label")),
    ];
    for (input, want) in cases {
        match (validate_qa(input.clone()), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w),
            (Err(CoreError::Invalid { field, message }), Err(w)) => {
                assert_eq!(field, "items");
                assert!(message.contains(w), "{input:?}: {message:?} lacks {w:?}");
            }
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn metrics_empty_and_unreviewed() {
    let none = ContentMetrics {
        items: 0,
        revisions_per_asset: None,
        rework_rate: None,
        approval_cycle_median_ms: None,
        approval_cycle_p90_ms: None,
        first_draft_acceptance: None,
        approval_pass_rate: None,
    };
    assert_eq!(metrics(&[]), none);
    // items still in brief or production count as items, nothing else
    let fresh = [ItemHistory::default(), ItemHistory::default()];
    assert_eq!(metrics(&fresh), ContentMetrics { items: 2, ..none });
}

#[test]
fn metrics_of_a_mixed_set() {
    use RevisionSize::{Major, Minor};
    const H: i64 = 3_600_000;
    let item = |rounds, revisions: Vec<RevisionSize>, sub: Option<i64>, app: Option<i64>, first| {
        ItemHistory {
            rounds,
            revisions,
            first_submitted_at: sub,
            approved_at: app,
            approved_first_round: first,
        }
    };
    let items = [
        // approved at once after 10 h
        item(1, vec![], Some(0), Some(10 * H), true),
        // two revisions (one major), approved in round 3 after 30 h
        item(3, vec![Minor, Major], Some(5 * H), Some(35 * H), false),
        // one major revision, not approved yet
        item(1, vec![Major], Some(0), None, false),
        // never submitted: counts only as an item
        item(0, vec![], None, None, false),
        // one minor revision, approved in round 2 after 20 h
        item(2, vec![Minor], Some(H), Some(21 * H), false),
    ];
    let m = metrics(&items);
    assert_eq!(m.items, 5);
    // 4 revisions over the 4 items with a decided round (not 5 items)
    assert_eq!(m.revisions_per_asset, Some(1.0));
    // major revisions on 2 of 4 reviewed items
    assert_eq!(m.rework_rate, Some(0.5));
    // cycles 10 h, 30 h, 20 h: nearest-rank median 20 h, p90 30 h
    assert_eq!(m.approval_cycle_median_ms, Some(20 * H));
    assert_eq!(m.approval_cycle_p90_ms, Some(30 * H));
    // 1 of 3 approved items approved in the first round
    assert_eq!(m.first_draft_acceptance, Some(1.0 / 3.0));
    // 3 approved rounds out of 1 + 3 + 1 + 0 + 2 = 7 decided
    assert_eq!(m.approval_pass_rate, Some(3.0 / 7.0));
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["approval_cycle_median_ms"], serde_json::json!(20 * H));

    // approval recorded before the first submission: a zero cycle
    let odd = [item(1, vec![], Some(9 * H), Some(2 * H), true)];
    assert_eq!(metrics(&odd).approval_cycle_median_ms, Some(0));
}
