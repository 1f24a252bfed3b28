//! The schema migrations, embedded in the binary and applied in order by every
//! command that opens the database. Each runs in its own transaction and is
//! recorded in `baton_migrations`; on PostgreSQL an advisory lock keeps two
//! starting processes from migrating at once. A statement may use `$1`: the
//! time the migration runs, in unix milliseconds (for rows a migration
//! stamps, e.g. grandfathered custom domains).

use sqlx::Executor;

use crate::db::{Backend, Db};
use crate::error::Result;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (
        2,
        "onboarding",
        include_str!("../migrations/0002_onboarding.sql"),
    ),
    (
        3,
        "calendar",
        include_str!("../migrations/0003_calendar.sql"),
    ),
    (4, "sops", include_str!("../migrations/0004_sops.sql")),
    (5, "content", include_str!("../migrations/0005_content.sql")),
    (
        6,
        "content_files",
        include_str!("../migrations/0006_content_files.sql"),
    ),
    (
        7,
        "follow_the_work",
        include_str!("../migrations/0007_follow_the_work.sql"),
    ),
    (
        8,
        "content_caption",
        include_str!("../migrations/0008_content_caption.sql"),
    ),
    (
        9,
        "link_reminders",
        include_str!("../migrations/0009_link_reminders.sql"),
    ),
    (
        10,
        "throttles",
        include_str!("../migrations/0010_throttles.sql"),
    ),
    (
        11,
        "audit_hash_v2",
        include_str!("../migrations/0011_audit_hash_v2.sql"),
    ),
    (12, "leases", include_str!("../migrations/0012_leases.sql")),
    (
        13,
        "custom_domain_verification",
        include_str!("../migrations/0013_custom_domain_verification.sql"),
    ),
    (
        14,
        "incidents",
        include_str!("../migrations/0014_incidents.sql"),
    ),
    (
        15,
        "scorecard",
        include_str!("../migrations/0015_scorecard.sql"),
    ),
    (
        16,
        "cadences",
        include_str!("../migrations/0016_cadences.sql"),
    ),
    (
        17,
        "integrations",
        include_str!("../migrations/0017_integrations.sql"),
    ),
    (
        18,
        "connectors",
        include_str!("../migrations/0018_connectors.sql"),
    ),
];

/// Arbitrary constant naming Baton's migration lock on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x0ba7_0001;

/// Applies every migration not applied yet.
pub(crate) async fn run(db: &Db) -> Result<()> {
    run_to(db, i64::MAX).await
}

/// Applies the migrations up to version `last` (tests build the database a
/// previous release left, then upgrade it).
pub(crate) async fn run_to(db: &Db, last: i64) -> Result<()> {
    let mut conn = db.writer.acquire().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, last).await;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, last: i64) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS baton_migrations (\
         version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM baton_migrations")
        .fetch_all(&mut *conn)
        .await?;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) || *version > last {
            continue;
        }
        tracing::info!(version, name, "applying migration");
        let now = now_ms();
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for statement in split_statements(sql) {
            if statement.contains("$1") {
                sqlx::query(&statement).bind(now).execute(&mut *tx).await?;
            } else {
                tx.execute(statement.as_str()).await?;
            }
        }
        sqlx::query("INSERT INTO baton_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(*version)
            .bind(*name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Splits a migration file into statements (our migrations keep `;` out of
/// string literals) and drops `--` comment lines.
fn split_statements(sql: &str) -> Vec<String> {
    let cleaned: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    cleaned
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn now_ms() -> i64 {
    use baton_core::clock::Clock;
    baton_core::clock::SystemClock.now_ms()
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_statements_and_drops_comments() {
        let s = super::split_statements(
            "-- a comment; here\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a (x);\n",
        );
        assert_eq!(
            s,
            vec!["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)"]
        );
    }
}
