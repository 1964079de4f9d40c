//! Standard responses on SQLite and PostgreSQL: categories as a tree, the
//! library exported and imported as one file (merged by id or replacing
//! everything; a bad file gets a 400 and changes nothing), field codes
//! filled in by the server for an interaction, and the roles.

use parley_tests::TestServer;
use parley_tests::chat;
use parley_tests::client::Client;
use parley_tests::database::TestDb;
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect()
}

async fn export(admin: &Client) -> Value {
    let (status, library) = admin.get("/v1/responses/export").await;
    assert_eq!(status, 200, "{library}");
    library
}

fn library(categories: Value, responses: Value) -> Value {
    json!({"format": "parley-responses", "version": 1, "categories": categories, "responses": responses})
}

async fn the_library_moves_as_one_file(db: &TestDb) {
    let (server, admin) = TestServer::with_admin(Some(db), "").await;
    // The demo library, in a tree of categories.
    let (_, categories) = admin.get("/v1/response-categories").await;
    assert_eq!(ids(&categories), ["chat", "closing", "greetings"]);
    assert_eq!(categories[2]["parent"], "chat");
    let exported = export(&admin).await;
    assert_eq!(
        (&exported["format"], &exported["version"]),
        (&json!("parley-responses"), &json!(1))
    );
    assert_eq!(
        ids(&exported["responses"]),
        ["anything-else", "goodbye", "greeting", "one-moment"]
    );
    assert!(
        exported["responses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["category"] == "greetings" || r["category"] == "closing"),
        "{exported}"
    );

    // Changed, then the exported file put back: the library as it was.
    admin
        .ok_post(
            "/v1/response-categories",
            json!({"id": "billing", "name": "Billing", "parent": "chat"}),
        )
        .await;
    admin
        .ok_post(
            "/v1/responses",
            json!({"id": "refund", "name": "Refund", "category": "billing", "text": "Your refund is on its way."}),
        )
        .await;
    let replaced = admin
        .ok_post("/v1/responses/import?mode=replace", exported.clone())
        .await;
    assert_eq!(
        replaced,
        json!({"mode": "replace", "categories": 3, "responses": 4})
    );
    assert_eq!(export(&admin).await, exported);

    // Merging creates and replaces by id and keeps the rest.
    let file = library(
        json!([{"id": "billing", "name": "Billing", "parent": "chat"}]),
        json!([
            {"id": "refund", "name": "Refund", "category": "billing", "text": "Refunded, {contact.first-name}."},
            {"id": "goodbye", "name": "goodbye", "category": "closing", "text": "Bye {customer}!"}
        ]),
    );
    admin.ok_post("/v1/responses/import", file).await;
    let merged = export(&admin).await;
    assert_eq!(
        ids(&merged["categories"]),
        ["billing", "chat", "closing", "greetings"]
    );
    assert_eq!(
        ids(&merged["responses"]),
        [
            "anything-else",
            "goodbye",
            "greeting",
            "one-moment",
            "refund"
        ]
    );
    assert_eq!(merged["responses"][1]["text"], "Bye {customer}!");
    assert_eq!(merged["responses"][2], exported["responses"][2]);

    // Bad files are refused whole, with what is wrong, changing nothing.
    let response = |id: &str, category: &str| json!({"id": id, "name": id, "category": category, "text": "text"});
    let bad = [
        (
            json!({"format": "kme", "version": 1, "categories": [], "responses": []}),
            "not a library file",
        ),
        (
            json!({"format": "parley-responses", "version": 2, "categories": [], "responses": []}),
            "version 2",
        ),
        (
            library(json!([]), json!([response("x", "nowhere")])),
            "does not exist",
        ),
        (
            library(
                json!([{"id": "a", "name": "A", "parent": "b"}, {"id": "b", "name": "B", "parent": "a"}]),
                json!([]),
            ),
            "inside itself",
        ),
        (
            library(
                json!([]),
                json!([response("x", "chat"), response("x", "chat")]),
            ),
            "twice",
        ),
        (
            library(json!([]), json!([response("export", "chat")])),
            "cannot be a response's id",
        ),
        (
            library(json!([]), json!([{"id": "x", "name": "x", "text": " "}])),
            "needs a text",
        ),
        (
            library(json!([]), json!([{"id": "x", "name": "x"}])),
            "missing field `text`",
        ),
        (
            json!({"format": "parley-responses", "version": 1, "categories": [], "responses": [], "extra": true}),
            "unknown field `extra`",
        ),
    ];
    for mode in ["merge", "replace"] {
        for (file, why) in &bad {
            let (status, refused) = admin
                .post(&format!("/v1/responses/import?mode={mode}"), file.clone())
                .await;
            assert_eq!(status, 400, "{mode} {file}: {refused}");
            assert_eq!(refused["code"], "bad-request");
            let message = refused["message"].as_str().unwrap();
            assert!(
                message.contains(why),
                "{mode}: `{message}` should say `{why}`"
            );
            assert_eq!(
                export(&admin).await,
                merged,
                "{mode} {file} changed the library"
            );
        }
    }
    // Replacing keeps no category the file lacks: a response in one of
    // the server's is refused.
    let (status, refused) = admin
        .post(
            "/v1/responses/import?mode=replace",
            library(json!([]), json!([response("x", "chat")])),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let not_json = server
        .http
        .post(server.url("/v1/responses/import"))
        .bearer_auth("test-admin-token-0123")
        .header("content-type", "application/json")
        .body("{\"format\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
    let (status, _) = admin
        .post("/v1/responses/import?mode=everything", merged.clone())
        .await;
    assert_eq!(status, 400);
    assert_eq!(export(&admin).await, merged);

    // Categories: only empty ones are deleted; none inside itself.
    let (status, body) = admin.delete("/v1/response-categories/chat").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
    let (status, body) = admin
        .post(
            "/v1/response-categories",
            json!({"id": "chat", "name": "Chat", "parent": "greetings"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin
        .post(
            "/v1/responses",
            json!({"name": "Lost", "category": "nowhere", "text": "t"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    admin
        .ok_post(
            "/v1/response-categories",
            json!({"id": "empty", "name": "Empty"}),
        )
        .await;
    assert_eq!(admin.delete("/v1/response-categories/empty").await.0, 204);

    // Agents read the library; only supervisors change and move it.
    let ann = admin.ready_agent("ann", "agent").await;
    assert_eq!(ann.get("/v1/responses").await.0, 200);
    assert_eq!(ann.get("/v1/response-categories").await.0, 200);
    assert_eq!(ann.get("/v1/responses/export").await.0, 403);
    assert_eq!(
        ann.post("/v1/responses/import", merged.clone()).await.0,
        403
    );
    assert_eq!(ann.delete("/v1/responses/goodbye").await.0, 403);
}

async fn responses_are_filled_in_for_an_interaction(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let customer = chat::start(
        &admin.url(""),
        json!({"nickname": "ada_l", "email": "ada@example.com", "subject": "Refund for order AB123"}),
    )
    .await;
    let (status, contact) = admin
        .patch(
            "/v1/contacts/email:ada@example.com",
            json!({"name": "Ada Lovelace", "first-name": "Ada", "last-name": "Lovelace",
                   "attributes": {"segment": "gold"}}),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    admin
        .wait_for(&customer.id, "offered to ann", |i| i["state"] == "offered")
        .await;
    ann.ok_post(
        &format!("/v1/interactions/{}/accept", customer.id),
        json!({}),
    )
    .await;
    admin
        .ok_post(
            "/v1/responses",
            json!({"id": "full", "name": "Full", "category": "greetings", "text":
                "Dear {contact.first-name} {contact.last-name} ({contact.name}, {customer}), \
                 {agent.name} ({agent}) here about \"{interaction.subject}\" [{interaction.id}]; \
                 {contact.attributes.segment}, {contact.email}. {contact.nmae} {not a code}"}),
        )
        .await;
    let interaction = json!({"interaction": customer.id});
    let (status, rendered) = ann
        .post("/v1/responses/full/render", interaction.clone())
        .await;
    assert_eq!(status, 200, "{rendered}");
    assert_eq!(
        rendered["text"],
        format!(
            "Dear Ada Lovelace (Ada Lovelace, ada_l), Agent ann (Agent ann) here about \
             \"Refund for order AB123\" [{}]; gold, ada@example.com. {{contact.nmae}} {{not a code}}",
            customer.id
        )
    );
    assert_eq!(rendered["unknown"], json!(["contact.nmae"]));
    // The desktop's demo responses with `{customer}` and `{agent}`.
    let (_, greeting) = ann
        .post("/v1/responses/greeting/render", interaction.clone())
        .await;
    assert_eq!(
        greeting["text"],
        "Hello ada_l, my name is Agent ann. How can I help you today?"
    );
    let (_, goodbye) = ann
        .post("/v1/responses/goodbye/render", interaction.clone())
        .await;
    assert_eq!(
        goodbye["text"],
        "Thank you for contacting us, Ada. Have a great day!"
    );
    // For the admin, the agent is the interaction's owner.
    let (_, by_admin) = admin
        .post("/v1/responses/greeting/render", interaction.clone())
        .await;
    assert_eq!(by_admin["text"], greeting["text"]);

    // Agents fill in responses only for interactions they are in.
    let bob = admin.ready_agent("bob", "agent").await;
    let (status, body) = bob.post("/v1/responses/full/render", interaction).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = ann.post("/v1/responses/nope/render", json!({})).await;
    assert_eq!(status, 404);
}

on_both_backends!(
    the_library_moves_as_one_file,
    responses_are_filled_in_for_an_interaction
);
