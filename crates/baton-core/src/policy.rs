//! Who may do what: the one authorization policy that the web app, the
//! API and the CLI ask, so a rule cannot hold in one door and not another.
//!
//! [`can`] is pure: the caller gathers the facts about who is acting
//! ([`Principal`]: a member in the web app, a member through an API token
//! of some [`Scope`], or the server's operator at the command line) and asks
//! about one [`Action`] on one [`Subject`]. A refusal is a [`Denied`] whose
//! sentence names the rule, for people ("Only the account lead, traffic
//! control or an admin can change who approves."). The store makes no
//! rules of its own: it applies the domain's rules about *when* a permitted
//! change takes effect ([`participants_effect`]), and asks [`may_decide`]
//! about a content decision on the item it has locked, so the seats it
//! checks are the ones the decision is recorded against.

use crate::content::ContentStatus;

/// What an API token may do. Ordered: `admin` includes `write` includes
/// `read`. A token never gives more than its member has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

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

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A member signed in to the web app: everything their membership allows.
    Member(MemberFacts),
    /// A member's API token: what the member may do, within the token's scope.
    Token { member: MemberFacts, scope: Scope },
    /// The server's operator at the command line (`baton …` on the host):
    /// whoever runs the binary with the data directory owns the data.
    Operator,
}

impl Principal {
    /// The principal acts with an agency admin's rights.
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Member(m) | Principal::Token { member: m, .. } => m.is_admin,
            Principal::Operator => true,
        }
    }

    /// The member's seats on `client_id` (none for another client's seats).
    fn seats_on(&self, client_id: &str) -> Seats {
        match self {
            Principal::Member(m) | Principal::Token { member: m, .. } => m
                .seats
                .clone()
                .filter(|s| s.client_id == client_id)
                .unwrap_or_default(),
            Principal::Operator => Seats::default(),
        }
    }
}

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Look at the agency's work: clients, requests, runs, content, KPIs.
    Read,
    /// Do the agency's work: record events, move requests, run SOPs, write
    /// content (every member may; a token needs `write`).
    Write,
    /// Run the agency: settings, members, the SOP library, platforms, the
    /// business calendar, other members' tokens (admins; a token needs
    /// `admin`).
    Administer,
    /// Change who reviews and who approves (and how approvals combine): a
    /// content item's, or a client's defaults for new items.
    ChangeParticipants,
    /// Correct a client's last lifecycle move (reopen).
    CorrectLifecycle,
    /// Re-size a decided round's revision (major or minor) after the fact,
    /// e.g. a client's change request that was really a rework.
    ResizeRevision,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::Write,
        Action::Administer,
        Action::ChangeParticipants,
        Action::CorrectLifecycle,
        Action::ResizeRevision,
    ];

    /// The token scope the action needs at least.
    pub fn scope(self) -> Scope {
        match self {
            Action::Read => Scope::Read,
            Action::Write
            | Action::ChangeParticipants
            | Action::CorrectLifecycle
            | Action::ResizeRevision => Scope::Write,
            Action::Administer => Scope::Admin,
        }
    }

    /// The action a token scope stands for at an API door that asks for it.
    pub fn of_scope(scope: Scope) -> Action {
        match scope {
            Scope::Read => Action::Read,
            Scope::Write => Action::Write,
            Scope::Admin => Action::Administer,
        }
    }
}

/// What it is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The agency as a whole (its settings, team, library).
    Agency,
    /// A client (its lifecycle, its content defaults).
    Client { client_id: &'a str },
    /// One content item of a client.
    ContentItem { client_id: &'a str },
    /// A part of the agency's settings (its refusal names the part).
    Setting(Area),
}

/// A part of the agency only admins change; the refusal of
/// [`Action::Administer`] on it says which ("Only agency admins can change
/// the business hours.").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Name, time zone, brand, domain, retention.
    Agency,
    /// Members, their roles, invites.
    Team,
    /// The business calendar: hours and holidays.
    BusinessHours,
    /// The SOP library.
    SopLibrary,
    /// Onboarding settings and access templates.
    Onboarding,
    /// The platform catalog.
    PlatformCatalog,
    /// Incident severities, and closing an incident over open follow-ups.
    Incidents,
    /// The scorecard's measurables and goals, and how the KPIs count.
    Scorecard,
    /// Webhooks, Slack and Teams channels, inbound endpoints.
    Integrations,
}

impl Area {
    pub const ALL: [Area; 9] = [
        Area::Agency,
        Area::Team,
        Area::BusinessHours,
        Area::SopLibrary,
        Area::Onboarding,
        Area::PlatformCatalog,
        Area::Incidents,
        Area::Scorecard,
        Area::Integrations,
    ];

    /// What a member does to the area, finishing "Only agency admins can …".
    pub fn phrase(self) -> &'static str {
        match self {
            Area::Agency => "change the agency's settings",
            Area::Team => "manage the team",
            Area::BusinessHours => "change the business hours",
            Area::SopLibrary => "change the SOP library",
            Area::Onboarding => "change the onboarding settings",
            Area::PlatformCatalog => "change the platform catalog",
            Area::Incidents => {
                "change the incident severities or close an incident over open follow-up actions"
            }
            Area::Scorecard => "change the scorecard's measurables or how the KPIs count",
            Area::Integrations => {
                "manage the integrations (webhooks, Slack and Teams, inbound endpoints)"
            }
        }
    }
}

impl Subject<'_> {
    fn client_id(&self) -> &str {
        match self {
            Subject::Agency | Subject::Setting(_) => "",
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
/// The refusal of [`Action::ResizeRevision`].
pub const RESIZE_REVISION_RULE: &str =
    "Only the client's account lead or an admin can re-size a revision.";
/// The refusal of [`Action::CorrectLifecycle`].
pub const CORRECT_LIFECYCLE_RULE: &str =
    "Only an admin can correct a client's lifecycle: ask an admin to reopen it.";
/// The refusal of [`Action::Administer`] to a member who is not an admin.
pub const ADMINISTER_RULE: &str = "only agency admins can do this";

/// Whether `principal` may do `action` on `subject`.
///
/// - A token first needs the action's scope ([`Action::scope`]); then it
///   may what its member may.
/// - `Read`, `Write`: every member.
/// - `Administer`: admins.
/// - `ChangeParticipants`: the subject client's account lead, its
///   traffic-control owner, or an admin.
/// - `CorrectLifecycle`: admins only.
/// - `ResizeRevision`: the subject client's account lead, or an admin.
/// - The operator may everything.
pub fn can(principal: &Principal, action: Action, subject: Subject<'_>) -> Result<(), Denied> {
    if let Principal::Token { scope, .. } = principal {
        if *scope < action.scope() {
            return Err(Denied {
                sentence: format!(
                    "this token has scope '{}'; this request needs '{}'",
                    scope.key(),
                    action.scope().key()
                ),
            });
        }
    }
    let seats = principal.seats_on(subject.client_id());
    let admin = principal.is_admin();
    let allowed = match action {
        Action::Read | Action::Write => true,
        Action::Administer | Action::CorrectLifecycle => admin,
        Action::ChangeParticipants => admin || seats.account_lead || seats.traffic_control,
        Action::ResizeRevision => admin || seats.account_lead,
    };
    if allowed {
        return Ok(());
    }
    let sentence = match (action, subject) {
        (Action::Administer, Subject::Setting(area)) => {
            format!("Only agency admins can {}.", area.phrase())
        }
        (Action::Administer, _) => ADMINISTER_RULE.to_string(),
        (Action::ChangeParticipants, _) => CHANGE_PARTICIPANTS_RULE.to_string(),
        (Action::CorrectLifecycle, _) => CORRECT_LIFECYCLE_RULE.to_string(),
        (Action::ResizeRevision, _) => RESIZE_REVISION_RULE.to_string(),
        (Action::Read | Action::Write, _) => unreachable!("every member may read and write"),
    };
    Err(Denied { sentence })
}

/// Who decides on a content item's open round: a member of the agency, or
/// the client through their approval link (a capability, not a login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider<'a> {
    Member { id: &'a str },
    Client,
}

/// The seats of an item's open review round, as the policy needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundSeats<'a> {
    /// Who approves this round (member ids, and [`CLIENT_APPROVER`] when the
    /// client approves on their link).
    pub approvers: &'a [String],
    /// Approvers of a change waiting for the next round, if any.
    pub next_round_approvers: Option<&'a [String]>,
    pub reviewers: &'a [String],
}

/// The approver seat of the client on an item's approvers.
pub const CLIENT_APPROVER: &str = "client";

/// Whether `decider` may decide (approve, or ask for changes) on the open
/// round with `seats`, and if so the seat the decision counts for. Review is
/// broad, approval is narrow: only the round's approvers decide — a
/// reviewer comments, an approver added during the round decides from the
/// next one, and the client only when the client is an approver.
pub fn may_decide(decider: Decider<'_>, seats: RoundSeats<'_>) -> Result<String, Denied> {
    let deny = |sentence: &str| {
        Err(Denied {
            sentence: sentence.to_string(),
        })
    };
    match decider {
        Decider::Member { id } => {
            if seats.approvers.iter().any(|a| a == id) {
                return Ok(id.to_string());
            }
            if seats
                .next_round_approvers
                .is_some_and(|next| next.iter().any(|a| a == id))
            {
                deny("you approve from the next round on: this round is decided by the approvers it was submitted to")
            } else if seats.reviewers.iter().any(|r| r == id) {
                deny("reviewers comment; only the item's approvers decide")
            } else {
                deny("only the item's approvers decide")
            }
        }
        Decider::Client => {
            if seats.approvers.iter().any(|a| a == CLIENT_APPROVER) {
                Ok(CLIENT_APPROVER.to_string())
            } else {
                deny("the client is not an approver of this item")
            }
        }
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

    fn token(p: &Principal, scope: Scope) -> Principal {
        match p {
            Principal::Member(m) => Principal::Token {
                member: m.clone(),
                scope,
            },
            other => other.clone(),
        }
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
            ("plain member", plain.clone()),
            ("account lead", lead.clone()),
            ("traffic control", tc),
            ("admin", admin.clone()),
            ("lead of another client", lead_elsewhere),
            ("member without seats", no_seats),
            ("operator", Principal::Operator),
            ("admin's read token", token(&admin, Scope::Read)),
            ("admin's write token", token(&admin, Scope::Write)),
            ("admin's admin token", token(&admin, Scope::Admin)),
            ("member's admin token", token(&plain, Scope::Admin)),
            ("lead's read token", token(&lead, Scope::Read)),
            ("lead's write token", token(&lead, Scope::Write)),
        ];
        // (action, who may) per principal, in `principals` order.
        let table: [(Action, [bool; 13]); 6] = [
            (
                Action::Read,
                [
                    true, true, true, true, true, true, true, true, true, true, true, true, true,
                ],
            ),
            (
                Action::Write,
                [
                    true, true, true, true, true, true, true, false, true, true, true, false, true,
                ],
            ),
            (
                Action::Administer,
                [
                    false, false, false, true, false, false, true, false, false, true, false,
                    false, false,
                ],
            ),
            (
                Action::ChangeParticipants,
                [
                    false, true, true, true, false, false, true, false, true, true, false, false,
                    true,
                ],
            ),
            (
                Action::CorrectLifecycle,
                [
                    false, false, false, true, false, false, true, false, true, true, false, false,
                    false,
                ],
            ),
            (
                Action::ResizeRevision,
                [
                    false, true, false, true, false, false, true, false, true, true, false, false,
                    true,
                ],
            ),
        ];
        assert_eq!(table.len(), Action::ALL.len(), "every action in the table");
        for (action, allowed) in table {
            for ((who, p), want) in principals.iter().zip(allowed) {
                let settings = Area::ALL.map(Subject::Setting);
                for subject in [
                    Subject::Agency,
                    Subject::Client { client_id: "cli_a" },
                    Subject::ContentItem { client_id: "cli_a" },
                ]
                .into_iter()
                .chain(settings)
                {
                    let on_agency = matches!(subject, Subject::Agency | Subject::Setting(_));
                    if on_agency
                        && matches!(action, Action::ChangeParticipants | Action::ResizeRevision)
                    {
                        // Seats are on a client: only admins and the operator.
                        let got = can(p, action, subject);
                        assert_eq!(
                            got.is_ok(),
                            want && (p.is_admin()),
                            "{who} {action:?} agency"
                        );
                        continue;
                    }
                    let got = can(p, action, subject);
                    assert_eq!(got.is_ok(), want, "{who} {action:?} {subject:?}: {got:?}");
                    if let Err(d) = got {
                        let short_scope =
                            matches!(p, Principal::Token { scope, .. } if *scope < action.scope());
                        let rule = match action {
                            _ if short_scope => "this token has scope",
                            Action::Read | Action::Write => unreachable!("members may"),
                            Action::Administer => match subject {
                                Subject::Setting(_) => "Only agency admins can ",
                                _ => ADMINISTER_RULE,
                            },
                            Action::ChangeParticipants => CHANGE_PARTICIPANTS_RULE,
                            Action::CorrectLifecycle => CORRECT_LIFECYCLE_RULE,
                            Action::ResizeRevision => RESIZE_REVISION_RULE,
                        };
                        assert!(d.sentence.starts_with(rule), "{who} {action:?}: {d}");
                        assert_eq!(d.to_string(), d.sentence);
                    }
                }
            }
        }
    }

    #[test]
    fn a_setting_refusal_names_the_setting() {
        let d = can(
            &member(false, true, true, "cli_a"),
            Action::Administer,
            Subject::Setting(Area::BusinessHours),
        )
        .unwrap_err();
        assert_eq!(
            d.sentence,
            "Only agency admins can change the business hours."
        );
        let phrases: std::collections::HashSet<_> = Area::ALL.iter().map(|a| a.phrase()).collect();
        assert_eq!(phrases.len(), Area::ALL.len(), "each area says which");
    }

    #[test]
    fn a_token_says_which_scope_it_lacks() {
        let d = can(
            &token(&member(true, false, false, "cli_a"), Scope::Read),
            Action::Administer,
            Subject::Agency,
        )
        .unwrap_err();
        assert_eq!(
            d.sentence,
            "this token has scope 'read'; this request needs 'admin'"
        );
        for scope in Scope::ALL {
            assert_eq!(Action::of_scope(scope).scope(), scope);
            assert_eq!(Scope::parse(scope.key()), Some(scope));
        }
        assert_eq!(Scope::parse("root"), None);
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
    fn only_the_rounds_approvers_decide() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let approvers = strings(&["mem_a", CLIENT_APPROVER]);
        let reviewers = strings(&["mem_r"]);
        let next = strings(&["mem_a", "mem_n"]);
        let seats = RoundSeats {
            approvers: &approvers,
            next_round_approvers: Some(&next),
            reviewers: &reviewers,
        };
        let without_client = strings(&["mem_a"]);
        let cases: [(Decider, RoundSeats, Result<&str, &str>); 6] = [
            (Decider::Member { id: "mem_a" }, seats, Ok("mem_a")),
            (
                Decider::Member { id: "mem_n" },
                seats,
                Err("you approve from the next round on"),
            ),
            (
                Decider::Member { id: "mem_r" },
                seats,
                Err("reviewers comment"),
            ),
            (
                Decider::Member { id: "mem_x" },
                seats,
                Err("only the item's approvers decide"),
            ),
            (Decider::Client, seats, Ok(CLIENT_APPROVER)),
            (
                Decider::Client,
                RoundSeats {
                    approvers: &without_client,
                    ..seats
                },
                Err("the client is not an approver"),
            ),
        ];
        for (decider, seats, want) in cases {
            match (may_decide(decider, seats), want) {
                (Ok(seat), Ok(w)) => assert_eq!(seat, w, "{decider:?}"),
                (Err(d), Err(w)) => assert!(d.sentence.starts_with(w), "{decider:?}: {d}"),
                (got, w) => panic!("{decider:?}: {got:?}, want {w:?}"),
            }
        }
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
