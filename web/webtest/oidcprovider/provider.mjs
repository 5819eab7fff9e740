// A real OpenID Connect provider (panva/oidc-provider) for Drawbridge's tests.
//
// The Go helper in web/webtest starts it with node and drives its HTML forms
// with a plain http.Client. Configuration comes from the environment (or
// KEY=VALUE arguments, which win):
//
//   PORT           port to bind on 127.0.0.1; 0 (the default) picks a free one
//   CLIENT_ID      the one registered client
//   CLIENT_SECRET  its secret
//   REDIRECT_URIS  comma-separated redirect URIs of that client
//   GROUPS_CLAIM   name of the groups claim (default "groups")
//   ACCOUNTS       JSON: {"login": {"email", "name", "groups": [], "email_verified"}}
//
// and, for standing in as an upstream OAuth 2 provider (the way GitHub is one):
//
//   REFRESH            "1": the client may use the refresh_token grant; every
//                      code grant returns a refresh token (no offline_access
//                      or prompt=consent needed), rotated on each use, and the
//                      revocation endpoint is on
//   ACCESS_TOKEN_TTL   access token lifetime in seconds (default 3600); when
//                      set, tokens and codes also lose oidc-provider's 15
//                      seconds of grace past their expiry
//   EXTRA_SCOPES       comma-separated scopes offered beyond openid, email,
//                      profile and groups, such as repo,read:user
//   TOKEN_AUTH_METHOD  client_secret_basic (the default) or client_secret_post;
//                      with client_secret_basic the token endpoint takes
//                      client_secret_post as well (oidc-provider treats the two
//                      alike), with client_secret_post it refuses HTTP Basic
//
// With REFRESH or EXTRA_SCOPES, userinfo also answers an access token granted
// without openid (plain OAuth 2, which oidc-provider's userinfo refuses) with
// all of the account's claims, as GitHub's /user answers any token.
//
// Whatever the configuration, two endpoints let a test look behind the scenes:
//
//   GET  /test/stats          {"code_grants", "refresh_grants", "refresh_failures", "revocations"}:
//                             successful code and refresh_token grants, refused
//                             refresh_token grants, and requests the revocation
//                             endpoint accepted (200, live token or not)
//   POST /test/revoke-grants  destroys every grant with its codes, access and
//                             refresh tokens, as a person revoking the app
//                             upstream would; answers 204
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

// The scopes every configuration offers; EXTRA_SCOPES come on top.
const BASE_SCOPES = ['openid', 'email', 'profile', 'groups'];
const TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];
// RFC 6749 section 3.3 scope-token.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

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
  const refresh = cfg.REFRESH === '1';
  if (![undefined, '', '0', '1'].includes(cfg.REFRESH)) problems.push(`REFRESH ${cfg.REFRESH} is not 0 or 1`);
  const exactExpiry = Boolean(cfg.ACCESS_TOKEN_TTL);
  const accessTokenTTL = Number(cfg.ACCESS_TOKEN_TTL || '3600');
  if (!Number.isInteger(accessTokenTTL) || accessTokenTTL < 1) problems.push(`ACCESS_TOKEN_TTL ${cfg.ACCESS_TOKEN_TTL} is not a number of seconds`);
  const extraScopes = [...new Set((cfg.EXTRA_SCOPES ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
  for (const scope of extraScopes) {
    if (!SCOPE_TOKEN.test(scope)) problems.push(`EXTRA_SCOPES: ${JSON.stringify(scope)} is not a scope`);
    // offline_access would switch on oidc-provider's own refresh token rules.
    if (BASE_SCOPES.includes(scope) || scope === 'offline_access') problems.push(`EXTRA_SCOPES: ${scope} is not extra`);
  }
  const tokenAuthMethod = cfg.TOKEN_AUTH_METHOD || 'client_secret_basic';
  if (!TOKEN_AUTH_METHODS.includes(tokenAuthMethod)) problems.push(`TOKEN_AUTH_METHOD ${tokenAuthMethod} is not one of ${TOKEN_AUTH_METHODS.join(', ')}`);
  if (problems.length > 0) throw new Error(`provider.mjs: bad configuration: ${problems.join('; ')}`);
  return {
    port,
    clientId: cfg.CLIENT_ID,
    clientSecret: cfg.CLIENT_SECRET,
    redirectUris,
    groupsClaim: cfg.GROUPS_CLAIM || 'groups',
    accounts,
    refresh,
    accessTokenTTL,
    exactExpiry,
    extraScopes,
    tokenAuthMethod,
    // Standing in for an upstream OAuth 2 API rather than only a sign-in.
    upstream: refresh || extraScopes.length > 0,
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

// accountClaims are every claim of the account with this login, or undefined
// for a login that is not in ACCOUNTS.
function accountClaims(cfg, sub) {
  const account = Object.hasOwn(cfg.accounts, sub) ? cfg.accounts[sub] : undefined;
  if (!account) return undefined;
  return {
    sub,
    email: account.email,
    email_verified: account.email_verified ?? true,
    name: account.name,
    [cfg.groupsClaim]: account.groups ?? [],
  };
}

// refreshConfig is the configuration that REFRESH adds: it is left out
// entirely otherwise, since merely setting issueRefreshToken makes
// oidc-provider advertise the refresh_token grant.
function refreshConfig(cfg) {
  if (!cfg.refresh) return {};
  return {
    // By default refresh tokens need the offline_access scope and
    // prompt=consent; an upstream such as GitHub issues one with every code.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Each refresh consumes the token it presents and returns a new one (by
    // default only after 70% of its lifetime). Presenting a consumed token
    // again is taken as theft: it fails, and the whole grant is revoked.
    rotateRefreshToken: true,
    // Tokens outlive the person's session at the provider, as an upstream
    // API's do; by default they end with it unless offline_access was granted.
    expiresWithSession: async () => false,
  };
}

function newProvider(Provider, issuer, cfg, privateKey) {
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

  return new Provider(issuer, {
    clients: [{
      client_id: cfg.clientId,
      client_secret: cfg.clientSecret,
      redirect_uris: cfg.redirectUris,
      grant_types: cfg.refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: cfg.tokenAuthMethod,
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
      AccessToken: cfg.accessTokenTTL,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      ...(cfg.refresh ? { RefreshToken: 3600 } : {}),
    },
    // oidc-provider honours tokens for 15 seconds past their expiry by
    // default; a test that sets the lifetime wants it to be the lifetime.
    ...(cfg.exactExpiry ? { clockTolerance: 0 } : {}),
    responseTypes: ['code'],
    // Extra scopes are plain scopes of the userinfo resource in oidc-provider's
    // terms ("OIDC scopes", those it grants without resource indicators): the
    // consent page grants them with the rest, and a request may ask for them
    // without openid, which then is plain OAuth 2 (no ID token).
    scopes: [...BASE_SCOPES, ...cfg.extraScopes],
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
    features: {
      devInteractions: { enabled: false },
      ...(cfg.refresh ? {
        revocation: {
          enabled: true,
          // The default policy is the same, but logs a notice that it should be replaced.
          allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
        },
      } : {}),
    },
    ...refreshConfig(cfg),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const claims = accountClaims(cfg, sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => claims };
    },
  });
}

// bookkeeping is Koa middleware around every oidc-provider route: it counts
// grants and revocations for /test/stats, with cfg.upstream it answers
// userinfo for access tokens without openid, and it holds a client_secret_post
// client to that method.
function bookkeeping(provider, cfg, stats) {
  const userinfoPath = provider.pathFor('userinfo');
  const secretPaths = new Set([provider.pathFor('token'), ...(cfg.refresh ? [provider.pathFor('revocation')] : [])]);
  return async (ctx, next) => {
    if (cfg.upstream && ctx.path === userinfoPath && await plainOAuthUserinfo(provider, cfg, ctx)) return;
    if (cfg.tokenAuthMethod === 'client_secret_post' && secretPaths.has(ctx.path) && /^basic /i.test(ctx.get('authorization'))) {
      // oidc-provider takes client_secret_basic and client_secret_post as
      // one another, whichever the client registered; an upstream that
      // wants the secret in the form refuses it in a header.
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: 'this client authenticates with client_secret_post' };
      return;
    }
    await next();
    // ctx.oidc exists only on requests that matched one of the provider's routes.
    const route = ctx.oidc?.route;
    if (route === 'token') {
      const ok = ctx.status === 200;
      switch (ctx.oidc.params?.grant_type) {
        case 'authorization_code':
          if (ok) stats.code_grants += 1;
          break;
        case 'refresh_token':
          if (ok) stats.refresh_grants += 1;
          else stats.refresh_failures += 1;
          break;
        default:
      }
    } else if (route === 'revocation' && ctx.status === 200) {
      stats.revocations += 1;
    }
  };
}

// plainOAuthUserinfo answers a userinfo request that carries, as a bearer
// header, a live access token granted without openid, and reports whether it
// did. oidc-provider's userinfo would refuse it (insufficient_scope): it
// follows OpenID Connect, where userinfo is a resource of the openid scope.
// Everything else, a token with openid included, is left to oidc-provider.
async function plainOAuthUserinfo(provider, cfg, ctx) {
  if (ctx.method !== 'GET' && ctx.method !== 'POST') return false;
  const match = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'));
  if (!match) return false;
  // find returns nothing for an unknown, expired or revoked token.
  const token = await provider.AccessToken.find(match[1]);
  if (!token || token.scopes.has('openid') || token.aud !== undefined) return false;
  const grant = await provider.Grant.find(token.grantId);
  const claims = accountClaims(cfg, token.accountId);
  if (!grant || !claims) return false;
  ctx.set('cache-control', 'no-store');
  ctx.body = claims;
  return true;
}

// testControls serves /test/stats and /test/revoke-grants.
function testControls(provider, stats, grantIds) {
  return async (req, res, pathname) => {
    if (pathname === '/test/stats' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (pathname === '/test/revoke-grants' && req.method === 'POST') {
      const ids = [...grantIds];
      grantIds.clear();
      // The memory adapter indexes every code and token by grant, so
      // revoking by grant finds them all.
      await Promise.all(ids.flatMap((id) => [
        provider.AuthorizationCode.revokeByGrantId(id),
        provider.AccessToken.revokeByGrantId(id),
        provider.RefreshToken.revokeByGrantId(id),
        provider.Grant.adapter.destroy(id),
      ]));
      res.writeHead(204).end();
      return;
    }
    const known = pathname === '/test/stats' || pathname === '/test/revoke-grants';
    res.writeHead(known ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(known ? 'method not allowed\n' : 'not found\n');
  };
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
  const stats = { code_grants: 0, refresh_grants: 0, refresh_failures: 0, revocations: 0 };
  const grantIds = new Set();
  provider.on('grant.saved', (grant) => grantIds.add(grant.jti));
  provider.on('grant.destroyed', (grant) => grantIds.delete(grant.jti));
  provider.use(bookkeeping(provider, cfg, stats));
  const oidc = provider.callback();
  const interact = interactions(provider, cfg);
  const control = testControls(provider, stats, grantIds);
  handle = (req, res) => {
    const { pathname } = new URL(req.url, issuer);
    let serve;
    if (pathname.startsWith('/interaction/')) serve = interact;
    else if (pathname.startsWith('/test/')) serve = control;
    else {
      oidc(req, res);
      return;
    }
    serve(req, res, pathname).catch((err) => {
      console.error(`${pathname}:`, err);
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
