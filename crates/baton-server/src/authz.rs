//! The facts the one authorization policy (`baton_core::policy`) needs
//! about the person acting, gathered from the store the same way for the
//! web app and the API: their admin flag and their seats on the client's
//! account team (account lead, traffic control). The policy decides; the
//! store never does.

use baton_core::policy::{MemberFacts, Principal, Scope, Seats};
use baton_core::roles::Role;
use baton_store::clients;
use baton_store::members::Member;
use baton_store::{Db, StoreError};

/// `member` as a principal for rules that need no account-team seats (an
/// admin's corrections).
pub fn member(member: &Member) -> Principal {
    Principal::Member(MemberFacts {
        id: member.id.clone(),
        is_admin: member.is_admin,
        seats: None,
    })
}

/// `member` as a principal for actions on `client_id`'s things (a signed-in
/// member, or the member an API token acts as; the token's scope is checked
/// before). The client must be the member's agency's (404 otherwise).
pub async fn member_on_client(
    db: &Db,
    member: &Member,
    client_id: &str,
) -> Result<Principal, StoreError> {
    let agency_id = &member.agency_id;
    let (client, team) = tokio::try_join!(
        clients::get(db, agency_id, client_id),
        clients::team(db, agency_id, client_id),
    )?;
    Ok(Principal::Member(MemberFacts {
        id: member.id.clone(),
        is_admin: member.is_admin,
        seats: Some(Seats {
            account_lead: team
                .iter()
                .any(|s| s.role == Role::AccountLead && s.member_id == member.id),
            traffic_control: client.traffic_control_member_id.as_deref()
                == Some(member.id.as_str()),
            client_id: client.id.clone().into(),
        }),
    }))
}

/// The same facts for a member acting through an API token of `scope`: the
/// policy then also holds the action to the token's scope.
pub fn through_token(principal: Principal, scope: Scope) -> Principal {
    match principal {
        Principal::Member(member) => Principal::Token { member, scope },
        other => other,
    }
}
