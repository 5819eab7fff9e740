// An MCP client on the official TypeScript SDK, given only a route URL, as
// cmd/drawbridge's TestTypeScriptMCPClientJourney runs it:
//
//	node client.mjs <route URL>
//
// It lets the SDK discover the authorization server from the route's 401,
// register itself and start the authorization code flow, prints the URL a
// person must open, waits for the browser at its own loopback callback,
// then lists the tools, calls echo, and calls admin_reset, which the demo
// policy denies. Each result is one JSON line on stdout:
//
//	{"authorize": "<URL to open>"}
//	{"registered": {"client_id": "...", "client_name": "..."}}
//	{"tools": ["echo", ...]}
//	{"call": <the echo call's result>}
//	{"denied": {"error": {"code": -32001, "message": "..."}}}
//	           or {"result": <the call's result>}, when it was answered
//
// It exits 0 once it has printed them all; anything unexpected goes to
// stderr with a non-zero exit, and so does running out of time.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

const TIMEOUT_MS = 60_000;
const CLIENT_NAME = 'TypeScript journey client';
const ECHO_TEXT = 'through the drawbridge, from TypeScript';

function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

function fail(message) {
  process.stderr.write(`client.mjs: ${message}\n`);
  process.exit(1);
}

// describe is an error's stack and, for fetch's "fetch failed", the cause
// that says which connection failed and why.
function describe(err) {
  const text = err?.stack ?? String(err);
  return err?.cause ? `${text}\ncaused by: ${describe(err.cause)}` : text;
}

// OAuthClientProvider keeping everything in memory: one process, one
// sign-in. redirectToAuthorization prints the URL for whoever runs us.
class JourneyAuthProvider {
  #redirectUrl;
  #state;
  #clientInformation;
  #tokens;
  #codeVerifier;

  constructor(redirectUrl, state) {
    this.#redirectUrl = redirectUrl;
    this.#state = state;
  }

  get redirectUrl() {
    return this.#redirectUrl;
  }

  get clientMetadata() {
    return {
      client_name: CLIENT_NAME,
      redirect_uris: [this.#redirectUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }

  state() {
    return this.#state;
  }

  clientInformation() {
    return this.#clientInformation;
  }

  saveClientInformation(info) {
    this.#clientInformation = info;
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens) {
    this.#tokens = tokens;
  }

  redirectToAuthorization(url) {
    emit({ authorize: url.href });
  }

  saveCodeVerifier(verifier) {
    this.#codeVerifier = verifier;
  }

  codeVerifier() {
    if (!this.#codeVerifier) {
      throw new Error('no PKCE code verifier was saved before the code came back');
    }
    return this.#codeVerifier;
  }
}

// listenForCode starts the loopback redirect URI, as CLI clients use, and
// resolves code with the authorization code the browser brings back.
async function listenForCode(state) {
  let resolve, reject;
  const code = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const q = url.searchParams;
    if (q.get('error')) {
      res.writeHead(400).end('Authorization failed.\n');
      reject(new Error(`the authorization server answered ${q.get('error')}: ${q.get('error_description') ?? ''}`));
    } else if (q.get('state') !== state) {
      res.writeHead(400).end('Wrong state.\n');
      reject(new Error(`the callback's state ${JSON.stringify(q.get('state'))} is not the one sent`));
    } else if (!q.get('code')) {
      res.writeHead(400).end('No code.\n');
      reject(new Error('the callback carries no code'));
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Signed in. You can close this page.\n');
      resolve(q.get('code'));
    }
  });
  await new Promise((res, rej) => server.once('error', rej).listen(0, '127.0.0.1', res));
  const { port } = server.address();
  return { redirectUrl: `http://127.0.0.1:${port}/callback`, code, close: () => server.close() };
}

// refusal describes why a call failed: Drawbridge answers a denied call
// with its JSON-RPC error, which the SDK raises as an McpError. Anything
// else (a transport error) is not a refusal, and fails the client.
function refusal(err) {
  if (err instanceof McpError) {
    return { code: err.code, message: err.message };
  }
  throw err;
}

async function main(routeURL) {
  const serverUrl = new URL(routeURL);
  const state = randomBytes(16).toString('base64url');
  const callback = await listenForCode(state);
  const provider = new JourneyAuthProvider(callback.redirectUrl, state);
  const info = { name: 'drawbridge-ts-journey', version: '1' };

  // The first connect meets the route's 401: the SDK discovers, registers,
  // calls redirectToAuthorization and throws UnauthorizedError.
  const first = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
  try {
    await new Client(info).connect(first);
    throw new Error(`${routeURL} let the client in before it signed in`);
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) {
      throw err;
    }
  }
  const code = await callback.code;
  callback.close();
  await first.finishAuth(code);
  const { client_id, client_name } = provider.clientInformation();
  emit({ registered: { client_id, client_name } });

  const client = new Client(info);
  await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
  const { tools } = await client.listTools();
  emit({ tools: tools.map((tool) => tool.name) });
  emit({ call: await client.callTool({ name: 'echo', arguments: { text: ECHO_TEXT } }) });
  try {
    emit({ denied: { result: await client.callTool({ name: 'admin_reset', arguments: { confirm: true } }) } });
  } catch (err) {
    emit({ denied: { error: refusal(err) } });
  }
  await client.close();
}

if (process.argv.length !== 3) {
  fail('usage: node client.mjs <route URL>');
}
setTimeout(() => fail(`gave up after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS).unref();
main(process.argv[2]).then(
  () => process.exit(0),
  (err) => fail(describe(err)),
);
