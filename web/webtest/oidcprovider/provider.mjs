// A real OpenID Connect provider (panva/oidc-provider) for Drawbridge's tests.
//
// The Go helper in web/webtest starts it with node and drives its HTML forms
// with a plain http.Client. Configuration comes from the environment (or
// KEY=VALUE arguments, which win):
//
//   PORT           port to bind on 127.0.0.1; 0 (the default) picks a free one
//   CLIENT_ID      the one registered client
//   CLIENT_SECRET  its secret (client_secret_basic)
//   REDIRECT_URIS  comma-separated redirect URIs of that client
//   GROUPS_CLAIM   name of the groups claim (default "groups")
//   ACCOUNTS       JSON: {"login": {"email", "name", "groups": [], "email_verified"}}
//
// When it listens it prints one JSON line on stdout, {"issuer":"http://127.0.0.1:PORT"},
// and it exits on SIGTERM, SIGINT, when stdin closes or when its parent dies
// (so it cannot outlive the test that started it).
//
// Sign-in uses small interaction pages of our own rather than devInteractions,
// because devInteractions accept any login: a login not in ACCOUNTS is refused
// by finishing the interaction with access_denied, which sends the browser back
// to the relying party with ?error=access_denied.

import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';
import { promisify } from 'node:util';

function readConfig(env, argv) {
  const cfg = { ...env };
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    if (eq > 0) cfg[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  const problems = [];
  const port = Number(cfg.PORT ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT ${cfg.PORT} is not a port`);
  if (!cfg.CLIENT_ID) problems.push('CLIENT_ID is required');
  if (!cfg.CLIENT_SECRET) problems.push('CLIENT_SECRET is required');
  const redirectUris = (cfg.REDIRECT_URIS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (redirectUris.length === 0) problems.push('REDIRECT_URIS is required');
  let accounts = {};
  try {
    accounts = JSON.parse(cfg.ACCOUNTS ?? '{}');
    if (accounts === null || typeof accounts !== 'object' || Array.isArray(accounts)) {
      problems.push('ACCOUNTS must be a JSON object keyed by login');
      accounts = {};
    }
  } catch (err) {
    problems.push(`ACCOUNTS is not JSON: ${err.message}`);
  }
  if (problems.length > 0) throw new Error(`provider.mjs: bad configuration: ${problems.join('; ')}`);
  return {
    port,
    clientId: cfg.CLIENT_ID,
    clientSecret: cfg.CLIENT_SECRET,
    redirectUris,
    groupsClaim: cfg.GROUPS_CLAIM || 'groups',
    accounts,
  };
}

function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHTML(title)}</title></head>
<body><h1>${escapeHTML(title)}</h1>
${body}
</body></html>
`;
}

function sendHTML(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function newProvider(Provider, issuer, cfg, privateKey) {
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

  return new Provider(issuer, {
    clients: [{
      client_id: cfg.clientId,
      client_secret: cfg.clientSecret,
      redirect_uris: cfg.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    cookies: {
      keys: [randomBytes(32).toString('hex')],
      // Cookies ignore ports, so on 127.0.0.1 the relying party under test
      // shares this jar: names of our own keep the two from colliding.
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    },
    pkce: { required: () => true },
    // Fixed lifetimes (seconds), long enough for any test; setting them
    // also keeps the provider from logging a notice about each default.
    ttl: {
      AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600,
    },
    responseTypes: ['code'],
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      // The groups claim comes with profile (what most relying parties ask
      // for) and with a scope of its own, as Dex and Keycloak offer it.
      profile: ['name', cfg.groupsClaim],
      groups: [cfg.groupsClaim],
    },
    // Put the scope claims in the ID token too, not only behind userinfo.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = Object.hasOwn(cfg.accounts, sub) ? cfg.accounts[sub] : undefined;
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: account.email_verified ?? true,
            name: account.name,
            [cfg.groupsClaim]: account.groups ?? [],
          };
        },
      };
    },
  });
}

// interactions serves /interaction/:uid (the login or consent page),
// /interaction/:uid/login, /interaction/:uid/consent and /interaction/:uid/abort.
function interactions(provider, cfg) {
  return async (req, res, pathname) => {
    const [, , uid, action] = pathname.split('/');
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      sendHTML(res, 400, page('Error', '<p data-testid="error">interaction mismatch</p>'));
      return;
    }
    const { prompt, params, session } = details;

    if (req.method === 'GET' && action === undefined) {
      if (prompt.name === 'login') {
        sendHTML(res, 200, page('Sign in', `<form method="post" action="/interaction/${escapeHTML(uid)}/login">
  <label>Login <input type="text" name="login" value="${escapeHTML(params.login_hint ?? '')}" required autofocus></label>
  <button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHTML(uid)}/abort">Cancel</a></p>`));
        return;
      }
      if (prompt.name === 'consent') {
        const scopes = (details.prompt.details.missingOIDCScope ?? []).map((s) => `<li>${escapeHTML(s)}</li>`).join('');
        sendHTML(res, 200, page('Authorize', `<p>${escapeHTML(params.client_id)} asks for:</p>
<ul data-testid="scopes">${scopes}</ul>
<form method="post" action="/interaction/${escapeHTML(uid)}/consent">
  <button type="submit">Allow</button>
</form>
<p><a href="/interaction/${escapeHTML(uid)}/abort">Deny</a></p>`));
        return;
      }
      sendHTML(res, 501, page('Error', `<p data-testid="error">unsupported prompt ${escapeHTML(prompt.name)}</p>`));
      return;
    }

    if (req.method === 'POST' && action === 'login' && prompt.name === 'login') {
      const login = (await readForm(req)).get('login') ?? '';
      const result = Object.hasOwn(cfg.accounts, login)
        ? { login: { accountId: login } }
        : { error: 'access_denied', error_description: 'unknown login' };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }

    if (req.method === 'POST' && action === 'consent' && prompt.name === 'consent') {
      await readForm(req);
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      if (missing.missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      return;
    }

    if (req.method === 'GET' && action === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
      return;
    }

    sendHTML(res, 405, page('Error', '<p data-testid="error">method not allowed</p>'));
  };
}

async function main() {
  const cfg = readConfig(process.env, process.argv.slice(2));
  // A fresh signing key per process, so no test trusts a key that anything
  // else holds; RS256 because every relying party verifies it. Generating
  // it takes a few hundred milliseconds, so it runs on libuv's thread pool
  // while the main thread loads oidc-provider.
  const keyPair = promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const { default: Provider } = await import('oidc-provider');
  const { privateKey } = await keyPair;

  let handle = (_req, res) => { res.writeHead(503).end(); };
  const server = createServer((req, res) => handle(req, res));
  // Listen before building the provider: with PORT=0 the issuer (which
  // carries the port) is only known once the socket is bound.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = newProvider(Provider, issuer, cfg, privateKey);
  provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
  const oidc = provider.callback();
  const interact = interactions(provider, cfg);
  handle = (req, res) => {
    const { pathname } = new URL(req.url, issuer);
    if (!pathname.startsWith('/interaction/')) {
      oidc(req, res);
      return;
    }
    interact(req, res, pathname).catch((err) => {
      console.error('interaction:', err);
      if (!res.headersSent) sendHTML(res, 400, page('Error', `<p data-testid="error">${escapeHTML(err.message)}</p>`));
      else res.end();
    });
  };

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
    // Keep-alive sockets or a stuck request must not keep us alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  // Belt and braces for a test binary killed outright: once reparented, we
  // have outlived whoever started us.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) stop(); }, 500).unref();

  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
}

main().catch((err) => {
  console.error(err.stack ?? String(err));
  process.exit(1);
});
