// oauthd in front of an MCP server, as the MCP TypeScript SDK (@modelcontextprotocol/sdk) sees
// it. This script runs both sides:
// - the MCP server: the SDK's McpServer over its Streamable HTTP transport on 127.0.0.1:0, with
//   one tool (`whoami`). It publishes RFC 9728 protected resource metadata naming oauthd as its
//   authorization server, answers a request without a valid token with 401 and a
//   `WWW-Authenticate: Bearer resource_metadata=...` challenge, and checks each bearer token at
//   oauthd's introspection endpoint (RFC 7662) with its own client credentials;
// - the MCP client: the SDK's Client and StreamableHTTPClientTransport with an in-memory
//   OAuthClientProvider. Its first connection is refused; the SDK discovers the resource
//   metadata and oauthd's metadata, registers itself (RFC 7591), and builds the authorization
//   URL with PKCE (S256) and a `resource` (RFC 8707); after the user's approval it exchanges
//   the code, connects again and calls the tool.
//
// Usage: node mcp_client.mjs ISSUER REDIRECT_URI RESOURCE_SERVER_ID RESOURCE_SERVER_SECRET
//
// It prints `authorize <URL>` on a line of its own, then reads one line from standard input:
// the URL oauthd sent the browser back to (the Rust test plays the user and hands it over).
// Last it prints one JSON object with what it saw. Any failure goes to standard error and
// exits non-zero.

import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { firstLine } from './common.mjs';

const [issuer, redirectUri, resourceServerId, resourceServerSecret] = process.argv.slice(2);
if (!resourceServerSecret) {
  console.error('usage: node mcp_client.mjs ISSUER REDIRECT_URI RESOURCE_SERVER_ID RESOURCE_SERVER_SECRET');
  process.exit(2);
}

/** The scope the MCP server asks for. */
const SCOPE = 'read';
/** The path of the MCP endpoint, and of its protected resource metadata (RFC 9728 §3.1). */
const MCP_PATH = '/mcp';
const RESOURCE_METADATA_PATH = `/.well-known/oauth-protected-resource${MCP_PATH}`;

/** What the MCP server learned from oauthd about each token it was shown. */
const introspections = [];

/** Asks oauthd about `token` (RFC 7662), as the resource server. */
async function introspect(token) {
  const basic = Buffer.from(
    `${encodeURIComponent(resourceServerId)}:${encodeURIComponent(resourceServerSecret)}`,
  ).toString('base64');
  const response = await fetch(`${issuer}/o/introspect/`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${basic}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  if (!response.ok) throw new Error(`introspection answered ${response.status}`);
  return response.json();
}

/** The MCP server: resource metadata, the bearer check, and the SDK's transport per request. */
async function startMcpServer() {
  const server = createServer(async (req, res) => {
    try {
      const base = `http://${req.headers.host}`;
      if (req.url === RESOURCE_METADATA_PATH) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            resource: `${base}${MCP_PATH}`,
            authorization_servers: [issuer],
            scopes_supported: [SCOPE],
            bearer_methods_supported: ['header'],
          }),
        );
        return;
      }
      if (req.url !== MCP_PATH) {
        res.writeHead(404).end();
        return;
      }
      const token = (req.headers.authorization ?? '').match(/^Bearer (\S+)$/)?.[1];
      const info = token ? await introspect(token) : { active: false };
      if (token) introspections.push(info);
      const scopes = (info.scope ?? '').split(' ');
      // The token must be for this server (RFC 8707 audience, as the MCP spec requires).
      const audience = [info.aud ?? []].flat();
      if (!info.active || !scopes.includes(SCOPE) || !audience.includes(`${base}${MCP_PATH}`)) {
        const challenge = `Bearer resource_metadata="${base}${RESOURCE_METADATA_PATH}", scope="${SCOPE}"`;
        res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_token' }));
        return;
      }
      // Stateless: a fresh server and transport per request, as the SDK's examples do.
      const mcp = new McpServer({ name: 'oauthd-test-server', version: '1.0.0' });
      mcp.registerTool('whoami', { description: 'Who the token speaks for' }, async () => ({
        content: [{ type: 'text', text: `hello ${info.username}` }],
      }));
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => {
        transport.close();
        mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** An OAuthClientProvider that keeps everything in memory and prints the authorization URL. */
function memoryProvider(seen) {
  let clientInformation;
  let tokens;
  let verifier;
  return {
    get redirectUrl() {
      return redirectUri;
    },
    get clientMetadata() {
      return {
        client_name: 'oauthd MCP SDK test',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      };
    },
    clientInformation: () => clientInformation,
    saveClientInformation(info) {
      clientInformation = info;
      seen.registered = info;
    },
    tokens: () => tokens,
    saveTokens(saved) {
      tokens = saved;
      seen.tokens = saved;
    },
    redirectToAuthorization(url) {
      seen.authorization_url = url.href;
      console.log(`authorize ${url.href}`);
    },
    saveCodeVerifier(v) {
      verifier = v;
    },
    codeVerifier: () => verifier,
  };
}

/** fetch that notes what the SDK sends to oauthd's endpoints (not to the MCP server). */
function recordingFetch(sent) {
  return async (url, init) => {
    const href = String(url);
    if (href.startsWith(issuer)) {
      const body = init?.body;
      sent.push({
        url: href,
        method: init?.method ?? 'GET',
        body: body instanceof URLSearchParams ? Object.fromEntries(body) : body ?? null,
      });
    }
    return fetch(url, init);
  };
}

async function main() {
  const server = await startMcpServer();
  const { port } = server.address();
  const mcpUrl = new URL(`http://127.0.0.1:${port}${MCP_PATH}`);
  const seen = { mcp_url: mcpUrl.href, sent: [] };
  const provider = memoryProvider(seen);
  const fetchFn = recordingFetch(seen.sent);

  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchFn });
  const client = new Client({ name: 'oauthd-test-client', version: '1.0.0' });
  try {
    await client.connect(first);
    throw new Error('the first connection was not refused');
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  const callback = new URL(await firstLine());
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  await first.finishAuth(code);

  const second = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchFn });
  const authorized = new Client({ name: 'oauthd-test-client', version: '1.0.0' });
  await authorized.connect(second);
  const tools = await authorized.listTools();
  seen.tools = tools.tools.map((t) => t.name);
  const result = await authorized.callTool({ name: 'whoami', arguments: {} });
  seen.tool_result = result.content?.[0]?.text;
  seen.introspections = introspections;
  await authorized.close();
  server.close();
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
