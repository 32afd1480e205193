// node-oidc-provider 9 as the benchmark's peer: in-memory adapter, client_credentials,
// authorization codes with PKCE, refresh tokens with rotation and introspection enabled;
// confidential clients using client_secret_basic, opaque tokens. Nothing is logged per
// request.
//
// Single-use credentials (codes, refresh tokens) are minted beforehand through the
// provider's own models, as its authorization endpoint would store them: a Grant for
// each, then `new provider.AuthorizationCode({...}).save()` or `new
// provider.RefreshToken({...}).save()`. A second, private listener on MINT_PORT answers
// `POST /mint?kind=code|refresh&count=N` with one credential per line ("code verifier"
// for codes), so the benchmark never adds a route to the provider it measures. A mint
// empties the store first (below).
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";

import Provider from "oidc-provider";
import MemoryAdapter from "oidc-provider/lib/adapters/memory_adapter.js";
import LRU from "oidc-provider/lib/helpers/lru.js";

const port = Number(process.env.PORT ?? 3000);
const mintPort = Number(process.env.MINT_PORT ?? 0);
const issuer = `http://127.0.0.1:${port}`;
const REDIRECT_URI = "http://127.0.0.1/callback";
const ACCOUNT = "bench-user";

// The in-memory adapter's store is an LRU (two generations of up to maxSize entries each:
// an entry survives at least maxSize insertions after its last use). Its default, 1,000
// entries, would evict minted credentials long before they are used, so the benchmark
// sizes it (STORE_SIZE) above everything one mint and one run insert; the store's code
// is the adapter's own, only its size differs.
const store = new LRU({ maxSize: Number(process.env.STORE_SIZE ?? 1000) });

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: [
    {
      client_id: "bench",
      client_secret: "bench-secret",
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "read",
    },
    {
      client_id: "bench-web",
      client_secret: "bench-web-secret",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  scopes: ["openid", "offline_access", "read"],
  // As Tessera: a client allowed the refresh_token grant gets a refresh token with its
  // code, and every refresh rotates it (the used one is consumed; presenting it again
  // revokes the grant).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed("refresh_token"),
  rotateRefreshToken: true,
  // Codes are minted before the runs that use them (Tessera's bench codes live an hour).
  ttl: { AuthorizationCode: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
  },
});
provider.proxy = false;
// The default error listener logs; errors still count in the benchmark from their status.
provider.removeAllListeners("server_error");

async function grant(client) {
  const made = new provider.Grant({ accountId: ACCOUNT, clientId: client.clientId });
  made.addOIDCScope("read");
  return made.save();
}

async function mintCode(client, verifier, challenge) {
  const code = new provider.AuthorizationCode({
    accountId: ACCOUNT,
    client,
    grantId: await grant(client),
    redirectUri: REDIRECT_URI,
    scope: "read",
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    authTime: Math.floor(Date.now() / 1000),
  });
  return `${await code.save()} ${verifier}`;
}

async function mintRefresh(client) {
  const token = new provider.RefreshToken({
    accountId: ACCOUNT,
    client,
    grantId: await grant(client),
    gty: "authorization_code",
    scope: "read",
    rotations: 0,
    authTime: Math.floor(Date.now() / 1000),
  });
  return token.save();
}

async function mint(kind, count) {
  // Each mint starts from an empty store: what earlier runs left behind (used credentials,
  // the tokens they were exchanged for) is never used again, and dropping it keeps the
  // heap, and V8's garbage collection, at one run's worth of credentials.
  store.clear();
  const client = await provider.Client.find("bench-web");
  // One verifier for all, as Tessera's bench: PKCE is checked, not varied.
  const verifier = randomBytes(48).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const lines = [];
  for (let i = 0; i < count; i += 1) {
    lines.push(kind === "code" ? await mintCode(client, verifier, challenge) : await mintRefresh(client));
  }
  // A full collection now (node runs with --expose-gc), so that the run after the mint
  // does not pay for collecting what minting left behind: Tessera's credentials are
  // minted by another process.
  globalThis.gc?.();
  return lines.join("\n") + "\n";
}

const minter = createServer(async (req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  const kind = url.searchParams.get("kind");
  const count = Number(url.searchParams.get("count"));
  if (req.method !== "POST" || url.pathname !== "/mint" || !["code", "refresh"].includes(kind) || !(count > 0)) {
    res.writeHead(400, { "content-type": "text/plain" }).end("POST /mint?kind=code|refresh&count=N\n");
    return;
  }
  try {
    res.writeHead(200, { "content-type": "text/plain" }).end(await mint(kind, count));
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" }).end(`${error.stack}\n`);
  }
});

// The minter first: the benchmark waits for the provider, then may mint at once.
minter.listen(mintPort, "127.0.0.1", () => {
  provider.listen(port, "127.0.0.1", () => {
    process.stdout.write(`oidc-provider listening on ${issuer}, minting on ${minter.address().port}\n`);
  });
});
