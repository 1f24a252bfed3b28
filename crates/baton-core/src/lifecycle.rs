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
}

impl ClientEventType {
    pub const ALL: [ClientEventType; 6] = [
        ClientEventType::ContractSigned,
        ClientEventType::KickoffScheduled,
        ClientEventType::OnboardingCompleted,
        ClientEventType::ContractEnded,
        ClientEventType::Archived,
        ClientEventType::Note,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ClientEventType::ContractSigned => "contract_signed",
            ClientEventType::KickoffScheduled => "kickoff_scheduled",
            ClientEventType::OnboardingCompleted => "onboarding_completed",
            ClientEventType::ContractEnded => "contract_ended",
            ClientEventType::Archived => "archived",
            ClientEventType::Note => "note",
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
        }
    }

    pub fn parse(key: &str) -> Option<ClientEventType> {
        ClientEventType::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Whether the event needs a note (a note without text says nothing).
    pub fn requires_note(self) -> bool {
        matches!(self, ClientEventType::Note)
    }
}

/// The lifecycle after `event` happens to a client in `from`, or a conflict
/// naming the impossible move.
pub fn transition(from: Lifecycle, event: ClientEventType) -> Result<Lifecycle, CoreError> {
    use ClientEventType as E;
    use Lifecycle as L;
    let to = match (from, event) {
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
        ];
        for (from, event, want) in cases {
            let got = transition(from, event).ok();
            assert_eq!(got, want, "{from:?} + {event:?}");
        }
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
