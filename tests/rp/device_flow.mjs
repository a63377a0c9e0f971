// The device authorization grant (RFC 8628) as panva's openid-client (6.x) runs it: discovery
// finds device_authorization_endpoint, initiateDeviceAuthorization asks for the codes, and
// pollDeviceAuthorizationGrant polls the token endpoint (honouring interval and slow_down)
// until the user has approved; then the access token is introspected.
//
// Usage: node device_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET
//
// It prints `verify <verification_uri_complete>` on a line of its own and waits for one line
// on standard input: the Rust test approves the code through the page meanwhile, then says so.
// Last it prints one JSON object with what it saw. Any failure goes to standard error and
// exits non-zero.

import { describe, firstLine, openidClient } from './common.mjs';

const oidc = await openidClient();

const [issuer, clientId, clientSecret] = process.argv.slice(2);
if (!clientSecret) {
  console.error('usage: node device_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}

async function main() {
  // The issuer is plain http on the loopback interface: openid-client insists on https
  // unless told otherwise.
  const config = await oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid read' });
  console.log(`verify ${started.verification_uri_complete}`);
  await firstLine();
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, started);
  const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
  const seen = {
    device_authorization_endpoint: metadata.device_authorization_endpoint,
    user_code: started.user_code,
    verification_uri: started.verification_uri,
    expires_in: started.expires_in,
    interval: started.interval,
    scope: tokens.scope,
    claims: tokens.claims() ?? null,
    access_token: tokens.access_token,
    has_refresh_token: typeof tokens.refresh_token === 'string',
    introspection,
  };
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(`openid-client failed: ${describe(error)}`);
  process.exit(1);
});
