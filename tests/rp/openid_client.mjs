// oauthd as seen by a relying party none of us wrote: panva's openid-client (6.x) discovers the
// provider, runs the code flow with PKCE (S256), a nonce and state, validates the id_token
// (signature against the served JWKS, iss, aud, exp, nonce) and the authorization response's
// `iss` (RFC 9207), fetches userinfo, refreshes, introspects, revokes, and builds the
// RP-initiated logout URL.
//
// Usage: node openid_client.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_URI
//
// It prints `authorize <URL>` on a line of its own, then reads one line from standard input:
// the URL the provider sent the browser back to (the Rust test plays the user and hands it
// over). Last it prints one JSON object with what it saw. Any failure goes to standard error
// and exits non-zero.

import { describe, firstLine, openidClient } from './common.mjs';

const oidc = await openidClient();

const [issuer, clientId, clientSecret, redirectUri, postLogoutUri] = process.argv.slice(2);
if (!postLogoutUri) {
  console.error(
    'usage: node openid_client.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_URI',
  );
  process.exit(2);
}

/** The max_age of the authorization request, in seconds. */
const MAX_AGE = 300;

async function main() {
  // The issuer is plain http on the loopback interface: openid-client insists on https
  // unless told otherwise.
  const config = await oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  // Verify the id_tokens' signatures against jwks_uri too, not only their claims.
  oidc.enableNonRepudiationChecks(config);
  const metadata = config.serverMetadata();

  const codeVerifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  // offline_access with prompt=consent, as OpenID Connect Core §11 asks of it.
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    max_age: String(MAX_AGE),
  });
  console.log(`authorize ${authorizationUrl.href}`);

  const callback = new URL(await firstLine());
  // Checks state, iss (the metadata says authorization_response_iss_parameter_supported),
  // PKCE at the token endpoint, and the id_token with its nonce.
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedNonce: nonce,
    expectedState: state,
    // With max_age, auth_time is required and must be recent enough (OIDC Core §3.1.2.1).
    maxAge: MAX_AGE,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);

  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  const refreshedClaims = refreshed.claims();

  const introspection = await oidc.tokenIntrospection(config, refreshed.access_token);
  await oidc.tokenRevocation(config, refreshed.access_token);
  const afterRevocation = await oidc.tokenIntrospection(config, refreshed.access_token);
  // The revoked token at userinfo: RFC 6750 §3.1's challenge, as the library reads it.
  let revokedUserinfo;
  try {
    await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub);
    revokedUserinfo = { accepted: true };
  } catch (error) {
    revokedUserinfo = { code: error.code, status: error.status, challenges: error.cause };
  }

  const logoutState = oidc.randomState();
  const endSessionUrl = oidc.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token ?? tokens.id_token,
    post_logout_redirect_uri: postLogoutUri,
    state: logoutState,
  });

  const seen = {
    metadata: {
      issuer: metadata.issuer,
      end_session_endpoint: metadata.end_session_endpoint,
      authorization_response_iss_parameter_supported:
        metadata.authorization_response_iss_parameter_supported,
    },
    authorization_url: authorizationUrl.href,
    nonce,
    callback_iss: callback.searchParams.get('iss'),
    token_type: tokens.token_type,
    scope: tokens.scope,
    claims,
    userinfo,
    refreshed: {
      claims: refreshedClaims ?? null,
      new_refresh_token: refreshed.refresh_token !== tokens.refresh_token,
      access_token: refreshed.access_token,
    },
    introspection,
    after_revocation: afterRevocation,
    revoked_userinfo: revokedUserinfo,
    logout_state: logoutState,
    end_session_url: endSessionUrl.href,
  };
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(`openid-client failed: ${describe(error)}`);
  process.exit(1);
});
