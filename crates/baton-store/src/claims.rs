//! Requests that must write at most once: a web form's single-use nonce
//! and an API request's `Idempotency-Key`. The HTTP layer runs the request's
//! handler inside [`scope`]; the first [`WriteTx`](crate::WriteTx) the
//! request opens inserts the claim as its first statement, in the same
//! transaction as the change. A concurrent or later duplicate therefore
//! either waits for that transaction (SQLite's single writer, PostgreSQL's
//! unique index) and then finds the claim taken, or takes it itself if the
//! first one rolled back: exactly one write commits. The duplicate's request
//! is then answered with the first one's result ([`location`]).

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use sqlx::AnyConnection;

use crate::db::Db;
use crate::error::{Result, StoreError};

/// How long a claim is remembered.
pub const TTL_MS: i64 = 24 * 3600 * 1000;

const UNTOUCHED: u8 = 0;
const OWNED: u8 = 1;
const TAKEN: u8 = 2;

/// The claim of one request: `key` names the form submission (the same for
/// every submit of one rendered form), `owner` this request.
#[derive(Debug, Clone)]
pub struct Claim {
    pub key: String,
    pub owner: String,
    state: Arc<AtomicU8>,
}

impl Claim {
    pub fn new(key: String, owner: String) -> Claim {
        Claim {
            key,
            owner,
            state: Arc::new(AtomicU8::new(UNTOUCHED)),
        }
    }

    /// This request wrote under the claim.
    pub fn owned(&self) -> bool {
        self.state.load(Ordering::SeqCst) == OWNED
    }

    /// Another request had already written under the claim, so this one
    /// wrote nothing.
    pub fn taken(&self) -> bool {
        self.state.load(Ordering::SeqCst) == TAKEN
    }
}

tokio::task_local! {
    static CLAIM: Claim;
}

/// Runs `f` (a request's handler) with `claim` in force for its writes.
pub async fn scope<F: Future>(claim: Claim, f: F) -> F::Output {
    CLAIM.scope(claim, f).await
}

/// Inside a write transaction: takes the request's claim, if it has one.
/// `Err(StoreError::AlreadyDone)` when another request holds it (the
/// caller's transaction is then dropped, writing nothing).
pub(crate) async fn take_in_tx(conn: &mut AnyConnection, agency_id: &str, now: i64) -> Result<()> {
    let Ok(claim) = CLAIM.try_with(Claim::clone) else {
        return Ok(());
    };
    let inserted = sqlx::query(
        "INSERT INTO request_claims (claim_key, agency_id, owner, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (claim_key) DO NOTHING",
    )
    .bind(&claim.key)
    .bind(agency_id)
    .bind(&claim.owner)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        claim.state.store(OWNED, Ordering::SeqCst);
        return Ok(());
    }
    // This request's own claim, from an earlier write of the same request.
    let owner: Option<String> =
        sqlx::query_scalar("SELECT owner FROM request_claims WHERE claim_key = $1")
            .bind(&claim.key)
            .fetch_optional(&mut *conn)
            .await?;
    if owner.as_deref() == Some(claim.owner.as_str()) {
        claim.state.store(OWNED, Ordering::SeqCst);
        return Ok(());
    }
    // An expired claim is stale: take it over.
    let taken_over = sqlx::query(
        "UPDATE request_claims SET owner = $2, created_at = $3, location = NULL \
         WHERE claim_key = $1 AND created_at < $4",
    )
    .bind(&claim.key)
    .bind(&claim.owner)
    .bind(now)
    .bind(now - TTL_MS)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if taken_over == 1 {
        claim.state.store(OWNED, Ordering::SeqCst);
        return Ok(());
    }
    claim.state.store(TAKEN, Ordering::SeqCst);
    Err(StoreError::AlreadyDone)
}

/// Records where the claiming request's answer was shown.
pub async fn set_location(db: &Db, claim: &Claim, location: &str) -> Result<()> {
    sqlx::query("UPDATE request_claims SET location = $3 WHERE claim_key = $1 AND owner = $2")
        .bind(&claim.key)
        .bind(&claim.owner)
        .bind(location)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Where the request that holds `key` showed its answer: `None` while it is
/// still answering (or if it never recorded one).
pub async fn location(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT location FROM request_claims WHERE claim_key = $1",
    )
    .bind(key)
    .fetch_optional(db.reader())
    .await?
    .flatten())
}

/// Whether a live claim on `key` exists (some request wrote under it).
pub async fn is_held(db: &Db, key: &str, now: i64) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM request_claims WHERE claim_key = $1 AND created_at >= $2",
    )
    .bind(key)
    .bind(now - TTL_MS)
    .fetch_one(db.reader())
    .await?
        > 0)
}

/// Forgets claims older than the TTL; returns how many.
pub async fn prune(db: &Db, now: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM request_claims WHERE created_at < $1")
            .bind(now - TTL_MS)
            .execute(&db.writer)
            .await?
            .rows_affected(),
    )
}
