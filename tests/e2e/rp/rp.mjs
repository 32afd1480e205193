// A real OpenID Connect relying party, built on openid-client v6, that drives a Tessera
// account from nothing but its issuer URL. Run by tests/e2e/test_openid_client.py:
//
//   node tests/e2e/rp/rp.mjs --issuer http://acme.localhost:PORT --client-id ID \
//        --redirect-uri http://127.0.0.1/cb --post-logout-redirect-uri http://127.0.0.1/bye \
//        --email alice@example.com [--alg ES256] [--auth basic|post] [--par] [--dpop]
//
// --par: the authorization request is pushed first (RFC 9126, buildAuthorizationUrlWithPAR)
// and the browser is sent with client_id and request_uri only.
//
// The client secret and the user's password come from RP_CLIENT_SECRET and RP_PASSWORD
// (or --client-secret / --password); every other option may also be given as RP_<NAME>.
//
// Steps: discovery; authorization URL with PKCE S256, state and nonce; the browser played
// over plain HTTP (login form, consent form, cookies kept per host); the code grant
// (state, iss, PKCE, nonce, and the ID token's signature checked against the JWKS);
// UserInfo; the refresh grant; RP-initiated logout. With --dpop (RFC 9449) every token
// request and resource call carries a DPoP proof of one ES256 key, and the RP also calls
// GET /api/v2/users/me with the DPoP-bound token, then the same token as a mere Bearer. It prints one JSON summary on stdout
// and exits 1 on the first failure, with the reason on stderr.

import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { parseArgs } from 'node:util';

import * as client from 'openid-client';
import { Agent, setGlobalDispatcher } from 'undici';

// Node's resolver does not resolve *.localhost (browsers and curl do; RFC 6761 section 6.3
// says it is loopback). Every fetch in this process, openid-client's included, goes through
// this dispatcher, which connects *.localhost to 127.0.0.1 and leaves URL and Host alone.
function loopbackLookup(hostname, options, callback) {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    if (options && options.all) {
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    } else {
      callback(null, '127.0.0.1', 4);
    }
    return;
  }
  dnsLookup(hostname, options, callback);
}
setGlobalDispatcher(new Agent({ connect: { lookup: loopbackLookup } }));

class Failure extends Error {}

function check(condition, message) {
  if (!condition) {
    throw new Failure(message);
  }
}

function options() {
  const { values } = parseArgs({
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string' },
      'post-logout-redirect-uri': { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      alg: { type: 'string' },
      auth: { type: 'string' },
      scope: { type: 'string' },
      par: { type: 'boolean' },
      dpop: { type: 'boolean' },
    },
    strict: true,
  });
  const get = (name, fallback) => {
    const value = values[name] ?? process.env[`RP_${name.toUpperCase().replaceAll('-', '_')}`] ?? fallback;
    if (value === undefined) {
      throw new Failure(`missing --${name} (or RP_${name.toUpperCase().replaceAll('-', '_')})`);
    }
    return value;
  };
  const redirectUri = get('redirect-uri');
  return {
    issuer: get('issuer'),
    clientId: get('client-id'),
    clientSecret: get('client-secret'),
    redirectUri,
    postLogoutRedirectUri: get('post-logout-redirect-uri', redirectUri),
    email: get('email'),
    password: get('password'),
    alg: get('alg', ''),
    auth: get('auth', 'basic'),
    scope: get('scope', 'openid profile email offline_access'),
    par: values.par === true,
    dpop: values.dpop ?? false,
  };
}

// ---------------------------------------------------------------- the browser, over HTTP

function htmlUnescape(text) {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function attributes(tag) {
  const found = {};
  for (const match of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    found[match[1].toLowerCase()] = htmlUnescape(match[2] ?? match[3]);
  }
  return found;
}

// Every <form> of a page: its method, action, hidden fields and other named inputs.
function forms(html) {
  const result = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form = attributes(match[1]);
    const fields = {};
    const inputs = [];
    for (const input of match[2].matchAll(/<input\b[^>]*>/gi)) {
      const attrs = attributes(input[0]);
      inputs.push(attrs);
      if ((attrs.type ?? 'text').toLowerCase() === 'hidden' && attrs.name) {
        fields[attrs.name] = attrs.value ?? '';
      }
    }
    const buttons = [...match[2].matchAll(/<button\b[^>]*>/gi)].map((b) => attributes(b[0]));
    result.push({ method: (form.method ?? 'get').toLowerCase(), action: form.action ?? '', fields, inputs, buttons });
  }
  return result;
}

class Browser {
  constructor() {
    this.jar = new Map(); // host -> Map(name -> value): cookies are kept per host, as a browser does
    this.visits = [];
  }

  cookieHeader(url) {
    const cookies = this.jar.get(url.host);
    return cookies && cookies.size ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  keep(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a))
        || attrs.some((a) => /^\s*expires\s*=\s*Thu, 01 Jan 1970/i.test(a));
      const cookies = this.jar.get(url.host) ?? new Map();
      if (expired) {
        cookies.delete(name);
      } else {
        cookies.set(name, value);
      }
      this.jar.set(url.host, cookies);
    }
  }

  async request(method, target, form) {
    const url = new URL(target);
    const headers = { accept: 'text/html' };
    const cookie = this.cookieHeader(url);
    if (cookie) {
      headers.cookie = cookie;
    }
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.keep(url, response);
    const text = await response.text();
    const location = response.headers.get('location');
    this.visits.push({ method, url: `${url.origin}${url.pathname}`, status: response.status });
    return { status: response.status, url, text, location: location ? new URL(location, url).href : null };
  }

  get(url) {
    return this.request('GET', url);
  }

  post(url, form) {
    return this.request('POST', url, form);
  }
}

// GET the authorization URL, sign in on the real login page, allow on the real consent
// page; returns the URL the server finally redirected to (the client's redirect URI).
async function signInAndAllow(browser, authorizationUrl, email, password) {
  const first = await browser.get(authorizationUrl);
  check(first.status === 302 && first.location, `authorization endpoint: expected 302 to the login page, got ${first.status}: ${first.text.slice(0, 300)}`);
  check(new URL(first.location).pathname === '/access/login', `authorization endpoint sent the browser to ${first.location}, not to /access/login`);

  const loginPage = await browser.get(first.location);
  check(loginPage.status === 200, `login page answered ${loginPage.status}`);
  const login = forms(loginPage.text).find((f) => f.inputs.some((i) => i.name === 'password'));
  check(login, 'the login page has no form with a password field');
  check(login.method === 'post', `the login form's method is ${login.method}`);
  check(login.fields.authenticity_token, 'the login form carries no authenticity_token');
  check(login.fields.return_to, 'the login form carries no return_to');
  const signedIn = await browser.post(new URL(login.action, loginPage.url).href, { ...login.fields, email, password });
  check([302, 303].includes(signedIn.status) && signedIn.location, `login POST answered ${signedIn.status}: ${signedIn.text.slice(0, 300)}`);

  const consentPage = await browser.get(signedIn.location);
  if (consentPage.status === 302) {
    return { location: consentPage.location, consentShown: false };
  }
  check(consentPage.status === 200, `after sign-in, ${signedIn.location} answered ${consentPage.status}`);
  const consent = forms(consentPage.text).find((f) => f.action === '/oauth/authorizations');
  check(consent, 'no consent form posting to /oauth/authorizations');
  check(consent.method === 'post', `the consent form's method is ${consent.method}`);
  check(consent.buttons.some((b) => b.name === 'decision' && b.value === 'allow'), 'the consent form has no Allow button');
  check(consent.fields.authenticity_token, 'the consent form carries no authenticity_token');
  const allowed = await browser.post(new URL(consent.action, consentPage.url).href, { ...consent.fields, decision: 'allow' });
  check([302, 303].includes(allowed.status) && allowed.location, `consent POST answered ${allowed.status}: ${allowed.text.slice(0, 300)}`);
  return { location: allowed.location, consentShown: true };
}

// ---------------------------------------------------------------- helpers

function fingerprint(value) {
  return value === undefined ? null : createHash('sha256').update(value).digest('hex').slice(0, 16);
}

function jwtHeader(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

// OIDC Core 3.1.3.6: base64url of the left half of the SHA-256 of the access token
// (ES256 and RS256 both hash with SHA-256).
function leftHalfHash(value) {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

// ---------------------------------------------------------------- the flow

async function main() {
  const o = options();
  const summary = { issuer: o.issuer, client_id: o.clientId };

  const metadata = o.alg ? { id_token_signed_response_alg: o.alg } : {};
  const auth = o.auth === 'post' ? client.ClientSecretPost(o.clientSecret) : client.ClientSecretBasic(o.clientSecret);
  // openid-client refuses http:// issuers unless told to allow them; Tessera on localhost is http.
  // enableNonRepudiationChecks: verify the ID token's signature against jwks_uri (by default
  // openid-client trusts the TLS channel to the token endpoint and skips it).
  const config = await client.discovery(new URL(o.issuer), o.clientId, metadata, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const server = config.serverMetadata();
  check(server.issuer === o.issuer, `discovery issuer ${server.issuer} is not ${o.issuer}`);
  check(server.authorization_response_iss_parameter_supported === true, 'discovery does not advertise the iss parameter');
  check(server.code_challenge_methods_supported?.includes('S256'), 'discovery does not list PKCE S256');
  summary.discovery = {
    issuer: server.issuer,
    authorization_endpoint: server.authorization_endpoint,
    token_endpoint: server.token_endpoint,
    userinfo_endpoint: server.userinfo_endpoint,
    jwks_uri: server.jwks_uri,
    end_session_endpoint: server.end_session_endpoint,
    id_token_signing_alg_values_supported: server.id_token_signing_alg_values_supported,
  };

  // RFC 9449: one key for the whole session; openid-client signs a proof per request.
  let dpop;
  if (o.dpop) {
    const keyPair = await client.randomDPoPKeyPair('ES256');
    dpop = client.getDPoPHandle(config, keyPair);
    summary.dpop_jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  }
  const dpopOptions = dpop ? { DPoP: dpop } : undefined;

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationParameters = {
    redirect_uri: o.redirectUri,
    scope: o.scope,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  if (o.par) {
    check(server.pushed_authorization_request_endpoint, 'discovery names no pushed_authorization_request_endpoint');
  }
  const authorize = async () => (o.par
    ? client.buildAuthorizationUrlWithPAR(config, authorizationParameters)
    : client.buildAuthorizationUrl(config, authorizationParameters));
  const authorizationUrl = await authorize();
  if (o.par) {
    summary.par = {
      endpoint: server.pushed_authorization_request_endpoint,
      authorization_parameters: [...authorizationUrl.searchParams.keys()].sort(),
      request_uri_prefix: (authorizationUrl.searchParams.get('request_uri') ?? '').split(':').slice(0, 5).join(':'),
    };
  }
  summary.nonce = nonce;
  summary.state = state;

  const browser = new Browser();
  const authorized = await signInAndAllow(browser, authorizationUrl.href, o.email, o.password);
  const callback = new URL(authorized.location);
  check(
    `${callback.origin}${callback.pathname}` === o.redirectUri,
    `the authorization response went to ${callback.origin}${callback.pathname}, not ${o.redirectUri}`,
  );
  summary.authorization = {
    consent_shown: authorized.consentShown,
    redirected_to: `${callback.origin}${callback.pathname}`,
    response_parameters: [...callback.searchParams.keys()].sort(),
    iss: callback.searchParams.get('iss'),
    state: callback.searchParams.get('state'),
    code_prefix: (callback.searchParams.get('code') ?? '').slice(0, 4),
  };

  // Validates the response (state, iss per RFC 9207, no error), sends the PKCE verifier,
  // then validates the ID token: signature against the JWKS, alg, iss, aud, exp, iat, nonce.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  }, undefined, dpopOptions);
  check(tokens.id_token, 'the token response has no id_token');
  check(tokens.access_token, 'the token response has no access_token');
  check(tokens.refresh_token, 'the token response has no refresh_token (offline_access was asked for)');
  const claims = tokens.claims();
  const header = jwtHeader(tokens.id_token);
  if (o.alg) {
    check(header.alg === o.alg, `the ID token is signed with ${header.alg}, not ${o.alg}`);
  }
  check(claims.at_hash === leftHalfHash(tokens.access_token), `at_hash ${claims.at_hash} does not match the access token`);
  summary.token_response = {
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expires_in,
    access_token: fingerprint(tokens.access_token),
    refresh_token: fingerprint(tokens.refresh_token),
  };
  // The compact ID token too, so that the test can check its signature independently.
  summary.id_token = { header, claims, at_hash_verified: true, compact: tokens.id_token };

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, dpopOptions);
  summary.userinfo = userinfo;

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, dpopOptions);
  check(refreshed.access_token, 'the refresh response has no access_token');
  check(refreshed.refresh_token, 'the refresh response has no refresh_token');
  check(refreshed.access_token !== tokens.access_token, 'the refresh returned the same access token');
  check(refreshed.refresh_token !== tokens.refresh_token, 'the refresh returned the same refresh token (no rotation)');
  summary.refreshed = {
    token_type: refreshed.token_type,
    scope: refreshed.scope,
    access_token: fingerprint(refreshed.access_token),
    refresh_token: fingerprint(refreshed.refresh_token),
    id_token: refreshed.id_token ? { header: jwtHeader(refreshed.id_token), claims: refreshed.claims() } : null,
  };
  const refreshedInfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub, dpopOptions);
  check(refreshedInfo.sub === claims.sub, 'UserInfo with the refreshed token names another subject');
  if (dpop) {
    summary.api = await callApi(config, o.issuer, refreshed.access_token, dpopOptions);
  }

  const logoutState = client.randomState();
  const logoutUrl = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: o.postLogoutRedirectUri,
    state: logoutState,
  });
  const issuerHost = new URL(o.issuer).host;
  const cookiesBefore = new Map(browser.jar.get(issuerHost) ?? []);
  check(cookiesBefore.size > 0, `the browser holds no cookie for ${issuerHost} after signing in`);
  const loggedOut = await browser.get(logoutUrl.href);
  check([302, 303].includes(loggedOut.status) && loggedOut.location, `end_session_endpoint answered ${loggedOut.status}: ${loggedOut.text.slice(0, 300)}`);
  const back = new URL(loggedOut.location);
  check(
    `${back.origin}${back.pathname}` === o.postLogoutRedirectUri,
    `logout redirected to ${loggedOut.location}, not to ${o.postLogoutRedirectUri}`,
  );
  check(back.searchParams.get('state') === logoutState, `logout redirect carries state ${back.searchParams.get('state')}, not ${logoutState}`);
  // The session really ended on the server, not just in this browser: replaying the
  // cookies held before the logout, the same authorization URL asks to sign in again.
  browser.jar.set(issuerHost, cookiesBefore);
  // A pushed request_uri is good once (RFC 9126 section 4): push a fresh one.
  const again = await browser.get((o.par ? await authorize() : authorizationUrl).href);
  const sessionEnded = again.status === 302 && again.location !== null && new URL(again.location).pathname === '/access/login';
  check(sessionEnded, `with the pre-logout cookies the authorization endpoint answered ${again.status} ${again.location ?? ''}, not the login page: the session outlived the logout`);
  summary.logout = {
    end_session_url: `${logoutUrl.origin}${logoutUrl.pathname}`,
    parameters: [...logoutUrl.searchParams.keys()].sort(),
    status: loggedOut.status,
    location: loggedOut.location,
    state: logoutState,
    session_ended: sessionEnded,
  };
  summary.browser = browser.visits;
  return summary;
}

// RFC 9449 section 7: the account API with the DPoP-bound token (Authorization: DPoP and
// a proof with ath), then the same token sent as a Bearer token, which must be refused.
async function callApi(config, issuer, accessToken, dpopOptions) {
  const me = new URL('/api/v2/users/me', issuer);
  const response = await client.fetchProtectedResource(config, accessToken, me, 'GET', undefined, undefined, dpopOptions);
  const body = await response.json();
  const asBearer = await fetch(me, { headers: { authorization: `Bearer ${accessToken}` } });
  return {
    status: response.status,
    email: body.user?.email,
    bearer_status: asBearer.status,
    bearer_challenge: asBearer.headers.get('www-authenticate'),
  };
}

// An error and its causes, one per line: openid-client wraps the reason (an
// OperationProcessingError naming the claim or header that failed) as the cause.
function describe(error) {
  if (error instanceof Failure) {
    return error.message;
  }
  const lines = [];
  for (let e = error, depth = 0; e && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof Error) {
      lines.push(`${e.name}: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    } else {
      lines.push(`cause: ${JSON.stringify(e)}`);
    }
  }
  return lines.join('\n  caused by ');
}

try {
  const summary = await main();
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} catch (error) {
  process.stderr.write(`rp.mjs failed: ${describe(error)}\n`);
  process.exitCode = 1;
}
