//! oauthd in front of an MCP server, driven by the MCP TypeScript SDK
//! (`tests/rp/mcp_client.mjs`): the SDK's client discovers the MCP server's protected resource
//! metadata (RFC 9728) and oauthd's metadata, registers itself (RFC 7591, `registration =
//! "open"`), runs the code flow with PKCE and a `resource` (RFC 8707), and calls a tool of the
//! SDK's MCP server, which checks the token at oauthd's introspection endpoint.

use crate::oidc_rp::{EMAIL, FULL_NAME, PASSWORD, USERNAME, run_node_rp};
use crate::registration::stored_public_registration;
use crate::support::{TestServer, UserAgent, field, query_param, rows};

/// Where the SDK's client says it listens (nobody does: the test reads the redirect).
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

#[test]
fn the_mcp_sdk_registers_authorizes_with_a_resource_and_calls_a_tool() {
    let s = TestServer::with_extra_settings("registration = \"open\"");
    let carol = s.add_person(USERNAME, PASSWORD, EMAIL, FULL_NAME);
    // The MCP server's own credentials, for introspection (a resource server).
    let resource_server = s.add_app(&[
        "--name",
        "MCP server",
        "--client-type",
        "confidential",
        "--grant",
        "client-credentials",
        "--scopes",
        "introspection",
    ]);
    let apps_before = rows(&s, "applications");
    let agent = UserAgent::new(&s.http);
    let mut asked_resource = None;
    let args = [
        s.base.as_str(),
        REDIRECT,
        resource_server.id.as_str(),
        resource_server.secret.as_deref().unwrap(),
    ];
    let saw = run_node_rp(
        "mcp_client.mjs",
        "@modelcontextprotocol/sdk",
        &args,
        "authorize ",
        |url| {
            let url = url::Url::parse(url).expect("an authorization URL");
            assert!(
                url.as_str()
                    .starts_with(&format!("{}/o/authorize/?", s.base))
            );
            assert_eq!(
                query_param(&url, "code_challenge_method").as_deref(),
                Some("S256")
            );
            assert_eq!(query_param(&url, "scope").as_deref(), Some("read"));
            asked_resource = query_param(&url, "resource");
            let approval = agent.authorize(url.as_str(), USERNAME, PASSWORD);
            approval.callback.to_string()
        },
    );

    // Registered: one new application, public, marked as dynamically registered, no owner.
    assert_eq!(rows(&s, "applications"), apps_before + 1);
    let client_id = field(&saw["registered"], "client_id");
    let app = stored_public_registration(&s, &client_id);
    assert_eq!(app.fields.redirect_uris, [REDIRECT]);
    assert_eq!(saw["registered"]["token_endpoint_auth_method"], "none");
    assert!(saw["registered"].get("client_secret").is_none());
    // What the SDK sent to this oauthd path (the first such request).
    let sent_to = |path: &str| {
        let url = format!("{}{path}", s.base);
        let mut sent = saw["sent"].as_array().unwrap().iter();
        sent.find(|r| r["url"] == url.as_str()).cloned()
    };
    let registration = sent_to("/o/register/").expect("the SDK registered where advertised");
    assert_eq!(registration["method"], "POST");
    let metadata: serde_json::Value =
        serde_json::from_str(registration["body"].as_str().expect("a JSON body")).unwrap();
    assert_eq!(metadata["redirect_uris"], serde_json::json!([REDIRECT]));
    assert_eq!(metadata["token_endpoint_auth_method"], "none");
    assert_eq!(
        metadata["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(metadata["response_types"], serde_json::json!(["code"]));
    assert_eq!(app.fields.name, field(&metadata, "client_name"));

    // The resource indicator (RFC 8707) is the MCP server's URL, on both requests; oauthd
    // binds the token to it, and the MCP server accepts only tokens whose `aud` names it.
    let mcp_url = field(&saw, "mcp_url");
    assert_eq!(asked_resource.as_deref(), Some(mcp_url.as_str()));
    let exchange = sent_to("/o/token/").expect("the SDK exchanged the code");
    assert_eq!(exchange["body"]["grant_type"], "authorization_code");
    assert_eq!(exchange["body"]["resource"], mcp_url.as_str());
    assert_eq!(exchange["body"]["client_id"], client_id.as_str());
    assert!(exchange["body"]["code_verifier"].is_string());

    // The token works: the MCP server's introspection saw carol's active token of this
    // client, and the tool answered; oauthd stored one grant for carol and the client.
    assert_eq!(saw["tools"], serde_json::json!(["whoami"]));
    assert_eq!(saw["tool_result"], format!("hello {USERNAME}"));
    let seen = &saw["introspections"];
    let last = seen.as_array().unwrap().last().expect("introspected");
    assert_eq!(last["active"], true, "{seen}");
    assert_eq!(last["client_id"], client_id.as_str());
    assert_eq!(last["username"], USERNAME);
    assert_eq!(
        last["aud"],
        mcp_url.as_str(),
        "the token is for the MCP server"
    );
    let access = field(&saw["tokens"], "access_token");
    let hello = s.with_bearer("GET", "/api/hello", &access, "");
    assert_eq!(hello.status, 200, "{}", hello.body);
    let grants = format!(
        "grants WHERE application_id = {} AND user_id = {}",
        app.id, carol.id
    );
    assert_eq!(rows(&s, &grants), 1);
}
