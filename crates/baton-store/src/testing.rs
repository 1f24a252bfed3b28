//! Test support shared by the store, server and CLI test suites: a fresh,
//! migrated database per test. SQLite by default (a file in a temporary
//! folder); PostgreSQL when `BATON_TEST_POSTGRES_URL` is set, with a new
//! database created for each test so tests never see each other's rows.

use std::path::PathBuf;

use crate::db::Db;

/// The environment variable naming the PostgreSQL server for the suites.
pub const POSTGRES_ENV: &str = "BATON_TEST_POSTGRES_URL";

/// A database for one test. [`TestDb::cleanup`] closes its pools, drops the
/// PostgreSQL database and removes its folder; a `TestDb` dropped without it
/// (a test that panicked or forgot) does the same from [`Drop`], so failing
/// tests leave no temp folders or `baton_t_*` databases behind.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// Folder for the SQLite file and any other files of the test.
    pub dir: PathBuf,
    pg_admin: Option<(String, String)>,
    /// Set once the folder and database are gone: `Drop` then does nothing.
    cleaned: bool,
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
                    cleaned: false,
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
                crate::sqlite::install_drivers();
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
                    cleaned: false,
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
    pub async fn cleanup(mut self) {
        self.db.close().await;
        if let Some((admin_url, name)) = self.pg_admin.take() {
            drop_database(&admin_url, &name).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.cleaned = true;
    }
}

impl Drop for TestDb {
    /// The cleanup of a test that did not reach [`TestDb::cleanup`]. `Drop`
    /// cannot await and may run inside the test's runtime (or while a panic
    /// unwinds out of it), so the PostgreSQL database is dropped from a
    /// thread of its own with a one-thread runtime, joined before returning.
    /// `WITH (FORCE)` ends the pools' connections still open. Never panics.
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        self.cleaned = true;
        if let Some((admin_url, name)) = self.pg_admin.take() {
            let dropper = std::thread::Builder::new()
                .name("baton-testdb-drop".into())
                .spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(drop_database(&admin_url, &name));
                    }
                });
            if let Ok(dropper) = dropper {
                let _ = dropper.join();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `DROP DATABASE … WITH (FORCE)` through the admin URL, best effort.
async fn drop_database(admin_url: &str, name: &str) {
    crate::sqlite::install_drivers();
    if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await {
        let _ = sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await;
        let _ = sqlx::Connection::close(conn).await;
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
    /// A `TestDb` dropped without `cleanup` (as when its test panics)
    /// removes its folder and, on PostgreSQL, its database.
    #[tokio::test]
    async fn dropping_without_cleanup_removes_folder_and_database() {
        let test_db = super::TestDb::new().await;
        let dir = test_db.dir.clone();
        let name = test_db.pg_admin.as_ref().map(|(_, name)| name.clone());
        assert!(dir.exists());
        drop(test_db);
        assert!(!dir.exists(), "{} left behind", dir.display());
        if let (Some(name), Some(admin_url)) = (name, super::postgres_url()) {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
                .await
                .expect("connect");
            let left: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'"
            ))
            .fetch_one(&mut conn)
            .await
            .expect("count");
            assert_eq!(left, 0, "database {name} left behind");
        }
    }

    /// A test that panics still cleans up: its `TestDb` drops while the
    /// panic unwinds.
    #[test]
    fn a_panicking_test_leaves_no_folder() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = dir.clone();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                let test_db = super::TestDb::new().await;
                *seen.lock().unwrap() = Some(test_db.dir.clone());
                panic!("the test fails");
            })
        }));
        assert!(result.is_err());
        let dir = dir.lock().unwrap().clone().expect("a folder was made");
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

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
