// node-oidc-provider 9 as the benchmark's peer: in-memory adapter (its default),
// client_credentials and introspection enabled, one confidential client using
// client_secret_basic, opaque access tokens. Nothing is logged per request.
import Provider from "oidc-provider";

const port = Number(process.env.PORT ?? 3000);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
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
  ],
  scopes: ["openid", "read"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
  },
});
provider.proxy = false;
// The default error listener logs; errors still count in the benchmark from their status.
provider.removeAllListeners("server_error");

provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
