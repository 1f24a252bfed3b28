//! Typed ids: one newtype per kind of thing (`ClientId`, `MemberId`, …), so
//! a member's id cannot be passed where a client's is meant, and a string
//! of the wrong shape never becomes an id. Each wraps the prefixed,
//! time-ordered text of [`crate::ids`] (`cli_01JD…`) and is stored and sent
//! as that text: `Serialize` writes it, `Deserialize` and [`FromStr`] check
//! the prefix and shape (so a web framework refuses a wrong one while
//! extracting the request), and [`as_str`](ClientId::as_str) binds it in SQL.
//! Modelled on lldap's `crates/domain/src/types.rs`.

use std::fmt;
use std::str::FromStr;

use crate::ids;

/// A string that is not an id of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {kind} id (expected {prefix}_ and 26 letters and digits)")]
pub struct NotAnId {
    /// What was expected, in words ("client").
    pub kind: &'static str,
    pub prefix: &'static str,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:expr, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;
            /// What it names, in words.
            pub const KIND: &'static str = $kind;

            /// A new id, ordered by `now_ms`.
            pub fn new(now_ms: i64) -> Self {
                Self(ids::new_id($prefix, now_ms))
            }

            /// The id in `s`, when `s` has this kind's prefix and shape.
            pub fn parse(s: &str) -> Result<Self, NotAnId> {
                if ids::has_shape(s, $prefix) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(NotAnId {
                        kind: $kind,
                        prefix: $prefix,
                    })
                }
            }

            /// The id as stored and sent (`cli_01JD…`).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Reads as its text wherever a `&str` is taken (`&id` binds in SQL
        /// and passes to functions that take ids as text).
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = NotAnId;

            fn from_str(s: &str) -> Result<Self, NotAnId> {
                Self::parse(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// An agency (a tenant): `agy_…`.
    AgencyId, ids::AGENCY, "agency"
);
typed_id!(
    /// A member of an agency's team: `mem_…`.
    MemberId, ids::MEMBER, "member"
);
typed_id!(
    /// A client of an agency: `cli_…`.
    ClientId, ids::CLIENT, "client"
);
typed_id!(
    /// A recorded event: `evt_…`.
    EventId, ids::EVENT, "event"
);
typed_id!(
    /// An API token: `tok_…`.
    TokenId, ids::TOKEN, "token"
);
typed_id!(
    /// A team invite: `inv_…`.
    InviteId, ids::INVITE, "invite"
);
typed_id!(
    /// An outbox job: `job_…`.
    JobId, ids::JOB, "job"
);
typed_id!(
    /// A client's onboarding link: `lnk_…`.
    LinkId, ids::LINK, "onboarding link"
);
typed_id!(
    /// One access request on a link: `acc_…`.
    AccessRequestId, ids::ACCESS_REQUEST, "access request"
);
typed_id!(
    /// A saved set of access requests: `tpl_…`.
    AccessTemplateId, ids::ACCESS_TEMPLATE, "access template"
);
typed_id!(
    /// An uploaded file: `fil_…`.
    FileId, ids::FILE, "file"
);
typed_id!(
    /// One run of an SOP for a client: `run_…`.
    RunId, ids::SOP_RUN, "SOP run"
);
typed_id!(
    /// A notice to a member: `ntc_…`.
    NoticeId, ids::NOTICE, "notice"
);
typed_id!(
    /// A content item: `cnt_…`.
    ContentId, ids::CONTENT, "content item"
);
typed_id!(
    /// A comment on a content item: `cmt_…`.
    CommentId, ids::COMMENT, "comment"
);
typed_id!(
    /// An approval decision: `dec_…`.
    DecisionId, ids::DECISION, "decision"
);
typed_id!(
    /// A client's approval link for content: `apl_…`.
    ApprovalLinkId, ids::APPROVAL_LINK, "approval link"
);
typed_id!(
    /// An incident in the incident log: `inc_…`.
    IncidentId, ids::INCIDENT, "incident"
);
typed_id!(
    /// A timeline note of an incident: `inn_…`.
    IncidentNoteId, ids::INCIDENT_NOTE, "incident note"
);
typed_id!(
    /// A postmortem's follow-up action: `ina_…`.
    IncidentActionId, ids::INCIDENT_ACTION, "follow-up action"
);
typed_id!(
    /// A measurable of the weekly scorecard: `msr_…`.
    MeasurableId, ids::MEASURABLE, "measurable"
);
typed_id!(
    /// A shipped weekly scorecard: `scw_…`.
    ScorecardId, ids::SCORECARD, "scorecard"
);
typed_id!(
    /// An action agreed in a weekly scorecard: `act_…`.
    ActionId, ids::ACTION, "action"
);
typed_id!(
    /// One occurrence of a cadence (a meeting on a date): `cdo_…`, derived
    /// from the cadence, its scope and the date ([`ids::derived_id`]).
    OccurrenceId, ids::CADENCE_OCCURRENCE, "cadence occurrence"
);
typed_id!(
    /// A decision recorded in a cadence's meeting: `cdd_…`.
    CadenceDecisionId, ids::CADENCE_DECISION, "decision"
);
typed_id!(
    /// An outbound integration endpoint (a webhook, a Slack or Teams
    /// channel): `whk_…`.
    EndpointId, ids::ENDPOINT, "endpoint"
);
typed_id!(
    /// One event's delivery to one endpoint, with its attempts: `dlv_…`
    /// (one per endpoint and event, so a repeated fan-out adds nothing).
    DeliveryId, ids::DELIVERY, "delivery"
);
typed_id!(
    /// An inbound endpoint that accepts signed events from outside: `inb_…`.
    InboundId, ids::INBOUND, "inbound endpoint"
);
typed_id!(
    /// The agency's connection to a platform's API (a connector): `con_…`.
    ConnectionId, ids::CONNECTION, "connection"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_check_their_prefix_and_shape() {
        let client = ClientId::new(1_000);
        assert!(client.as_str().starts_with("cli_"));
        assert_eq!(ClientId::parse(client.as_str()), Ok(client.clone()));
        let member = MemberId::new(1_000);
        let cases: [(&str, bool); 6] = [
            (client.as_str(), true),
            (member.as_str(), false),
            ("cli_", false),
            ("cli_' OR 1=1 --", false),
            ("", false),
            ("CLI_01JD0000000000000000000000", false),
        ];
        for (text, ok) in cases {
            assert_eq!(ClientId::parse(text).is_ok(), ok, "{text:?}");
            assert_eq!(text.parse::<ClientId>().is_ok(), ok, "{text:?}");
        }
        assert_eq!(
            ClientId::parse(member.as_str()).unwrap_err().to_string(),
            "not a client id (expected cli_ and 26 letters and digits)"
        );
    }

    #[test]
    fn ids_are_json_strings_and_refuse_the_wrong_kind() {
        let run = RunId::new(5);
        let json = serde_json::to_string(&run).unwrap();
        assert_eq!(json, format!("\"{run}\""));
        let back: RunId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, run);
        assert_eq!(back, run.as_str());
        let wrong = serde_json::from_str::<ContentId>(&json).unwrap_err();
        assert!(
            wrong.to_string().contains("not a content item id"),
            "{wrong}"
        );
        assert!(serde_json::from_str::<RunId>("42").is_err());
    }

    #[test]
    fn every_kind_has_its_own_prefix() {
        let prefixes = [
            AgencyId::PREFIX,
            MemberId::PREFIX,
            ClientId::PREFIX,
            EventId::PREFIX,
            TokenId::PREFIX,
            InviteId::PREFIX,
            JobId::PREFIX,
            LinkId::PREFIX,
            AccessRequestId::PREFIX,
            AccessTemplateId::PREFIX,
            FileId::PREFIX,
            RunId::PREFIX,
            NoticeId::PREFIX,
            ContentId::PREFIX,
            CommentId::PREFIX,
            DecisionId::PREFIX,
            ApprovalLinkId::PREFIX,
            IncidentId::PREFIX,
            IncidentNoteId::PREFIX,
            IncidentActionId::PREFIX,
        ];
        let unique: std::collections::BTreeSet<_> = prefixes.iter().collect();
        assert_eq!(unique.len(), prefixes.len());
    }
}
