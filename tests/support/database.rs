//! Databases for store tests: a SQLite file in a temporary directory, or a
//! fresh PostgreSQL database created on the server the test setup provides
//! (`PARLEY_TEST_POSTGRES`, default `postgres://postgres:postgres@127.0.0.1:5432/postgres`)
//! and dropped afterwards.

use parley_store::Store;
use sqlx::{Connection, Executor};

/// The PostgreSQL server tests use, as an admin URL.
pub fn postgres_admin_url() -> String {
    std::env::var("PARLEY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// A database for one test.
pub enum TestDb {
    /// A SQLite file.
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL database, dropped with this value.
    Postgres {
        /// Its name.
        name: String,
    },
}

impl TestDb {
    /// A new SQLite database.
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A new, empty PostgreSQL database. Fails the test when the server
    /// cannot be reached: the test setup (scripts/test.sh) provides it.
    pub async fn postgres() -> TestDb {
        sqlx::any::install_default_drivers();
        let name = format!("parley_test_{}", uuid::Uuid::now_v7().simple());
        let admin = postgres_admin_url();
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        // The name is generated here, never taken from input.
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        TestDb::Postgres { name }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.path().join("parley.db").display()),
            TestDb::Postgres { name } => {
                let admin = postgres_admin_url();
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                format!("{base}/{name}")
            }
        }
    }

    /// Opens a store on it.
    pub async fn open(&self) -> Store {
        Store::open(&self.url()).await.expect("the store opens")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { name } = self {
            let name = name.clone();
            // Drop runs outside any runtime's async context: use a thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let mut conn = sqlx::AnyConnection::connect(&postgres_admin_url())
                        .await
                        .ok()?;
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}
