// A real OpenID Provider for hr-portal's integration tests: panva's `oidc-provider` (OpenID
// Certified) with one client, its development login and consent screens, PKCE required and
// back-channel logout on. tests/web/oidc_provider.rs starts it; nothing else should.
//
//   node provider.mjs '<json>'
//
// The JSON: { port, issuer?, tools_dir, keys_file?, client: {client_id, client_secret,
// redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, ...}, accounts: [{sub, email,
// email_verified}] }. Prints `READY <issuer>` on stdout once it listens on 127.0.0.1:port.
//
// Test-only hooks on the same listener (plain HTTP; never in any real deployment):
//   POST /test/rotate-keys      a new signing key with a new kid becomes the only one
//   POST /test/logout-token     a signed logout token from a JSON body of claims (see below)
//   POST /test/accounts         replaces the accounts (JSON array), e.g. a changed e-mail
//   POST /test/client           replaces the client's registration (JSON object)
//   GET  /test/backchannel-log  what each back-channel logout call so far answered

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? process.env.OIDC_PROVIDER_CONFIG ?? '{}');
const port = Number(config.port);
if (!Number.isInteger(port) || port <= 0) {
  throw new Error('provider.mjs: the configuration needs a port');
}
const issuer = config.issuer ?? `http://127.0.0.1:${port}`;
const toolsDir = config.tools_dir;
if (!toolsDir) {
  throw new Error('provider.mjs: the configuration needs tools_dir (where npm installed oidc-provider)');
}

// The packages live in the git-ignored tests/tools (installed by .ci/run), not beside this
// script, and ESM ignores NODE_PATH: resolve them from there and import by absolute URL.
const requireFromTools = createRequire(join(toolsDir, 'package.json'));
const load = (name) => import(pathToFileURL(requireFromTools.resolve(name)).href);
const { default: Provider } = await load('oidc-provider');
const jose = await load('jose');
const providerMajor = Number(JSON.parse(readFileSync(
  join(dirname(dirname(requireFromTools.resolve('oidc-provider'))), 'package.json'),
  'utf8',
)).version.split('.')[0]);

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let accounts = new Map((config.accounts ?? []).map((account) => [account.sub, account]));
const clientDefaults = {
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  backchannel_logout_session_required: true,
};
let client = { ...clientDefaults, ...config.client };

// ---------------------------------------------------------------------------------------------
// Signing keys. Kept in keys_file (when given) so that a provider stopped and started again on
// the same port still signs with the keys the relying party already fetched; only
// /test/rotate-keys changes them.

let keyCounter = 0;

async function newSigningKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  keyCounter += 1;
  // A kid the relying party has never seen: it must refetch the JWKS to verify.
  jwk.kid = `test-${keyCounter}-${randomBytes(6).toString('hex')}`;
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return jwk;
}

function saveKeys(keys) {
  if (config.keys_file) {
    writeFileSync(config.keys_file, JSON.stringify({ keys }));
  }
}

let signingKeys;
if (config.keys_file && existsSync(config.keys_file)) {
  signingKeys = JSON.parse(readFileSync(config.keys_file, 'utf8')).keys;
} else {
  signingKeys = [await newSigningKey()];
  saveKeys(signingKeys);
}

// Cookie signing keys: per process, since the provider's sessions (memory adapter) do not
// outlive the process either.
const cookieKeys = [randomBytes(32).toString('hex')];

// ---------------------------------------------------------------------------------------------
// The provider. Built again on key rotation and on a new client registration: oidc-provider
// reads its JWKS and static clients only at construction, and its memory adapter is
// module-wide, so sessions, grants and codes carry over to the new instance.

function isLoopback(url) {
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

// From version 9 on, oidc-provider refuses loopback and private addresses for its own outgoing
// requests (an SSRF guard: an undici dispatcher it puts into the options of its `fetch`). The
// portal under test listens on 127.0.0.1, so drop that guard for loopback URLs only. Version 8
// (the one that supports Node 20, which .ci/run installs) has no such guard and no `fetch`
// option; it sends to loopback as it is.
const loopbackAllowed = providerMajor >= 9 ? {
  fetch(url, options) {
    if (isLoopback(url)) {
      // eslint-disable-next-line no-param-reassign
      delete options.dispatcher;
    }
    return globalThis.fetch(url, options);
  },
} : {};

const backchannelLog = [];

function buildProvider() {
  const provider = new Provider(issuer, {
    clients: [client],
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    // The portal is a confidential client, for which oidc-provider makes PKCE optional by
    // default; the portal must always send it, so the tests see a refusal if it does not.
    pkce: { required: () => true },
    scopes: ['openid', 'email'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // Like Google, Entra ID, Keycloak and authentik: scope claims (email) in the ID token
    // itself, not only from the userinfo endpoint.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // The development login accepts any login name as the account id; only the configured
    // accounts exist, so the test types the `sub` of the person it signs in.
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) {
        return undefined;
      }
      return {
        accountId: account.sub,
        async claims() {
          return {
            sub: account.sub,
            email: account.email,
            email_verified: account.email_verified ?? true,
          };
        },
      };
    },
    // Explicit lifetimes: the defaults work but print a warning each.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    ...loopbackAllowed,
  });
  // Its built-in pages (login, consent, logout, errors) load a web font from the internet with
  // a CSS @import. The tests' Chromium must not reach out (this machine has no network, and
  // traffic off loopback is not wanted), so the import is cut from every HTML page it serves.
  provider.use(async (ctx, next) => {
    await next();
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/@import url\(https?:[^)]*\);?/g, '');
    }
  });
  provider.on('backchannel.success', (_ctx, rp, accountId, sid) => {
    backchannelLog.push({ ok: true, client_id: rp.clientId, sub: accountId, sid });
  });
  provider.on('backchannel.error', (_ctx, err, rp, accountId, sid) => {
    backchannelLog.push({
      ok: false, client_id: rp.clientId, sub: accountId, sid, error: String(err?.message ?? err),
    });
    console.error('back-channel logout failed:', err);
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
  return provider;
}

let provider = buildProvider();
let handle = provider.callback();

// ---------------------------------------------------------------------------------------------
// Test hooks.

async function currentPrivateKey() {
  const jwk = signingKeys[0];
  return { key: await jose.importJWK(jwk, 'RS256'), kid: jwk.kid };
}

// A key nobody published: tokens it signs are forgeries.
const strangerKey = jose.generateKeyPair('RS256');

// Body: claims to put in the token. Defaults make a valid back-channel logout token for the
// configured client; a claim given as null is left out (to test a missing claim). Control
// fields, not claims: sign_with ("provider" | "stranger"), kid (the header's kid; a stranger
// signs under the provider's current kid unless told otherwise, so only the signature is
// wrong), typ (default "logout+jwt").
async function logoutToken(body) {
  const {
    sign_with: signWith = 'provider', kid: kidOverride, typ = 'logout+jwt', ...claims
  } = body;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    aud: client.client_id,
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    events: { [BACKCHANNEL_EVENT]: {} },
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) {
    if (value === null) {
      delete payload[name];
    }
  }
  const own = await currentPrivateKey();
  let key;
  if (signWith === 'provider') {
    key = own.key;
  } else if (signWith === 'stranger') {
    key = (await strangerKey).privateKey;
  } else {
    throw new Error(`sign_with must be "provider" or "stranger", got ${signWith}`);
  }
  const header = { alg: 'RS256', typ, kid: kidOverride === undefined ? own.kid : kidOverride };
  if (header.kid === null) {
    delete header.kid;
  }
  if (header.typ === null) {
    delete header.typ;
  }
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res, status, type, text) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function testHook(req, res) {
  const path = new URL(req.url, issuer).pathname;
  if (req.method === 'POST' && path === '/test/rotate-keys') {
    await readBody(req);
    signingKeys = [await newSigningKey()];
    saveKeys(signingKeys);
    provider = buildProvider();
    handle = provider.callback();
    return reply(res, 200, 'text/plain', signingKeys[0].kid);
  }
  if (req.method === 'POST' && path === '/test/logout-token') {
    const text = await readBody(req);
    const body = text ? JSON.parse(text) : {};
    return reply(res, 200, 'application/jwt', await logoutToken(body));
  }
  if (req.method === 'POST' && path === '/test/accounts') {
    const list = JSON.parse(await readBody(req));
    accounts = new Map(list.map((account) => [account.sub, account]));
    return reply(res, 200, 'text/plain', String(accounts.size));
  }
  if (req.method === 'POST' && path === '/test/client') {
    client = { ...clientDefaults, ...JSON.parse(await readBody(req)) };
    provider = buildProvider();
    handle = provider.callback();
    return reply(res, 200, 'text/plain', client.client_id);
  }
  if (req.method === 'GET' && path === '/test/backchannel-log') {
    return reply(res, 200, 'application/json', JSON.stringify(backchannelLog));
  }
  return reply(res, 404, 'text/plain', 'no such test hook');
}

const server = createServer((req, res) => {
  if (req.url.startsWith('/test/')) {
    testHook(req, res).catch((err) => {
      console.error('test hook failed:', err);
      reply(res, 500, 'text/plain', String(err?.message ?? err));
    });
    return;
  }
  handle(req, res);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});

// Stopped by the test harness with SIGKILL or SIGTERM; leave at once either way.
process.on('SIGTERM', () => process.exit(0));
