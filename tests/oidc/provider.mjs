// A real OpenID Connect provider for the staff sign-in tests: the certified `oidc-provider` package.
//
// Usage: node provider.mjs   with the environment
//   OIDC_PORT         the loopback port to listen on (issuer http://127.0.0.1:<port>)
//   OIDC_CLIENTS      JSON list of {client_id, client_secret, redirect_uris}
//   OIDC_USERS        JSON object: account id -> claims (name, preferred_username, groups, ...)
//
// Its login form is the package's development form (any listed account id, any password); consent is given
// automatically. For the refusal tests it has one control route: POST /_test/next-id-token with a JSON object of
// claims makes the next ID token from the token endpoint carry them instead (re-signed with the provider's own key,
// so that only the changed claim is wrong; with "_foreign_key": true by another key under the same kid). It prints "listening <issuer>" when it is ready.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'], response_types: ['code'], ...c }));
const users = JSON.parse(process.env.OIDC_USERS || '{}');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(jwk, 'RS256');

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  scopes: ['openid', 'profile', 'email'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'groups'], email: ['email'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    if (!Object.prototype.hasOwnProperty.call(users, id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...users[id] }; } };
  },
  async loadExistingGrant(ctx) {  // consent is implied: every scope the client asks for
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
});

let nextClaims = null;
provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/next-id-token' && ctx.method === 'POST') {
    let raw = '';
    for await (const chunk of ctx.req) raw += chunk;
    nextClaims = JSON.parse(raw);
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && nextClaims && ctx.status === 200 && ctx.body && ctx.body.id_token) {
    const { _foreign_key: foreign, ...changes } = nextClaims;  // _foreign_key: signed by a key not in the JWKS
    const claims = { ...decodeJwt(ctx.body.id_token), ...changes };
    const { kid } = decodeProtectedHeader(ctx.body.id_token);
    const key = foreign ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : signingKey;
    ctx.body = { ...ctx.body,
                 id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key) };
    nextClaims = null;
  }
});

provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
