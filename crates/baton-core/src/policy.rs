//! Who may do what: the one authorization policy that the web app and the
//! API both ask, so a rule cannot hold in one and not the other.
//!
//! [`can`] is pure: the handler gathers the facts about the person acting
//! ([`Principal`]: a member, their admin flag and their seats on the
//! subject client's account team) and asks about one [`Action`] on one
//! [`Subject`]. A refusal is a [`Denied`] whose sentence names the rule, for
//! people ("Only the account lead, traffic control or an admin can change
//! who approves."). The store never authorizes; it applies the domain's
//! rules about *when* a permitted change takes effect
//! ([`participants_effect`]).

use crate::content::ContentStatus;

/// A member's seats on one client's account team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seats {
    /// The client these seats are on; seats on another client count as none.
    pub client_id: String,
    /// Holds the client's account lead role.
    pub account_lead: bool,
    /// Owns the client's traffic control.
    pub traffic_control: bool,
}

/// A member of the agency, as the policy needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFacts {
    pub id: String,
    pub is_admin: bool,
    /// Their seats on the subject's client (gathered for client-scoped
    /// actions; `None` when not looked up or not on the team).
    pub seats: Option<Seats>,
}

/// Who is acting. API tokens act as their member; client links will join
/// here as their own principals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Member(MemberFacts),
}

impl Principal {
    /// The principal is an agency admin.
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Member(m) => m.is_admin,
        }
    }

    /// The member's seats on `client_id` (none for another client's seats).
    fn seats_on(&self, client_id: &str) -> Seats {
        match self {
            Principal::Member(m) => m
                .seats
                .clone()
                .filter(|s| s.client_id == client_id)
                .unwrap_or_default(),
        }
    }
}

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Change who reviews and who approves (and how approvals combine): a
    /// content item's, or a client's defaults for new items.
    ChangeParticipants,
    /// Correct a client's last lifecycle move (reopen).
    CorrectLifecycle,
}

impl Action {
    pub const ALL: [Action; 2] = [Action::ChangeParticipants, Action::CorrectLifecycle];
}

/// What it is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A client (its lifecycle, its content defaults).
    Client { client_id: &'a str },
    /// One content item of a client.
    ContentItem { client_id: &'a str },
}

impl Subject<'_> {
    fn client_id(&self) -> &str {
        match self {
            Subject::Client { client_id } | Subject::ContentItem { client_id } => client_id,
        }
    }
}

/// A refusal: the sentence says the rule to the person refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{sentence}")]
pub struct Denied {
    pub sentence: String,
}

/// The refusal of [`Action::ChangeParticipants`].
pub const CHANGE_PARTICIPANTS_RULE: &str =
    "Only the account lead, traffic control or an admin can change who approves.";
/// The refusal of [`Action::CorrectLifecycle`].
pub const CORRECT_LIFECYCLE_RULE: &str =
    "Only an admin can correct a client's lifecycle: ask an admin to reopen it.";

/// Whether `principal` may do `action` on `subject`.
///
/// - `ChangeParticipants`: the subject client's account lead, its
///   traffic-control owner, or an admin.
/// - `CorrectLifecycle`: admins only.
pub fn can(principal: &Principal, action: Action, subject: Subject<'_>) -> Result<(), Denied> {
    let seats = principal.seats_on(subject.client_id());
    let (allowed, rule) = match action {
        Action::ChangeParticipants => (
            principal.is_admin() || seats.account_lead || seats.traffic_control,
            CHANGE_PARTICIPANTS_RULE,
        ),
        Action::CorrectLifecycle => (principal.is_admin(), CORRECT_LIFECYCLE_RULE),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied {
            sentence: rule.to_string(),
        })
    }
}

/// When a permitted change of an item's reviewers and approvers applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// At once.
    Now,
    /// When the next review round opens (the next submit); the open round
    /// keeps the approvers it was submitted to.
    NextRound,
}

/// A change during an open round (`in_review`) by anyone but an admin waits
/// for the next round, so nobody can add themselves as an approver of the
/// draft already in front of them; an admin's change applies at once (to
/// unblock a round whose approver left). Outside a round every change
/// applies at once.
pub fn participants_effect(by_admin: bool, status: ContentStatus) -> Effect {
    if status == ContentStatus::InReview && !by_admin {
        Effect::NextRound
    } else {
        Effect::Now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(admin: bool, lead: bool, tc: bool, on: &str) -> Principal {
        Principal::Member(MemberFacts {
            id: "mem_1".into(),
            is_admin: admin,
            seats: Some(Seats {
                client_id: on.into(),
                account_lead: lead,
                traffic_control: tc,
            }),
        })
    }

    #[test]
    fn every_action_for_every_principal() {
        let plain = member(false, false, false, "cli_a");
        let lead = member(false, true, false, "cli_a");
        let tc = member(false, false, true, "cli_a");
        let admin = member(true, false, false, "cli_a");
        // Seats on another client give nothing here.
        let lead_elsewhere = member(false, true, true, "cli_b");
        let no_seats = Principal::Member(MemberFacts {
            id: "mem_2".into(),
            is_admin: false,
            seats: None,
        });
        let principals = [
            ("plain member", &plain),
            ("account lead", &lead),
            ("traffic control", &tc),
            ("admin", &admin),
            ("lead of another client", &lead_elsewhere),
            ("member without seats", &no_seats),
        ];
        // (action, who may) per principal, in `principals` order.
        let table: [(Action, [bool; 6]); 2] = [
            (
                Action::ChangeParticipants,
                [false, true, true, true, false, false],
            ),
            (
                Action::CorrectLifecycle,
                [false, false, false, true, false, false],
            ),
        ];
        assert_eq!(table.len(), Action::ALL.len(), "every action in the table");
        for (action, allowed) in table {
            for ((who, p), want) in principals.iter().zip(allowed) {
                for subject in [
                    Subject::Client { client_id: "cli_a" },
                    Subject::ContentItem { client_id: "cli_a" },
                ] {
                    let got = can(p, action, subject);
                    assert_eq!(got.is_ok(), want, "{who} {action:?} {subject:?}: {got:?}");
                    if let Err(d) = got {
                        let rule = match action {
                            Action::ChangeParticipants => CHANGE_PARTICIPANTS_RULE,
                            Action::CorrectLifecycle => CORRECT_LIFECYCLE_RULE,
                        };
                        assert_eq!(d.sentence, rule);
                        assert_eq!(d.to_string(), rule);
                    }
                }
            }
        }
    }

    #[test]
    fn refusals_name_the_rule_for_people() {
        let d = can(
            &member(false, false, false, "cli_a"),
            Action::ChangeParticipants,
            Subject::ContentItem { client_id: "cli_a" },
        )
        .unwrap_err();
        assert_eq!(
            d.sentence,
            "Only the account lead, traffic control or an admin can change who approves."
        );
        assert!(!d.sentence.contains("mem_"), "no ids: {d}");
    }

    #[test]
    fn when_a_participants_change_applies() {
        for status in ContentStatus::ALL {
            let by_member = participants_effect(false, status);
            let by_admin = participants_effect(true, status);
            assert_eq!(by_admin, Effect::Now, "an admin's change applies at once");
            if status == ContentStatus::InReview {
                assert_eq!(by_member, Effect::NextRound, "open round");
            } else {
                assert_eq!(by_member, Effect::Now, "{status:?}: no open round");
            }
        }
    }
}
