// A real OpenID provider for the web tests: oidc-provider on a loopback
// port, with the users and the one client the test passes as JSON in the
// first argument:
//
//   {"port": 4567, "audience": "gov-crm", "roles_claim": "roles",
//    "client": {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris"},
//    "users": [{"login", "password", "sub", "name", "roles": ["citizen"]}]}
//
// The issuer is http://127.0.0.1:<port>. The client must use PKCE (S256).
// Access tokens are JWTs for the CRM API: audience `audience`, the user's
// roles in `roles_claim`, signed ES256; ID tokens are signed RS256, so the
// app checks both algorithms. Prints `listening <issuer>` once it serves.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;
const users = new Map(config.users.map((user) => [user.sub, user]));
// The resource indicator the API's tokens are minted for by default.
const API = 'urn:gov-crm:api';

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `test-${alg.toLowerCase()}` };
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} - Test identity provider</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, error, login = '') {
  const problem = error ? `<p id="login-error" role="alert">${escape(error)}</p>` : '';
  return page('Sign in to the test identity provider', `${problem}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="login">User name</label>
<input id="login" name="login" autocomplete="username" value="${escape(login)}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button id="sign-in" type="submit">Sign in</button></p>
</form>`);
}

const provider = new Provider(issuer, {
  clients: [{
    ...config.client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: config.client.client_secret ? 'client_secret_basic' : 'none',
  }],
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => API,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (resource !== API) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'api',
          audience: config.audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out of the test identity provider', `${form}
<p><button id="confirm-sign-out" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></p>`);
      },
    },
  },
  // Every user is the API's user: roles ride in the access token.
  extraTokenClaims: async (ctx, token) => {
    if (token.kind !== 'AccessToken') return undefined;
    return { [config.roles_claim]: users.get(token.accountId)?.roles ?? [] };
  },
  findAccount: async (ctx, sub) => {
    const user = users.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ sub, name: user.name }) };
  },
  // The client is the agency's own: consent is not asked, every scope and
  // the API resource are granted.
  loadExistingGrant: async (ctx) => {
    const { accountId } = ctx.oidc.session;
    const { clientId } = ctx.oidc.client;
    const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
    grant.addOIDCScope('openid profile');
    grant.addResourceScope(API, 'api');
    await grant.save();
    return grant;
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Sign-in failed', `<p id="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
  },
});

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// The login page and its form, in front of the provider's own routes.
const interaction = /^\/interaction\/([^/]+)(\/login)?$/;
const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = interaction.exec(new URL(req.url, issuer).pathname);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (req.method === 'GET' && !match[2]) {
      return res.end(loginForm(details.uid));
    }
    if (req.method === 'POST' && match[2]) {
      const form = await formBody(req);
      const login = form.get('login') ?? '';
      const user = config.users.find((u) => u.login === login);
      const given = Buffer.from(form.get('password') ?? '');
      const known = Buffer.from(user?.password ?? '');
      if (!user || given.length !== known.length || !crypto.timingSafeEqual(given, known)) {
        res.statusCode = 400;
        return res.end(loginForm(details.uid, 'The user name or password is wrong', login));
      }
      return await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
        mergeWithLastSubmission: false,
      });
    }
    res.statusCode = 405;
    return res.end(page('Not allowed', ''));
  } catch (error) {
    res.statusCode = 400;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    return res.end(page('Sign-in failed', `<p id="error">${escape(error.message)}</p>`));
  }
});

server.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
