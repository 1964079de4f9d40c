//! Chat clients for tests: a customer holding a session key (REST, long
//! poll and WebSocket) and WebSockets that read frames until one matches.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::client::{Client, PATIENCE};

/// A customer in a chat.
#[derive(Clone)]
pub struct Customer {
    http: reqwest::Client,
    base: String,
    /// The session id (the interaction id).
    pub id: String,
    /// The session key.
    pub key: String,
}

/// Starts a chat as a customer; panics unless it is accepted.
pub async fn start(base: &str, body: Value) -> Customer {
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/v1/chat/sessions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let started: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "start a chat: {started}");
    Customer {
        http,
        base: base.to_string(),
        id: started["id"].as_str().unwrap().to_string(),
        key: started["key"].as_str().unwrap().to_string(),
    }
}

impl Customer {
    /// The URL of the session's `path` (`""` for the session itself).
    pub fn url(&self, path: &str) -> String {
        format!("{}/v1/chat/sessions/{}{path}", self.base, self.id)
    }

    /// The same session on a server at another address.
    pub fn with_base(&self, base: &str) -> Customer {
        Customer {
            base: base.to_string(),
            ..self.clone()
        }
    }

    /// Another session id with the same key.
    pub fn with_id(&self, id: &str) -> Customer {
        Customer {
            id: id.to_string(),
            ..self.clone()
        }
    }

    /// The same session with another key.
    pub fn with_key(&self, key: &str) -> Customer {
        Customer {
            key: key.to_string(),
            ..self.clone()
        }
    }

    async fn answer(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// POSTs JSON with the key.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let request = self
            .http
            .post(self.url(path))
            .header("x-chat-key", &self.key);
        Self::answer(request.json(&body).send().await.unwrap()).await
    }

    /// GETs with the key.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let request = self
            .http
            .get(self.url(path))
            .header("x-chat-key", &self.key);
        Self::answer(request.send().await.unwrap()).await
    }

    /// Sends a text; status and the stored message (or the error).
    pub async fn say(&self, text: &str) -> (u16, Value) {
        self.post("/messages", json!({ "text": text })).await
    }

    /// Uploads a file; status and the message (or the error).
    pub async fn upload(&self, name: &str, content_type: &str, data: Vec<u8>) -> (u16, Value) {
        let request = self
            .http
            .post(self.url(&format!("/files?name={name}")))
            .header("x-chat-key", &self.key)
            .header("content-type", content_type)
            .body(data);
        Self::answer(request.send().await.unwrap()).await
    }

    /// Long-polls for messages after `after`, waiting up to `wait` s.
    pub async fn poll(&self, after: i64, wait: u64) -> Value {
        let (status, body) = self
            .get(&format!("/messages?after={after}&wait={wait}"))
            .await;
        assert_eq!(status, 200, "poll: {body}");
        body
    }

    /// Opens the session's WebSocket, resuming after `after`.
    pub async fn socket(&self, after: i64) -> Socket {
        let url = format!("{}?key={}&after={after}", self.url("/ws"), self.key)
            .replacen("http://", "ws://", 1);
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Socket { socket }
    }
}

/// A chat WebSocket.
pub struct Socket {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// Opens an account's chat WebSocket.
pub async fn agent_socket(client: &Client) -> Socket {
    let url = format!("{}?token={}", client.url("/v1/chats/ws"), client.token)
        .replacen("http://", "ws://", 1);
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    Socket { socket }
}

impl Socket {
    /// Sends a frame.
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// The next frame, or `None` once the server closed the socket.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("a frame in time")?;
            match message.ok()? {
                WsMessage::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
                WsMessage::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Reads frames until one satisfies `wanted`; returns those read.
    pub async fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut read = Vec::new();
        loop {
            let frame = self
                .next()
                .await
                .unwrap_or_else(|| panic!("the socket closed before {what}: {read:?}"));
            let done = wanted(&frame);
            read.push(frame);
            if done {
                return read;
            }
        }
    }

    /// Reads frames until a message with this text arrives; returns it.
    pub async fn message(&mut self, text: &str) -> Value {
        let read = self
            .until(text, |f| {
                f["type"] == "message" && f["message"]["text"] == text
            })
            .await;
        read.last().unwrap()["message"].clone()
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The texts of messages frames among `frames`.
pub fn texts(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| f["message"]["text"].as_str().map(String::from))
        .collect()
}
