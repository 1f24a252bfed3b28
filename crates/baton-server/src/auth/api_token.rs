//! Bearer-token authentication for `/api/v1`. The middleware resolves the token
//! once and puts an [`ApiCaller`] into the request for handlers to take.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_core::policy::{self, Action, Principal, Subject};
use baton_store::members::Member;
use baton_store::tokens::{self, ApiToken, Scope};
use baton_store::{Actor, Cx};

use crate::error::ApiError;
use crate::state::AppState;

/// The member an API request acts as, and the token's scope.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub member: Member,
    pub token: ApiToken,
    pub actor: Actor,
}

impl ApiCaller {
    pub fn agency_id(&self) -> &str {
        &self.member.agency_id
    }

    /// The store's command context for this request: the token's agency,
    /// this caller as the actor, the server's clock now.
    pub fn cx<'a>(&'a self, state: &'a AppState) -> Cx<'a> {
        Cx::new(&state.db, &self.member.agency_id, &self.actor, state.now())
    }

    /// Who is acting, for [`policy::can`]: the member through this token.
    /// Seats on a client's team are not gathered here; actions that depend
    /// on them build the principal with them.
    pub fn principal(&self) -> Principal {
        crate::authz::through_token(crate::authz::member(&self.member), self.token.scope)
    }

    /// [`ApiCaller::principal`] with the member's seats on `client_id`'s
    /// account team (for actions on that client's things; 404 for a client
    /// of another agency).
    pub async fn principal_on_client(
        &self,
        db: &baton_store::Db,
        client_id: &str,
    ) -> Result<Principal, ApiError> {
        let member = crate::authz::member_on_client(db, &self.member, client_id).await?;
        Ok(crate::authz::through_token(member, self.token.scope))
    }

    /// Asks the policy about `action` on `subject` as this token's member.
    pub fn can(
        &self,
        principal: &Principal,
        action: Action,
        subject: Subject<'_>,
    ) -> Result<(), ApiError> {
        policy::can(principal, action, subject).map_err(|d| ApiError::Forbidden(d.sentence))
    }

    /// Refuses with 403 unless the policy lets this token do what `needed`
    /// stands for (`read`: look; `write`: do the work; `admin`: run the
    /// agency, for an admin's token only).
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        self.can(&self.principal(), Action::of_scope(needed), Subject::Agency)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// Middleware: resolves `Authorization: Bearer bt_…` or answers 401.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|s| s.starts_with(baton_core::secret::API_TOKEN_PREFIX))
        .map(String::from);
    let Some(secret) = secret else {
        return ApiError::Unauthorized.into_response();
    };
    let found = match tokens::authenticate(&state.db, &secret).await {
        Ok(found) => found,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some((token, member)) = found else {
        return ApiError::Unauthorized.into_response();
    };
    if let Err(e) = tokens::touch(&state.db, &token, state.now()).await {
        tracing::warn!(error = %e, "could not record token use");
    }
    let actor = crate::auth::member_actor(
        "token",
        &member,
        crate::auth::client_ip(req.extensions()),
        crate::auth::user_agent(req.headers()),
    );
    req.extensions_mut().insert(ApiCaller {
        member,
        token,
        actor,
    });
    next.run(req).await
}
