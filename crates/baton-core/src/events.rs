//! Names of the events Baton records. Lifecycle events posted on a client keep
//! the type they were posted with (`contract_signed`); events Baton emits on its
//! own are namespaced by entity (`client.created`, `member.invited`). Every
//! event also carries a `topic` (always namespaced) for webhooks.

use crate::lifecycle::ClientEventType;

pub const CLIENT_CREATED: &str = "client.created";
pub const CLIENT_UPDATED: &str = "client.updated";
pub const CLIENT_TEAM_CHANGED: &str = "client.team_changed";
pub const CLIENT_LIFECYCLE_CHANGED: &str = "client.lifecycle_changed";
pub const MEMBER_CREATED: &str = "member.created";
pub const MEMBER_INVITED: &str = "member.invited";
pub const MEMBER_UPDATED: &str = "member.updated";
pub const AGENCY_CREATED: &str = "agency.created";
pub const AGENCY_UPDATED: &str = "agency.updated";

/// The webhook topic of a client timeline event: `client.contract_signed`.
pub fn client_topic(t: ClientEventType) -> String {
    format!("client.{}", t.key())
}

/// The topic of any stored event type: namespaced types are their own topic,
/// bare lifecycle types get the `client.` namespace.
pub fn topic_of(event_type: &str) -> String {
    if event_type.contains('.') {
        event_type.to_string()
    } else {
        format!("client.{event_type}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert_eq!(
            client_topic(ClientEventType::ContractSigned),
            "client.contract_signed"
        );
        assert_eq!(topic_of("contract_ended"), "client.contract_ended");
        assert_eq!(topic_of("client.created"), "client.created");
    }
}
