//! Test support shared by the store, server and CLI test suites: a fresh,
//! migrated database per test. SQLite by default (a file in a temporary
//! folder); PostgreSQL when `BATON_TEST_POSTGRES_URL` is set, with a new
//! database created for each test so tests never see each other's rows.

use std::path::PathBuf;

use crate::db::Db;

/// The environment variable naming the PostgreSQL server for the suites.
pub const POSTGRES_ENV: &str = "BATON_TEST_POSTGRES_URL";

/// A database for one test. Dropping it leaves files/databases behind only on
/// purpose: SQLite temp folders are removed, PostgreSQL databases dropped by
/// [`TestDb::cleanup`] (best effort, called from async code).
pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// Folder for the SQLite file and any other files of the test.
    pub dir: PathBuf,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// Which engine the suites run on ("sqlite" or "postgres").
    pub fn engine() -> &'static str {
        if postgres_url().is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// A fresh, migrated database. Panics with a clear message when
    /// PostgreSQL was asked for but cannot be reached: in CI that must fail.
    pub async fn new() -> TestDb {
        TestDb::new_at_version(i64::MAX).await
    }

    /// A fresh database migrated only up to `version`: the schema a previous
    /// release left, to write its data and then [`TestDb::migrate`] it.
    pub async fn new_at_version(version: i64) -> TestDb {
        let dir = std::env::temp_dir().join(format!(
            "baton-test-{}",
            baton_core::secret::random_token().replace(['-', '_'], "")[..16].to_lowercase()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match postgres_url() {
            None => {
                let url = format!("sqlite://{}", dir.join("baton.db").display());
                let db = open_at(&url, version)
                    .await
                    .expect("open sqlite test database");
                TestDb {
                    db,
                    url,
                    dir,
                    pg_admin: None,
                }
            }
            Some(admin_url) => {
                let name = format!(
                    "baton_t_{}",
                    dir.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .trim_start_matches("baton-test-")
                );
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "{POSTGRES_ENV}={admin_url} is set but PostgreSQL is unreachable: {e}"
                        )
                    });
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let url = replace_db_name(&admin_url, &name);
                let db = open_at(&url, version)
                    .await
                    .expect("open postgres test database");
                TestDb {
                    db,
                    url,
                    dir,
                    pg_admin: Some((admin_url, name)),
                }
            }
        }
    }

    /// Applies the migrations a [`TestDb::new_at_version`] database lacks,
    /// as a server of this release does when it starts on it.
    pub async fn migrate(&self) {
        crate::migrate::run(&self.db).await.expect("migrate");
    }

    /// Closes the pools and removes the test's database and folder.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some((admin_url, name)) = &self.pg_admin {
            if let Ok(mut conn) =
                <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await
            {
                let _ = sqlx::Executor::execute(
                    &mut conn,
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                )
                .await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn open_at(url: &str, version: i64) -> crate::error::Result<Db> {
    let db = Db::connect(url, Default::default()).await?;
    crate::migrate::run_to(&db, version).await?;
    Ok(db)
}

fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// `postgres://u@h:5432/test?x` with the database name replaced.
fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[after_scheme..].find('/').map(|i| i + after_scheme);
    let host_part = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn db_name_replaced() {
        assert_eq!(
            super::replace_db_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_db_name("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_db_name("postgres://h", "x"),
            "postgres://h/x"
        );
    }
}
