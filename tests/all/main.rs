//! Integration tests of Parley, one module per capability.

/// Runs each test body on a fresh SQLite and a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&parley_tests::database::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&parley_tests::database::TestDb::postgres().await).await;
                }
            )*
        }
    };
}

mod accounts;
mod api;
mod attacks;
mod browser;
mod chat;
mod cli;
mod contact_access;
mod contacts;
mod contract;
mod email;
mod email_channel;
mod engine;
mod faults;
mod history;
mod hot_reload;
mod instances;
mod mime;
mod observe;
mod openapi;
mod operations;
mod polyglot;
mod processes;
mod recovery;
mod responses;
mod retention;
mod routing;
mod sandbox;
mod screening;
mod social;
mod store;
mod stream;
mod tls;
mod tutorial;
