//! Leadership leases for work exactly one server may do at a time (the SLA
//! scheduler). The holder renews its lease well before it expires; when it
//! stops renewing (crashed, frozen, cut off) any other server takes the
//! lease once it has expired, with a larger fencing token. Work done under
//! a lease checks its [`Fence`] inside its own transaction
//! ([`fence_holds`]), so an old leader that wakes up writes nothing.
//! Expiry is judged on the servers' clocks: keep them in sync (NTP) and the
//! TTL well above their skew.

use sqlx::AnyConnection;

use crate::db::Db;
use crate::error::Result;

/// What work done under a lease checks: this lease, this holder, this token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub name: String,
    pub holder: String,
    pub token: i64,
}

/// A lease held by this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub fence: Fence,
    pub expires_at: i64,
}

/// Takes the lease `name` for `holder` if nobody holds it or its holder's
/// expired. `None` while another holder's lease runs.
pub async fn acquire(
    db: &Db,
    name: &str,
    holder: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<Option<Lease>> {
    let expires_at = now + ttl_ms;
    let created = sqlx::query(
        "INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(holder)
    .bind(expires_at)
    .execute(&db.writer)
    .await?
    .rows_affected();
    let token: Option<i64> = if created == 1 {
        Some(1)
    } else {
        sqlx::query_scalar(
            "UPDATE leases SET holder = $2, token = token + 1, expires_at = $4 \
             WHERE name = $1 AND expires_at < $3 RETURNING token",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .bind(expires_at)
        .fetch_optional(&db.writer)
        .await?
    };
    Ok(token.map(|token| Lease {
        fence: Fence {
            name: name.to_string(),
            holder: holder.to_string(),
            token,
        },
        expires_at,
    }))
}

/// Pushes the lease's expiry to `now + ttl_ms`. `false` when it was lost
/// (it expired, or another holder took it): stop the work.
pub async fn renew(db: &Db, lease: &mut Lease, now: i64, ttl_ms: i64) -> Result<bool> {
    let expires_at = now + ttl_ms;
    let renewed = sqlx::query(
        "UPDATE leases SET expires_at = $5 \
         WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at >= $4",
    )
    .bind(&lease.fence.name)
    .bind(&lease.fence.holder)
    .bind(lease.fence.token)
    .bind(now)
    .bind(expires_at)
    .execute(&db.writer)
    .await?
    .rows_affected()
        == 1;
    if renewed {
        lease.expires_at = expires_at;
    }
    Ok(renewed)
}

/// Gives the lease up (a server shutting down), so another takes it at once.
pub async fn release(db: &Db, lease: &Lease) -> Result<()> {
    sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND token = $3")
        .bind(&lease.fence.name)
        .bind(&lease.fence.holder)
        .bind(lease.fence.token)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Inside a transaction: whether `fence` still holds at `now`.
pub(crate) async fn fence_holds(conn: &mut AnyConnection, fence: &Fence, now: i64) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM leases \
         WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at >= $4",
    )
    .bind(&fence.name)
    .bind(&fence.holder)
    .bind(fence.token)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n == 1)
}
