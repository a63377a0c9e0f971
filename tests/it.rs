//! The one integration-test binary: real HTTP against an in-process server on 127.0.0.1:0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "it/support.rs"]
mod support;

#[path = "it/tutorial.rs"]
mod tutorial;

#[path = "it/token.rs"]
mod token;

#[path = "it/revoke.rs"]
mod revoke;

#[path = "it/introspect.rs"]
mod introspect;

#[path = "it/throttle.rs"]
mod throttle;

#[path = "it/resource.rs"]
mod resource;

#[path = "it/bad_input.rs"]
mod bad_input;

#[path = "it/edge.rs"]
mod edge;

#[path = "it/cli.rs"]
mod cli;

#[path = "it/signing_keys.rs"]
mod signing_keys;

#[path = "it/client_lib.rs"]
mod client_lib;

#[path = "it/refresh.rs"]
mod refresh;

#[path = "it/durability.rs"]
mod durability;

#[path = "it/accounts.rs"]
mod accounts;

#[path = "it/authorize.rs"]
mod authorize;

#[path = "it/browser.rs"]
mod browser;

#[path = "it/apps.rs"]
mod apps;

#[path = "it/tokens_page.rs"]
mod tokens_page;

#[path = "it/admin.rs"]
mod admin;

#[path = "it/user_accounts.rs"]
mod user_accounts;

#[path = "it/browser_accounts.rs"]
mod browser_accounts;

#[path = "it/browser_pages.rs"]
mod browser_pages;

#[path = "it/browser_secret.rs"]
mod browser_secret;

#[path = "it/browser_consent.rs"]
mod browser_consent;

#[path = "it/sweep.rs"]
mod sweep;

#[path = "it/remembered_consent.rs"]
mod remembered_consent;

// OpenID Connect: discovery, id_tokens, userinfo, prompt, logout, keys.
#[path = "it/oidc.rs"]
mod oidc;
#[path = "it/oidc_logout.rs"]
mod oidc_logout;

#[path = "it/oidc_rp.rs"]
mod oidc_rp;

#[path = "it/refresh_grace.rs"]
mod refresh_grace;

#[path = "it/app_removal.rs"]
mod app_removal;

#[path = "it/resource_indicators.rs"]
mod resource_indicators;

#[path = "it/self_service_grants.rs"]
mod self_service_grants;

// Running it for real: backups, start-up checks, metrics and security events.
#[path = "it/operations.rs"]
mod operations;

// Issue 12: the device grant, CORS, client registration and `serve --dev`.
//
// The device authorization grant (RFC 8628).
#[path = "it/browser_device.rs"]
mod browser_device;
#[path = "it/device.rs"]
mod device;
#[path = "it/device_support.rs"]
mod device_support;
#[path = "it/oidc_agent.rs"]
mod oidc_agent;

// Browser apps: CORS for registered origins.
#[path = "it/browser_cors.rs"]
mod browser_cors;
#[path = "it/cors.rs"]
mod cors;

// Dynamic client registration (RFC 7591), and an MCP client registering itself.
#[path = "it/mcp_client.rs"]
mod mcp_client;
#[path = "it/registration.rs"]
mod registration;

// `serve --dev`: the development provider.
#[path = "it/dev.rs"]
mod dev;
