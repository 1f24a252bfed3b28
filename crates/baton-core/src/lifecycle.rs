//! The client lifecycle `won → onboarding → active → offboarding → archived`
//! and the lifecycle events that move it. Every move not listed in
//! [`transition`] is impossible and answered with a conflict.

use serde::{Deserialize, Serialize};

use crate::CoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Won,
    Onboarding,
    Active,
    Offboarding,
    Archived,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Won,
        Lifecycle::Onboarding,
        Lifecycle::Active,
        Lifecycle::Offboarding,
        Lifecycle::Archived,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Lifecycle::Won => "won",
            Lifecycle::Onboarding => "onboarding",
            Lifecycle::Active => "active",
            Lifecycle::Offboarding => "offboarding",
            Lifecycle::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Lifecycle::Won => "Won",
            Lifecycle::Onboarding => "Onboarding",
            Lifecycle::Active => "Active",
            Lifecycle::Offboarding => "Offboarding",
            Lifecycle::Archived => "Archived",
        }
    }

    pub fn parse(key: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.into_iter().find(|l| l.key() == key)
    }
}

/// A fact recorded on a client's timeline through the API or the web app.
/// Some move the lifecycle; `note` and `kickoff_scheduled` never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientEventType {
    /// The contract is signed: delivery starts onboarding the client.
    ContractSigned,
    /// The kickoff meeting is on the calendar (starts access setup later).
    KickoffScheduled,
    /// Onboarding is finished: the client is in regular delivery.
    OnboardingCompleted,
    /// The contract ended: offboarding and access revoke start.
    ContractEnded,
    /// Offboarding is finished and the client is archived.
    Archived,
    /// A decision or remark on the timeline.
    Note,
    /// A correction: the client goes back to the stage its last move left
    /// (an admin, with a reason). History is not rewritten: the mistaken move
    /// stays on the timeline, and this event records its correction.
    Reopened,
}

impl ClientEventType {
    pub const ALL: [ClientEventType; 7] = [
        ClientEventType::ContractSigned,
        ClientEventType::KickoffScheduled,
        ClientEventType::OnboardingCompleted,
        ClientEventType::ContractEnded,
        ClientEventType::Archived,
        ClientEventType::Note,
        ClientEventType::Reopened,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ClientEventType::ContractSigned => "contract_signed",
            ClientEventType::KickoffScheduled => "kickoff_scheduled",
            ClientEventType::OnboardingCompleted => "onboarding_completed",
            ClientEventType::ContractEnded => "contract_ended",
            ClientEventType::Archived => "archived",
            ClientEventType::Note => "note",
            ClientEventType::Reopened => "reopened",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClientEventType::ContractSigned => "Contract signed",
            ClientEventType::KickoffScheduled => "Kickoff scheduled",
            ClientEventType::OnboardingCompleted => "Onboarding completed",
            ClientEventType::ContractEnded => "Contract ended",
            ClientEventType::Archived => "Archived",
            ClientEventType::Note => "Note",
            ClientEventType::Reopened => "Last move corrected",
        }
    }

    pub fn parse(key: &str) -> Option<ClientEventType> {
        ClientEventType::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Whether the event needs a note (a note without text says nothing; a
    /// correction says why).
    pub fn requires_note(self) -> bool {
        matches!(self, ClientEventType::Note | ClientEventType::Reopened)
    }

    /// The lifecycle events that can move a client (a note never does; a
    /// correction moves it back, see [`reopen_target`]).
    pub fn may_move(self) -> bool {
        !matches!(self, ClientEventType::Note | ClientEventType::Reopened)
    }
}

/// Why a correction is not a move: it is recorded as its own event.
const REOPEN_BY_EVENT: &str = "a correction returns the client to the stage its last move left: \
     record it as {\"type\":\"reopened\",\"note\":\"why\"}";

/// The lifecycle after `event` happens to a client in `from`, or a conflict
/// naming the impossible move.
pub fn transition(from: Lifecycle, event: ClientEventType) -> Result<Lifecycle, CoreError> {
    use ClientEventType as E;
    use Lifecycle as L;
    let to = match (from, event) {
        (_, E::Reopened) => return Err(CoreError::Conflict(REOPEN_BY_EVENT.into())),
        (L::Archived, _) => None,
        (_, E::Note) => Some(from),
        (L::Won, E::ContractSigned) => Some(L::Onboarding),
        (L::Won | L::Onboarding, E::KickoffScheduled) => Some(L::Onboarding),
        (L::Onboarding, E::OnboardingCompleted) => Some(L::Active),
        (L::Onboarding | L::Active, E::ContractEnded) => Some(L::Offboarding),
        (L::Won, E::ContractEnded) => Some(L::Offboarding),
        (L::Offboarding, E::Archived) => Some(L::Archived),
        _ => None,
    };
    to.ok_or_else(|| {
        CoreError::Conflict(format!(
            "a client in lifecycle stage '{}' cannot take event '{}'",
            from.key(),
            event.key()
        ))
    })
}

/// The stages a move from `from` to `to` passes over without stopping
/// (`won → offboarding` skips onboarding and active). Empty for a move to
/// the next stage, for no move, and for a move back.
pub fn skipped(from: Lifecycle, to: Lifecycle) -> Vec<Lifecycle> {
    let at = |l: Lifecycle| Lifecycle::ALL.iter().position(|x| *x == l).unwrap_or(0);
    let (a, b) = (at(from), at(to));
    if b <= a + 1 {
        return Vec::new();
    }
    Lifecycle::ALL[a + 1..b].to_vec()
}

/// Where a correction of the move `from → to` takes a client now in
/// `current`: back to `from`. Refused when the client is no longer where
/// that move left it, or the move did not move it.
pub fn reopen_target(
    current: Lifecycle,
    from: Lifecycle,
    to: Lifecycle,
) -> Result<Lifecycle, CoreError> {
    if from == to {
        return Err(CoreError::Conflict(
            "the last event did not move the client: there is nothing to correct".into(),
        ));
    }
    if current != to {
        return Err(CoreError::Conflict(format!(
            "the client is in '{}', not where its last move left it ('{}')",
            current.key(),
            to.key()
        )));
    }
    Ok(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientEventType as E;
    use Lifecycle as L;

    #[test]
    fn transition_table() {
        let cases = [
            (L::Won, E::ContractSigned, Some(L::Onboarding)),
            (L::Won, E::KickoffScheduled, Some(L::Onboarding)),
            (L::Won, E::OnboardingCompleted, None),
            (L::Won, E::ContractEnded, Some(L::Offboarding)),
            (L::Won, E::Archived, None),
            (L::Won, E::Note, Some(L::Won)),
            (L::Onboarding, E::ContractSigned, None),
            (L::Onboarding, E::KickoffScheduled, Some(L::Onboarding)),
            (L::Onboarding, E::OnboardingCompleted, Some(L::Active)),
            (L::Onboarding, E::ContractEnded, Some(L::Offboarding)),
            (L::Onboarding, E::Archived, None),
            (L::Active, E::ContractSigned, None),
            (L::Active, E::KickoffScheduled, None),
            (L::Active, E::OnboardingCompleted, None),
            (L::Active, E::ContractEnded, Some(L::Offboarding)),
            (L::Active, E::Archived, None),
            (L::Active, E::Note, Some(L::Active)),
            (L::Offboarding, E::ContractEnded, None),
            (L::Offboarding, E::Archived, Some(L::Archived)),
            (L::Offboarding, E::Note, Some(L::Offboarding)),
            (L::Archived, E::Note, None),
            (L::Archived, E::ContractSigned, None),
            (L::Offboarding, E::Reopened, None),
            (L::Won, E::Reopened, None),
        ];
        for (from, event, want) in cases {
            let got = transition(from, event).ok();
            assert_eq!(got, want, "{from:?} + {event:?}");
        }
    }

    #[test]
    fn skipped_stages() {
        for (from, to, want) in [
            (L::Won, L::Offboarding, vec![L::Onboarding, L::Active]),
            (L::Onboarding, L::Offboarding, vec![L::Active]),
            (L::Won, L::Onboarding, vec![]),
            (L::Active, L::Offboarding, vec![]),
            (L::Offboarding, L::Active, vec![]),
            (L::Active, L::Active, vec![]),
        ] {
            assert_eq!(skipped(from, to), want, "{from:?} → {to:?}");
        }
    }

    #[test]
    fn reopen_goes_back_where_the_move_started() {
        assert_eq!(
            reopen_target(L::Offboarding, L::Won, L::Offboarding),
            Ok(L::Won)
        );
        assert_eq!(
            reopen_target(L::Offboarding, L::Active, L::Offboarding),
            Ok(L::Active)
        );
        assert_eq!(
            reopen_target(L::Active, L::Onboarding, L::Active),
            Ok(L::Onboarding)
        );
        assert!(reopen_target(L::Archived, L::Active, L::Offboarding).is_err());
        assert!(reopen_target(L::Active, L::Active, L::Active).is_err());
        assert!(E::Reopened.requires_note() && !E::Reopened.may_move());
    }

    #[test]
    fn conflict_names_the_move() {
        let err = transition(L::Active, E::ContractSigned).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a client in lifecycle stage 'active' cannot take event 'contract_signed'"
        );
    }

    #[test]
    fn keys_round_trip() {
        for l in L::ALL {
            assert_eq!(L::parse(l.key()), Some(l));
        }
        for e in E::ALL {
            assert_eq!(E::parse(e.key()), Some(e));
        }
        assert_eq!(E::parse("contract_signed; DROP TABLE"), None);
    }
}
