// A local OpenID provider for the single sign-on tests (oidc-provider, a certified
// implementation). Configured from the environment:
//   PORT      where to listen on 127.0.0.1
//   CLIENTS   JSON list of {client_id, client_secret, redirect_uris}
//   ACCOUNTS  JSON object: account id -> {email, email_verified, name}
// Sign-in and consent are the provider's own development pages, driven by the tests over HTTP.
// POST /__test/skew?seconds=N makes the token endpoint issue tokens as if its clock were N
// seconds off (N = -7200: ID tokens that expired an hour ago).
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS);
const accounts = JSON.parse(process.env.ACCOUNTS);

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['cowrite-test-provider-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});

let skewSeconds = 0;
const realNow = Date.now;
provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/skew' && ctx.method === 'POST') {
    skewSeconds = Number(ctx.query.seconds || 0);
    ctx.body = { skew: skewSeconds };
    return;
  }
  if (skewSeconds && ctx.path === '/token') {
    Date.now = () => realNow() + skewSeconds * 1000;
    try {
      await next();
    } finally {
      Date.now = realNow;
    }
    return;
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
