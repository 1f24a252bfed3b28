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
/// The agency's custom domain passed its DNS TXT check: Baton routes it now.
pub const CUSTOM_DOMAIN_VERIFIED: &str = "agency.custom_domain_verified";
pub const ONBOARDING_SETTINGS_CHANGED: &str = "agency.onboarding_settings_changed";
pub const CALENDAR_CHANGED: &str = "agency.calendar_changed";
pub const PLATFORM_SAVED: &str = "platform.saved";
pub const PLATFORM_DELETED: &str = "platform.deleted";
pub const ACCESS_TEMPLATE_SAVED: &str = "access_template.saved";
pub const ACCESS_TEMPLATE_DELETED: &str = "access_template.deleted";
pub const LINK_CREATED: &str = "onboarding.link_created";
pub const LINK_OPENED: &str = "onboarding.link_opened";
pub const LINK_REVOKED: &str = "onboarding.link_revoked";
pub const LINK_REGENERATED: &str = "onboarding.link_regenerated";
pub const LINK_EXPIRED: &str = "onboarding.link_expired";
pub const REMINDER_SENT: &str = "onboarding.reminder_sent";
pub const ANSWERS_SAVED: &str = "onboarding.answers_saved";
pub const FILE_UPLOADED: &str = "onboarding.file_uploaded";
pub const ONBOARDING_COMPLETED: &str = "onboarding.completed";
pub const ACCESS_GRANTED: &str = "access.granted_by_client";
pub const ACCESS_STUCK: &str = "access.client_stuck";
pub const ACCESS_VERIFIED: &str = "access.verified";
pub const ACCESS_FAILED: &str = "access.failed";
pub const ACCESS_REVOKED: &str = "access.revoked";
pub const ACCESS_WAIVED: &str = "access.revoke_waived";
/// Open requests withdrawn (their link revoked or expired, the client left
/// delivery): nothing waits on the client for them any more.
pub const ACCESS_WITHDRAWN: &str = "access.withdrawn";
/// Withdrawn requests brought back (the move that withdrew them was
/// corrected, or their link was given a new URL).
pub const ACCESS_RESTORED: &str = "access.restored";
pub const SOP_CHANGED: &str = "sop.changed";
pub const SOP_RUN_STARTED: &str = "sop_run.started";
pub const SOP_RUN_AT_RISK: &str = "sop_run.at_risk";
pub const SOP_RUN_BREACHED: &str = "sop_run.breached";
pub const SOP_RUN_PAUSED: &str = "sop_run.paused";
pub const SOP_RUN_RESUMED: &str = "sop_run.resumed";
pub const SOP_RUN_CHECKLIST: &str = "sop_run.checklist_changed";
pub const SOP_RUN_ASSIGNED: &str = "sop_run.assigned";
pub const SOP_RUN_COMPLETED: &str = "sop_run.completed";
pub const SOP_RUN_CANCELLED: &str = "sop_run.cancelled";
pub const SOP_RUN_RESTORED: &str = "sop_run.restored";
pub const HANDOFF_SAVED: &str = "handoff.saved";
pub const CONTENT_CANCELLED: &str = "content.cancelled";
/// An incident was reported (starts the `incident_response` SOP run).
pub const INCIDENT_OPENED: &str = "incident.opened";
pub const INCIDENT_TRIAGED: &str = "incident.triaged";
pub const INCIDENT_MITIGATED: &str = "incident.mitigated";
pub const INCIDENT_RESOLVED: &str = "incident.resolved";
pub const INCIDENT_CLOSED: &str = "incident.closed";
pub const INCIDENT_CANCELLED: &str = "incident.cancelled";
pub const INCIDENT_NOTE: &str = "incident.note_added";
pub const INCIDENT_POSTMORTEM: &str = "incident.postmortem_saved";
pub const INCIDENT_ACTION_DONE: &str = "incident.action_done";
pub const INCIDENT_TRIAGE_AT_RISK: &str = "incident.triage_at_risk";
pub const INCIDENT_TRIAGE_BREACHED: &str = "incident.triage_breached";
pub const INCIDENT_ACTION_OVERDUE: &str = "incident.action_overdue";
pub const INCIDENT_SEVERITY_SAVED: &str = "agency.incident_severity_saved";
/// The agency's week ended (the end of its last business day): starts the
/// `weekly_performance` run of every active client.
pub const WEEK_ENDED: &str = "week_ended";
/// A weekly scorecard was shipped (3 insights, 3 actions).
pub const SCORECARD_SHIPPED: &str = "scorecard.shipped";
pub const MEASURABLE_SAVED: &str = "scorecard.measurable_saved";
pub const MEASURABLE_VALUE: &str = "scorecard.value_entered";
pub const ACTION_DONE: &str = "scorecard.action_done";
pub const ACTION_REOPENED: &str = "scorecard.action_reopened";
pub const ACTION_OVERDUE: &str = "scorecard.action_overdue";
/// Manual measurables without this week's value: owners reminded.
pub const MEASURABLES_REMINDED: &str = "scorecard.values_reminded";
pub const CONTENT_REPLANNED: &str = "content.replanned";
pub const FIRST_VALUE_RULE_SAVED: &str = "agency.first_value_rule_saved";
/// A publishing error was reported on a content item (its timeline shows it).
pub const CONTENT_ERROR_REPORTED: &str = "content.error_reported";
/// A cadence's definition changed (a new version with its changelog line).
pub const CADENCE_CHANGED: &str = "cadence.changed";
/// A meeting was held: its artifact was attached.
pub const CADENCE_HELD: &str = "cadence.held";
/// A held meeting's notes, link or decisions changed.
pub const CADENCE_ARTIFACT_UPDATED: &str = "cadence.artifact_updated";
/// A meeting's day ended without its artifact.
pub const CADENCE_ARTIFACT_MISSING: &str = "cadence.artifact_missing";
pub const CADENCE_DECISION_DONE: &str = "cadence.decision_done";
pub const CADENCE_DECISION_REOPENED: &str = "cadence.decision_reopened";
/// An outbound endpoint (webhook, Slack, Teams) was added, changed or removed.
pub const ENDPOINT_SAVED: &str = "integration.endpoint_saved";
pub const ENDPOINT_DELETED: &str = "integration.endpoint_deleted";
/// A webhook's signing secret was rotated (the old one signs 24 more hours).
pub const ENDPOINT_SECRET_ROTATED: &str = "integration.secret_rotated";
/// Delivery turned an endpoint off: it answered 410 Gone or failed every
/// attempt for five days.
pub const ENDPOINT_DISABLED: &str = "integration.endpoint_disabled";
/// An inbound endpoint was created or removed.
pub const INBOUND_SAVED: &str = "integration.inbound_saved";
pub const INBOUND_DELETED: &str = "integration.inbound_deleted";
/// Held access a connector no longer finds on the platform: the request is
/// back with the client and the account team is told.
pub const ACCESS_LOST: &str = "access.lost";
/// At offboarding, a connector found the revoked access gone from the platform.
pub const ACCESS_REVOKE_CONFIRMED: &str = "access.revoke_confirmed";
/// The agency's OAuth app for a platform (client id, secret, extras) was saved.
pub const CONNECTOR_APP_SAVED: &str = "connection.app_saved";
/// A connection to a platform's API was made (tokens came back).
pub const CONNECTION_CONNECTED: &str = "connection.connected";
/// The platform refused the connection's refresh token: reconnect.
pub const CONNECTION_EXPIRED: &str = "connection.expired";
/// An admin removed a connection.
pub const CONNECTION_REVOKED: &str = "connection.revoked";

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
