//! The agency role map (from the operations context): who owns what, what they
//! produce and how they are measured. Members hold one or more roles; clients'
//! account teams map roles to members.

use serde::{Deserialize, Serialize};

/// A role in a social agency's delivery team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    AccountLead,
    Strategist,
    ProjectManager,
    CreativeLead,
    Copywriter,
    Designer,
    CommunityManager,
    PaidSocial,
    Analyst,
    Ops,
}

/// What one role owns, produces and is measured by.
#[derive(Debug, Clone, Copy)]
pub struct RoleInfo {
    pub role: Role,
    pub title: &'static str,
    pub ownership: &'static str,
    pub outputs: &'static str,
    pub kpis: &'static str,
}

pub const ROLE_MAP: [RoleInfo; 10] = [
    RoleInfo {
        role: Role::AccountLead,
        title: "Account Lead (Client Partner)",
        ownership: "Relationship, scope integrity, renewals",
        outputs: "Success plan, QBR narrative, escalation decisions",
        kpis: "Retention, expansion, on-time approvals, client satisfaction",
    },
    RoleInfo {
        role: Role::Strategist,
        title: "Social Strategist",
        ownership: "Channel strategy and content direction",
        outputs: "Content pillars, campaign plan, testing roadmap",
        kpis: "Strategy-to-output ratio, content performance lift",
    },
    RoleInfo {
        role: Role::ProjectManager,
        title: "Project Manager (Delivery Ops)",
        ownership: "Workflow, resourcing, due dates",
        outputs: "Production calendar, traffic control, SOP adherence",
        kpis: "On-time rate, cycle time, rework rate",
    },
    RoleInfo {
        role: Role::CreativeLead,
        title: "Creative Lead",
        ownership: "Creative quality and standards",
        outputs: "Creative direction, review notes, brand consistency",
        kpis: "Approval pass rate, revision count, creative velocity",
    },
    RoleInfo {
        role: Role::Copywriter,
        title: "Copywriter",
        ownership: "Messaging and conversions",
        outputs: "Scripts, captions, hooks, CTAs",
        kpis: "First-draft acceptance rate, performance by angle",
    },
    RoleInfo {
        role: Role::Designer,
        title: "Designer / Editor",
        ownership: "Asset production",
        outputs: "Static, motion, edits, cutdowns",
        kpis: "Production throughput, defect rate (QA issues)",
    },
    RoleInfo {
        role: Role::CommunityManager,
        title: "Community Manager",
        ownership: "Engagement and moderation",
        outputs: "Reply playbooks, escalation rules, community reports",
        kpis: "Response time SLA, sentiment trends",
    },
    RoleInfo {
        role: Role::PaidSocial,
        title: "Paid Social Specialist",
        ownership: "Paid planning and execution",
        outputs: "Campaign builds, experiments, budget pacing",
        kpis: "Time-to-launch, CPA/ROAS targets, learning cadence",
    },
    RoleInfo {
        role: Role::Analyst,
        title: "Analyst (Performance Lead)",
        ownership: "Measurement and insight",
        outputs: "Weekly scorecard, attribution notes, next actions",
        kpis: "Report reliability, insight adoption rate",
    },
    RoleInfo {
        role: Role::Ops,
        title: "Marketing Ops / Integrations",
        ownership: "Tooling and automation",
        outputs: "System connections, data QA, automation upkeep",
        kpis: "Automation coverage, integration uptime",
    },
];

impl Role {
    pub const ALL: [Role; 10] = [
        Role::AccountLead,
        Role::Strategist,
        Role::ProjectManager,
        Role::CreativeLead,
        Role::Copywriter,
        Role::Designer,
        Role::CommunityManager,
        Role::PaidSocial,
        Role::Analyst,
        Role::Ops,
    ];

    /// The key used in the API and the database.
    pub fn key(self) -> &'static str {
        match self {
            Role::AccountLead => "account_lead",
            Role::Strategist => "strategist",
            Role::ProjectManager => "project_manager",
            Role::CreativeLead => "creative_lead",
            Role::Copywriter => "copywriter",
            Role::Designer => "designer",
            Role::CommunityManager => "community_manager",
            Role::PaidSocial => "paid_social",
            Role::Analyst => "analyst",
            Role::Ops => "ops",
        }
    }

    pub fn parse(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn info(self) -> &'static RoleInfo {
        &ROLE_MAP[Role::ALL.iter().position(|r| *r == self).expect("listed")]
    }

    /// A short human label ("Project Manager").
    pub fn label(self) -> &'static str {
        match self {
            Role::AccountLead => "Account Lead",
            Role::Strategist => "Strategist",
            Role::ProjectManager => "Project Manager",
            Role::CreativeLead => "Creative Lead",
            Role::Copywriter => "Copywriter",
            Role::Designer => "Designer",
            Role::CommunityManager => "Community Manager",
            Role::PaidSocial => "Paid Social",
            Role::Analyst => "Analyst",
            Role::Ops => "Ops",
        }
    }
}

/// Parses a list of role keys, rejecting unknown ones and removing duplicates
/// while keeping the canonical order.
pub fn parse_roles<S: AsRef<str>>(keys: &[S]) -> Result<Vec<Role>, crate::CoreError> {
    let mut out = Vec::new();
    for k in keys {
        let k = k.as_ref().trim();
        let role = Role::parse(k).ok_or_else(|| {
            crate::CoreError::invalid(
                "roles",
                format!(
                    "unknown role {k:?}; expected one of {}",
                    Role::ALL.map(Role::key).join(", ")
                ),
            )
        })?;
        if !out.contains(&role) {
            out.push(role);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_map_is_aligned() {
        for (i, r) in Role::ALL.into_iter().enumerate() {
            assert_eq!(Role::parse(r.key()), Some(r));
            assert_eq!(ROLE_MAP[i].role, r);
            assert_eq!(r.info().role, r);
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn parse_roles_table() {
        type Case<'a> = (&'a [&'a str], Result<Vec<Role>, ()>);
        let cases: &[Case] = &[
            (&[], Ok(vec![])),
            (&["analyst"], Ok(vec![Role::Analyst])),
            (
                &["ops", "account_lead", "ops"],
                Ok(vec![Role::AccountLead, Role::Ops]),
            ),
            (&["  designer "], Ok(vec![Role::Designer])),
            (&["boss"], Err(())),
            (&["analyst", ""], Err(())),
        ];
        for (input, want) in cases {
            let got = parse_roles(input).map_err(|_| ());
            assert_eq!(&got, want, "{input:?}");
        }
    }
}
