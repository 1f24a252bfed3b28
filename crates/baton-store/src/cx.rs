//! The command context: who changes which agency's data, and when. Every
//! store command that writes takes one [`Cx`] instead of the repeated
//! `(db, agency_id, actor, now)` tuple, so a caller builds it once per request
//! (`ApiCaller::cx`, `WebSession::cx`, the CLI's and workers' own) and a
//! command cannot be handed one agency's id with another's actor by accident.

use baton_core::types::AgencyId;

use crate::db::Db;
use crate::error::Result;
use crate::write::{Actor, WriteTx};

/// One request's context for store commands.
#[derive(Debug, Clone, Copy)]
pub struct Cx<'a> {
    pub db: &'a Db,
    /// The tenant every row read or written belongs to.
    pub agency: &'a AgencyId,
    /// Who is acting, recorded on every event and audit entry.
    pub actor: &'a Actor,
    /// The request's time (unix milliseconds), one value for the whole command.
    pub now: i64,
}

impl<'a> Cx<'a> {
    pub fn new(db: &'a Db, agency: &'a AgencyId, actor: &'a Actor, now: i64) -> Cx<'a> {
        Cx {
            db,
            agency,
            actor,
            now,
        }
    }

    /// The agency's id as stored (for binds).
    pub fn agency_id(&self) -> &'a str {
        self.agency.as_str()
    }

    /// The same context at another time (a back-dated import, a scheduler tick).
    pub fn at(self, now: i64) -> Cx<'a> {
        Cx { now, ..self }
    }

    /// Opens the one write path for this context.
    pub async fn begin(&self) -> Result<WriteTx> {
        self.db
            .begin_write(self.agency_id(), self.actor, self.now)
            .await
    }
}
