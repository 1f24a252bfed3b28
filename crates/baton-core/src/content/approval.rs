//! Approval: approvers' decisions, how they combine (all or any one) into a
//! round's outcome, and the size of a requested revision.

use serde::{Deserialize, Serialize};

/// An approver's decision on a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    RequestChanges,
}

impl Decision {
    pub fn key(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::RequestChanges => "request_changes",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "request_changes" => Some(Decision::RequestChanges),
            _ => None,
        }
    }
}

/// Whether every approver must approve, or one is enough.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    #[default]
    All,
    Any,
}

impl ApprovalMode {
    pub fn key(self) -> &'static str {
        match self {
            ApprovalMode::All => "all",
            ApprovalMode::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalMode> {
        match s {
            "all" => Some(ApprovalMode::All),
            "any" => Some(ApprovalMode::Any),
            _ => None,
        }
    }
}

/// How big a requested revision is; major ones count as rework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionSize {
    Major,
    Minor,
}

impl RevisionSize {
    pub fn key(self) -> &'static str {
        match self {
            RevisionSize::Major => "major",
            RevisionSize::Minor => "minor",
        }
    }

    pub fn parse(s: &str) -> Option<RevisionSize> {
        match s {
            "major" => Some(RevisionSize::Major),
            "minor" => Some(RevisionSize::Minor),
            _ => None,
        }
    }
}

/// Where an approval round stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Still open; these approvers have not decided yet.
    Pending {
        waiting_on: Vec<String>,
    },
    Approved,
    ChangesRequested,
}

/// The outcome of one approval round on the current version.
///
/// `decisions` are `(member id, decision)` in time order. Only approvers'
/// decisions count (reviewers comment, they do not decide), and an
/// approver's latest decision replaces their earlier one. Any approver
/// requesting changes → `ChangesRequested`, in both modes. `All`: approved
/// when every approver's latest decision is approve. `Any`: approved when at
/// least one approver approved and none requested changes. Otherwise
/// `Pending` with the approvers still to decide, in the given order (listed
/// once each). No approvers → `Pending` with an empty list: nobody can
/// approve, which the caller must surface rather than auto-approve.
pub fn round_outcome(
    mode: ApprovalMode,
    approvers: &[String],
    decisions: &[(String, Decision)],
) -> RoundOutcome {
    let mut distinct: Vec<&String> = Vec::new();
    for a in approvers {
        if !distinct.contains(&a) {
            distinct.push(a);
        }
    }
    let latest = |who: &String| {
        decisions
            .iter()
            .rev()
            .find(|(m, _)| m == who)
            .map(|(_, d)| *d)
    };
    let latest: Vec<(&String, Option<Decision>)> =
        distinct.iter().map(|a| (*a, latest(a))).collect();
    if distinct.is_empty() {
        return RoundOutcome::Pending {
            waiting_on: Vec::new(),
        };
    }
    if latest
        .iter()
        .any(|(_, d)| *d == Some(Decision::RequestChanges))
    {
        return RoundOutcome::ChangesRequested;
    }
    let approved = match mode {
        ApprovalMode::All => latest.iter().all(|(_, d)| *d == Some(Decision::Approve)),
        ApprovalMode::Any => latest.iter().any(|(_, d)| *d == Some(Decision::Approve)),
    };
    if approved {
        return RoundOutcome::Approved;
    }
    RoundOutcome::Pending {
        waiting_on: latest
            .into_iter()
            .filter(|(_, d)| d.is_none())
            .map(|(a, _)| a.clone())
            .collect(),
    }
}
