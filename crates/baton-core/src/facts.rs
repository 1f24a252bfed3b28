//! Runs follow the work: the checklist items of an SOP run that are facts
//! Baton already knows (the brief is complete, a draft was added under the
//! naming convention, the round was decided, the publishing QA is done,
//! every required access is verified, the handoff brief has a section…).
//! Such an item ticks itself when its fact becomes true and unticks if the
//! fact stops being true; it cannot be ticked by hand. A run whose
//! checklist is fully met completes itself at that instant.
//!
//! A run is about a **subject** ([`Subject`]): the content item its trigger
//! event named, or the client's handoff brief, access or offboarding. Facts
//! are looked up by (subject, checklist item key), so an agency that edits
//! an SOP keeps the self-ticking items whose keys it keeps. The store reads
//! the subject's state into a [`Snapshot`]; [`holds`] says whether a fact is
//! true of it. Pure: the same snapshot always gives the same answer.

use serde::{Deserialize, Serialize};

use crate::content::{ContentBrief, ContentStatus};
use crate::incidents::Status as IncidentStatus;

/// What a run is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// One content item (runs started by `content.*` events).
    ContentItem,
    /// The client's sales-to-delivery handoff brief.
    HandoffBrief,
    /// The client's platform access (its onboarding links' requests).
    Access,
    /// The client's offboarding: access revoked, assets archived.
    Offboarding,
    /// One incident of the incident log (runs of `incident_response`).
    Incident,
    /// One ISO week of the weekly scorecard (runs of `weekly_performance`,
    /// started by `week_ended`); the subject id is the week, `2026-W48`.
    Week,
}

impl Subject {
    pub const ALL: [Subject; 6] = [
        Subject::ContentItem,
        Subject::HandoffBrief,
        Subject::Access,
        Subject::Offboarding,
        Subject::Incident,
        Subject::Week,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Subject::ContentItem => "content_item",
            Subject::HandoffBrief => "handoff_brief",
            Subject::Access => "access",
            Subject::Offboarding => "offboarding",
            Subject::Incident => "incident",
            Subject::Week => "week",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|k| k.key() == s)
    }

    /// The subject of a run of SOP `sop_key` started by an event about
    /// `entity_type`: content events name their item; the client-level SOPs
    /// are about the client's brief, access or offboarding. `None`: a run
    /// about nothing Baton tracks (only hand-ticked items).
    pub fn of_run(sop_key: &str, entity_type: Option<&str>) -> Option<Subject> {
        match entity_type {
            Some("content") => return Some(Subject::ContentItem),
            Some("incident") => return Some(Subject::Incident),
            Some("week") => return Some(Subject::Week),
            _ => {}
        }
        match sop_key {
            "sales_handoff" => Some(Subject::HandoffBrief),
            "access_setup" => Some(Subject::Access),
            "offboarding" => Some(Subject::Offboarding),
            _ => None,
        }
    }
}

/// What runs of `def` are about when its trigger starts them (its content
/// events name an item; the client-level SOPs by their key).
pub fn subject_of_sop(def: &crate::sop::SopDefinition) -> Option<Subject> {
    let entity = if def.trigger.starts_with("content.") {
        Some("content")
    } else if def.trigger.starts_with("incident.") {
        Some("incident")
    } else if def.trigger == crate::events::WEEK_ENDED {
        Some("week")
    } else {
        None
    };
    Subject::of_run(&def.key, entity)
}

/// A fact that ticks a checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// The content brief's field is filled.
    BriefField(&'static str),
    /// A draft (version) was added; every version is named by the agency's
    /// convention, so this is also "files follow the naming convention".
    DraftAdded,
    /// The drafts left production: submitted for review at least once.
    Submitted,
    /// The run's review round was opened (drafts sent to the approvers).
    RoundOpened,
    /// The run's round was decided, its feedback consolidated into one list.
    RoundDecided,
    /// The run's round was approved, or its changes were made (a newer
    /// version exists).
    RevisionsMade,
    /// The item's publishing QA checklist is done (or waived with a reason).
    QaDone,
    /// The handoff brief has this section.
    HandoffSection(&'static str),
    /// The client has access requests (not withdrawn).
    AccessListed,
    /// Every required access request is verified.
    AccessVerified,
    /// No access is still held: every granted or verified access was revoked
    /// or waived.
    AccessRevoked,
    /// The incident is triaged (severity confirmed, lead set).
    IncidentTriaged,
    /// The incident's response plan is written.
    IncidentPlanWritten,
    /// The response plan is executed: the incident is mitigated.
    IncidentPlanExecuted,
    /// The incident log is updated: resolved with a closing summary.
    IncidentLogUpdated,
    /// The week's scorecard (with its three insights and three actions)
    /// was shipped for the run's client or for the whole agency.
    ScorecardShipped,
}

impl Fact {
    /// Why the item ticks itself, for the SOP page and the run card.
    pub fn explain(self) -> &'static str {
        match self {
            Fact::BriefField(_) => "ticks itself when the item's brief has this field",
            Fact::DraftAdded => {
                "ticks itself when a draft is added (versions are named by the convention)"
            }
            Fact::Submitted => "ticks itself when the drafts are submitted for review",
            Fact::RoundOpened => "ticks itself when the round is opened for the approvers",
            Fact::RoundDecided => {
                "ticks itself when the round is decided and its feedback consolidated"
            }
            Fact::RevisionsMade => {
                "ticks itself when the round is approved, or its revision is added"
            }
            Fact::QaDone => "ticks itself when the item's publishing QA is done (or waived)",
            Fact::HandoffSection(_) => "ticks itself when the handoff brief has this section",
            Fact::AccessListed => "ticks itself when the client's link asks for access",
            Fact::AccessVerified => "ticks itself when every required access is verified",
            Fact::AccessRevoked => "ticks itself when every held access is revoked or waived",
            Fact::IncidentTriaged => "ticks itself when the incident is triaged",
            Fact::IncidentPlanWritten => "ticks itself when the response plan is written at triage",
            Fact::IncidentPlanExecuted => "ticks itself when the incident is mitigated",
            Fact::IncidentLogUpdated => {
                "ticks itself when the incident is resolved with a closing summary"
            }
            Fact::ScorecardShipped => {
                "ticks itself when the week's scorecard is shipped with 3 insights and 3 actions"
            }
        }
    }
}

/// The fact behind checklist item `item` of a run about `subject`, if the
/// item is one Baton knows.
pub fn fact_for(subject: Subject, item: &str) -> Option<Fact> {
    use Fact::*;
    Some(match (subject, item) {
        (Subject::ContentItem, f) if ContentBrief::FIELDS.contains(&f) => {
            BriefField(ContentBrief::FIELDS.into_iter().find(|k| *k == f)?)
        }
        (Subject::ContentItem, "drafts_produced" | "version_naming") => DraftAdded,
        (Subject::ContentItem, "specs_met" | "internal_review") => Submitted,
        (Subject::ContentItem, "sent_for_review") => RoundOpened,
        (Subject::ContentItem, "feedback_consolidated" | "approvals_recorded") => RoundDecided,
        (Subject::ContentItem, "revisions_made") => RevisionsMade,
        (
            Subject::ContentItem,
            "links_checked" | "tags_checked" | "formatting_checked" | "legal_checked",
        ) => QaDone,
        (Subject::HandoffBrief, s) if crate::handoff::SECTION_KEYS.contains(&s) => {
            HandoffSection(crate::handoff::SECTION_KEYS.into_iter().find(|k| *k == s)?)
        }
        (Subject::Access, "platforms_listed" | "access_requested") => AccessListed,
        (Subject::Access, "platform_access_verified" | "folder_access_verified") => AccessVerified,
        (Subject::Offboarding, "access_revoked") => AccessRevoked,
        (Subject::Incident, "triage") => IncidentTriaged,
        (Subject::Incident, "response_plan") => IncidentPlanWritten,
        (Subject::Incident, "plan_executed") => IncidentPlanExecuted,
        (Subject::Incident, "log_updated") => IncidentLogUpdated,
        (Subject::Week, "scorecard" | "three_insights" | "three_actions" | "shipped") => {
            ScorecardShipped
        }
        _ => return None,
    })
}

/// One approval round as the facts need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundState {
    pub round: i64,
    /// The version the round reviewed.
    pub version_n: i64,
    pub decided: bool,
    pub approved: bool,
}

/// A content item as the facts need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentState {
    pub status: ContentStatus,
    pub brief: ContentBrief,
    /// The newest version's number (0: none yet).
    pub current_version: i64,
    pub rounds: Vec<RoundState>,
    pub qa_done: bool,
}

/// The client's access as the facts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessState {
    /// Requests that are not withdrawn.
    pub listed: i64,
    /// Every required request verified (the time-to-verified-access moment
    /// has come).
    pub complete: bool,
    /// Granted or verified access neither revoked nor waived.
    pub held: i64,
}

/// An incident as the facts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentState {
    pub status: crate::incidents::Status,
    pub plan_written: bool,
    /// The resolve note (the closing summary) is written.
    pub summary_written: bool,
}

/// What the store read of a run's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snapshot {
    Content(ContentState),
    /// The sections of the newest handoff brief that are filled.
    Handoff(Vec<&'static str>),
    Access(AccessState),
    Incident(IncidentState),
    /// Whether the week's scorecard covering the client is shipped.
    Week {
        shipped: bool,
    },
}

/// Whether `fact` is true of `snapshot`. `round`: the review round a review
/// run is about (`None`: the newest round).
pub fn holds(fact: Fact, snapshot: &Snapshot, round: Option<i64>) -> bool {
    match (fact, snapshot) {
        (Fact::BriefField(f), Snapshot::Content(c)) => !c.brief.missing().contains(&f),
        (Fact::DraftAdded, Snapshot::Content(c)) => c.current_version >= 1,
        (Fact::Submitted, Snapshot::Content(c)) => !c.rounds.is_empty(),
        (Fact::RoundOpened, Snapshot::Content(c)) => the_round(c, round).is_some(),
        (Fact::RoundDecided, Snapshot::Content(c)) => {
            the_round(c, round).is_some_and(|r| r.decided)
        }
        (Fact::RevisionsMade, Snapshot::Content(c)) => the_round(c, round)
            .is_some_and(|r| r.decided && (r.approved || c.current_version > r.version_n)),
        (Fact::QaDone, Snapshot::Content(c)) => {
            c.qa_done
                || matches!(
                    c.status,
                    ContentStatus::Scheduled | ContentStatus::Published
                )
        }
        (Fact::HandoffSection(s), Snapshot::Handoff(done)) => done.contains(&s),
        (Fact::AccessListed, Snapshot::Access(a)) => a.listed > 0,
        (Fact::AccessVerified, Snapshot::Access(a)) => a.complete,
        (Fact::AccessRevoked, Snapshot::Access(a)) => a.held == 0,
        (Fact::IncidentTriaged, Snapshot::Incident(i)) => reached(i, IncidentStatus::Triaged),
        (Fact::IncidentPlanWritten, Snapshot::Incident(i)) => i.plan_written,
        (Fact::IncidentPlanExecuted, Snapshot::Incident(i)) => {
            reached(i, IncidentStatus::Mitigated)
        }
        (Fact::IncidentLogUpdated, Snapshot::Incident(i)) => {
            reached(i, IncidentStatus::Resolved) && i.summary_written
        }
        (Fact::ScorecardShipped, Snapshot::Week { shipped }) => *shipped,
        _ => false,
    }
}

/// Whether the incident got to `status` (a cancelled one got nowhere).
fn reached(i: &IncidentState, status: IncidentStatus) -> bool {
    i.status != IncidentStatus::Cancelled && i.status >= status
}

fn the_round(c: &ContentState, round: Option<i64>) -> Option<&RoundState> {
    match round {
        Some(n) => c.rounds.iter().find(|r| r.round == n),
        None => c.rounds.iter().max_by_key(|r| r.round),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(filled: &[&str]) -> ContentBrief {
        let v = |k: &str| {
            if filled.contains(&k) {
                "yes".to_string()
            } else {
                String::new()
            }
        };
        ContentBrief {
            audience: v("audience"),
            angle: v("angle"),
            offer: v("offer"),
            constraints: v("constraints"),
            examples: v("examples"),
        }
    }

    fn content(version: i64, rounds: &[(i64, i64, bool, bool)], qa: bool) -> Snapshot {
        Snapshot::Content(ContentState {
            status: ContentStatus::InProduction,
            brief: brief(&["audience", "angle"]),
            current_version: version,
            rounds: rounds
                .iter()
                .map(|&(round, version_n, decided, approved)| RoundState {
                    round,
                    version_n,
                    decided,
                    approved,
                })
                .collect(),
            qa_done: qa,
        })
    }

    #[test]
    fn every_default_sop_item_of_a_tracked_subject_is_a_fact_or_named_manual() {
        use crate::sop::default_library;
        // Items a person ticks: Baton cannot know them.
        let manual = ["assets_archived", "final_report_sent"];
        for def in default_library() {
            let Some(subject) = subject_of_sop(&def) else {
                continue;
            };
            for item in &def.checklist {
                assert!(
                    fact_for(subject, &item.key).is_some() || manual.contains(&item.key.as_str()),
                    "{}: {} has no fact",
                    def.key,
                    item.key
                );
            }
        }
        assert_eq!(Subject::of_run("weekly_performance", None), None);
        assert_eq!(Subject::of_run("incident_response", None), None);
        assert_eq!(
            Subject::of_run("incident_response", Some("incident")),
            Some(Subject::Incident)
        );
        assert_eq!(
            Subject::of_run("my_own_sop", Some("content")),
            Some(Subject::ContentItem)
        );
        for s in Subject::ALL {
            assert_eq!(Subject::parse(s.key()), Some(s));
        }
    }

    #[test]
    fn facts_by_subject_and_key() {
        use Fact::*;
        for (subject, key, want) in [
            (
                Subject::ContentItem,
                "audience",
                Some(BriefField("audience")),
            ),
            (Subject::ContentItem, "version_naming", Some(DraftAdded)),
            (Subject::ContentItem, "internal_review", Some(Submitted)),
            (
                Subject::ContentItem,
                "approvals_recorded",
                Some(RoundDecided),
            ),
            (Subject::ContentItem, "legal_checked", Some(QaDone)),
            (Subject::ContentItem, "platforms_listed", None),
            (
                Subject::HandoffBrief,
                "goals_documented",
                Some(HandoffSection("goals_documented")),
            ),
            (Subject::HandoffBrief, "audience", None),
            (
                Subject::Access,
                "folder_access_verified",
                Some(AccessVerified),
            ),
            (Subject::Offboarding, "access_revoked", Some(AccessRevoked)),
            (Subject::Offboarding, "assets_archived", None),
        ] {
            assert_eq!(fact_for(subject, key), want, "{subject:?} {key}");
        }
    }

    #[test]
    fn content_facts() {
        use Fact::*;
        // (fact, snapshot, round, holds)
        let cases = [
            (BriefField("audience"), content(0, &[], false), None, true),
            (BriefField("offer"), content(0, &[], false), None, false),
            (DraftAdded, content(0, &[], false), None, false),
            (DraftAdded, content(1, &[], false), None, true),
            (Submitted, content(1, &[], false), None, false),
            (
                Submitted,
                content(1, &[(1, 1, false, false)], false),
                None,
                true,
            ),
            (
                RoundOpened,
                content(1, &[(1, 1, false, false)], false),
                Some(1),
                true,
            ),
            (
                RoundOpened,
                content(1, &[(1, 1, false, false)], false),
                Some(2),
                false,
            ),
            (
                RoundDecided,
                content(1, &[(1, 1, false, false)], false),
                Some(1),
                false,
            ),
            (
                RoundDecided,
                content(1, &[(1, 1, true, false)], false),
                Some(1),
                true,
            ),
            // Changes requested on v1: the revision is made once v2 exists.
            (
                RevisionsMade,
                content(1, &[(1, 1, true, false)], false),
                Some(1),
                false,
            ),
            (
                RevisionsMade,
                content(2, &[(1, 1, true, false)], false),
                Some(1),
                true,
            ),
            (
                RevisionsMade,
                content(2, &[(1, 1, true, false), (2, 2, true, true)], false),
                Some(2),
                true,
            ),
            // Without a round number: the newest round.
            (
                RevisionsMade,
                content(2, &[(1, 1, true, false), (2, 2, false, false)], false),
                None,
                false,
            ),
            (QaDone, content(2, &[], false), None, false),
            (QaDone, content(2, &[], true), None, true),
            // A fact of another subject is never true of content.
            (AccessVerified, content(2, &[], true), None, false),
        ];
        for (i, (fact, snap, round, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                holds(fact, &snap, round),
                want,
                "case {i}: {fact:?} round {round:?}"
            );
        }
        let mut scheduled = content(2, &[], false);
        if let Snapshot::Content(c) = &mut scheduled {
            c.status = ContentStatus::Scheduled;
        }
        assert!(holds(QaDone, &scheduled, None), "scheduled implies QA done");
    }

    #[test]
    fn client_facts() {
        use Fact::*;
        let access = |listed, complete, held| {
            Snapshot::Access(AccessState {
                listed,
                complete,
                held,
            })
        };
        for (fact, snap, want) in [
            (AccessListed, access(0, false, 0), false),
            (AccessListed, access(3, false, 0), true),
            (AccessVerified, access(3, false, 1), false),
            (AccessVerified, access(3, true, 3), true),
            (AccessRevoked, access(3, true, 2), false),
            (AccessRevoked, access(3, true, 0), true),
            (
                HandoffSection("goals_documented"),
                Snapshot::Handoff(vec!["goals_documented"]),
                true,
            ),
            (
                HandoffSection("first_30_days"),
                Snapshot::Handoff(vec!["goals_documented"]),
                false,
            ),
        ] {
            assert_eq!(holds(fact, &snap, None), want, "{fact:?} {snap:?}");
        }
    }

    #[test]
    fn incident_facts_follow_its_lifecycle() {
        use crate::incidents::Status::*;
        let snap = |status, plan, summary| {
            Snapshot::Incident(IncidentState {
                status,
                plan_written: plan,
                summary_written: summary,
            })
        };
        let item = |k| fact_for(Subject::Incident, k).unwrap();
        // (status, plan, summary) → triage, response_plan, plan_executed, log_updated
        let cases = [
            ((Reported, false, false), [false, false, false, false]),
            ((Triaged, true, false), [true, true, false, false]),
            ((Mitigated, true, false), [true, true, true, false]),
            ((Resolved, true, false), [true, true, true, false]),
            ((Resolved, true, true), [true, true, true, true]),
            ((Closed, true, true), [true, true, true, true]),
            ((Cancelled, false, false), [false, false, false, false]),
        ];
        for ((status, plan, summary), want) in cases {
            let s = snap(status, plan, summary);
            let got = ["triage", "response_plan", "plan_executed", "log_updated"]
                .map(|k| holds(item(k), &s, None));
            assert_eq!(got, want, "{status:?}");
        }
        assert_eq!(fact_for(Subject::Incident, "something_else"), None);
    }
}
