//! A small client of the admin API, for `parley plugin list | load |
//! rollback` and `parley responses export | import`.

use anyhow::{Context, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::PathBuf;

/// Where the server is and how to authenticate.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Base URL of the server.
    #[arg(long, env = "PARLEY_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Admin token (default: read from `<data-dir>/admin-token`).
    #[arg(long, env = "PARLEY_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The server's data directory, to find its admin token.
    #[arg(long, env = "PARLEY_DATA_DIR", default_value = "parley-data")]
    pub data_dir: PathBuf,
}

/// An authenticated connection to the admin API.
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// Connects (lazily) with the given arguments.
    pub fn new(args: &ServerArgs) -> anyhow::Result<Client> {
        let token = match &args.token {
            Some(token) => token.clone(),
            None => {
                let path = args.data_dir.join("admin-token");
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!("no --token given and cannot read {}", path.display())
                    })?
                    .trim()
                    .to_string()
            }
        };
        Ok(Client {
            http: reqwest::Client::new(),
            base: args.server.trim_end_matches('/').to_string(),
            token,
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .context("the server's answer is not JSON")?;
        if !status.is_success() {
            let message = body["message"].as_str().unwrap_or("no message");
            bail!(
                "{} ({status}): {message}",
                body["code"].as_str().unwrap_or("error")
            );
        }
        Ok(serde_json::from_value(body)?)
    }

    /// GET a path of the API.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// DELETE a path of the API.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// GET a path of the API that answers bytes rather than JSON.
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            bail!(
                "{} ({status}): {}",
                answer["code"].as_str().unwrap_or("error"),
                answer["message"].as_str().unwrap_or("no message")
            );
        }
        Ok(body.to_vec())
    }

    /// POST JSON to a path of the API.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }
}
