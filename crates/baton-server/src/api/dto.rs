//! What the API returns: stable JSON shapes, separate from storage rows so the
//! wire format changes only on purpose. Times are RFC 3339 UTC with `Z`.

use baton_core::clock::rfc3339;
use baton_core::custom_domain::DomainStatus;
use baton_store::agencies::Agency;
use baton_store::clients::{Client, TeamSeat};
use baton_store::events::Event;
use baton_store::members::Member;
use baton_store::tokens::ApiToken;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    /// `cli_…`
    pub id: String,
    pub name: String,
    /// `won`, `onboarding`, `active`, `offboarding` or `archived`.
    pub lifecycle: String,
    pub website: Option<String>,
    pub notes: Option<String>,
    /// The one member who owns traffic control for this client.
    pub traffic_control_member_id: Option<String>,
    /// Account team, role → member (only on single-client reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<Vec<TeamSeatOut>>,
    pub created_at: String,
    pub updated_at: String,
    pub archived_at: Option<String>,
}

impl ClientOut {
    pub fn new(c: Client, team: Option<Vec<TeamSeat>>) -> ClientOut {
        ClientOut {
            id: c.id.into(),
            name: c.name,
            lifecycle: c.lifecycle.key().into(),
            website: c.website,
            notes: c.notes,
            traffic_control_member_id: c.traffic_control_member_id,
            team: team.map(|t| t.into_iter().map(TeamSeatOut::from).collect()),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            archived_at: c.archived_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamSeatOut {
    pub role: String,
    pub member_id: String,
    pub member_name: String,
}

impl From<TeamSeat> for TeamSeatOut {
    fn from(s: TeamSeat) -> Self {
        TeamSeatOut {
            role: s.role.key().into(),
            member_id: s.member_id,
            member_name: s.member_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActorOut {
    /// `member`, `token`, `cli`, `system` or `client_link`.
    pub kind: String,
    pub id: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// `evt_…`
    pub id: String,
    /// Position in the agency's event log; also the pagination cursor.
    pub seq: i64,
    /// As posted for timeline events (`contract_signed`), namespaced for
    /// events Baton emits itself (`client.created`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Always namespaced (`client.contract_signed`); the webhook topic.
    pub topic: String,
    pub client_id: Option<String>,
    pub entity_type: String,
    pub entity_id: String,
    /// When it happened (may be back-dated).
    pub occurred_at: String,
    /// When Baton recorded it.
    pub recorded_at: String,
    pub actor: ActorOut,
    pub note: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<Event> for EventOut {
    fn from(e: Event) -> Self {
        EventOut {
            id: e.id,
            seq: e.seq,
            event_type: e.event_type,
            topic: e.topic,
            client_id: e.client_id,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            occurred_at: rfc3339(e.occurred_at),
            recorded_at: rfc3339(e.recorded_at),
            actor: ActorOut {
                kind: e.actor_kind,
                id: e.actor_id,
                label: e.actor_label,
            },
            note: e.note,
            data: e.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// `mem_…`
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub is_admin: bool,
    pub active: bool,
    /// False until the member used their invite link.
    pub has_password: bool,
    pub created_at: String,
}

impl From<Member> for MemberOut {
    fn from(m: Member) -> Self {
        MemberOut {
            id: m.id,
            email: m.email,
            name: m.name,
            roles: m.roles.iter().map(|r| r.key().to_string()).collect(),
            is_admin: m.is_admin,
            active: m.active,
            has_password: m.has_password,
            created_at: rfc3339(m.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// `tok_…`
    pub id: String,
    pub member_id: String,
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<ApiToken> for TokenOut {
    fn from(t: ApiToken) -> Self {
        TokenOut {
            id: t.id.into(),
            member_id: t.member_id,
            name: t.name,
            scope: t.scope.key().into(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyOut {
    /// `agy_…`
    pub id: String,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub brand_color: String,
    pub accent_color: String,
    pub logo_url: Option<String>,
    pub white_label: bool,
    /// The custom domain as set, verified or not.
    pub custom_domain: Option<String>,
    /// `pending`: set, but Baton neither routes it nor puts it in links
    /// until the TXT record `custom_domain_txt_name` holds
    /// `custom_domain_txt_value`. `verified`: routed and used in links.
    pub custom_domain_status: CustomDomainStatus,
    /// When the domain was verified (for a domain set before verification
    /// existed: the upgrade).
    pub custom_domain_verified_at: Option<String>,
    /// While pending: the name of the TXT record to add,
    /// `_baton-challenge.{custom_domain}`.
    pub custom_domain_txt_name: Option<String>,
    /// While pending: the value the TXT record must hold.
    pub custom_domain_txt_value: Option<String>,
    /// While pending: when Baton last looked the record up…
    pub custom_domain_checked_at: Option<String>,
    /// …and what it found, in words.
    pub custom_domain_check_found: Option<String>,
    pub created_at: String,
}

/// Where the agency's custom domain stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CustomDomainStatus {
    None,
    Pending,
    Verified,
}

impl From<DomainStatus> for CustomDomainStatus {
    fn from(s: DomainStatus) -> Self {
        match s {
            DomainStatus::None => CustomDomainStatus::None,
            DomainStatus::Pending => CustomDomainStatus::Pending,
            DomainStatus::Verified => CustomDomainStatus::Verified,
        }
    }
}

impl From<Agency> for AgencyOut {
    fn from(a: Agency) -> Self {
        let status = a.domain_status();
        let record = a.pending_record();
        let pending = status == DomainStatus::Pending;
        let configured = a.configured_domain().map(String::from);
        AgencyOut {
            id: a.id.into(),
            name: a.name,
            slug: a.slug,
            timezone: a.timezone,
            brand_color: a.brand_color,
            accent_color: a.accent_color,
            logo_url: a.logo_url,
            white_label: a.white_label,
            custom_domain: configured,
            custom_domain_status: status.into(),
            custom_domain_verified_at: a.domain.verified_at.map(rfc3339),
            custom_domain_txt_name: record.as_ref().map(|r| r.0.clone()),
            custom_domain_txt_value: record.map(|r| r.1),
            custom_domain_checked_at: a.domain.checked_at.filter(|_| pending).map(rfc3339),
            custom_domain_check_found: a.domain.found.filter(|_| pending),
            created_at: rfc3339(a.created_at),
        }
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOut<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> PageOut<T> {
    pub fn map<S>(p: baton_store::Page<S>, f: impl FnMut(S) -> T) -> PageOut<T> {
        PageOut {
            items: p.items.into_iter().map(f).collect(),
            next_cursor: p.next_cursor,
        }
    }
}
