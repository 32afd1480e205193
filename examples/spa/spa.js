// The sample single-page app: authorization code flow with PKCE from plain JavaScript.
// No build step, no library: fetch, URLSearchParams and the Web Crypto API.
//
// What it keeps where: the state and the PKCE verifier in sessionStorage, only for the
// round trip to Tessera and back (this tab, removed on return); the access token in a
// variable of this page only.

const $ = (id) => document.getElementById(id);
let config;      // from config.json: issuer, client_id, redirect_uri, scope, api
let metadata;    // the account's discovery document
let accessToken = null;

const ADVICE = {
  access_denied: "You (or the user) clicked Deny, so nothing was granted. Sign in again and click Allow to continue.",
  invalid_scope: "The app asked for a scope this client may not have: fix the scope it requests.",
  invalid_request: "The authorization request was malformed: the description says which parameter to fix.",
};

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function s256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest));
}

function masked(token) {
  return token.length <= 24 ? token.slice(0, 4) + "…" : token.slice(0, 14) + "…";
}

// --- Rendering: the same markup as the web app's steps (/static/style.css) --------------

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) if (child !== null) node.append(child);
  return node;
}

function copyButton(text, label) {
  return element("button", { type: "button", class: "copy", "data-copy": text, "aria-label": label }, "Copy");
}

function showStep({ title, explanation, status = "ok", fields = [], blocks = [], advice = "" }) {
  document.querySelectorAll("#latest").forEach((old) => old.removeAttribute("id"));
  const mark = status === "error" ? "✕" : "✓";
  const section = element("section", { class: `step ${status}`, id: "latest" },
    element("h2", {}, element("span", { class: "mark", "aria-hidden": "true" }, mark), title),
    element("p", {}, explanation));
  if (advice) section.append(element("p", { class: "advice" }, element("strong", {}, "What to do:"), " " + advice));
  if (fields.length) {
    const list = element("dl", { class: "fields" });
    for (const f of fields) {
      const value = element("dd", {}, element("code", { class: "value" }, f.value));
      if (f.copy) value.append(copyButton(f.copy, "Copy " + f.label));
      if (f.note || f.ok !== undefined) {
        const kind = f.ok === true ? "pass" : f.ok === false ? "fail" : "";
        const sign = f.ok === true ? "✓ " : f.ok === false ? "✕ " : "";
        value.append(element("span", { class: `check ${kind}` }, sign + (f.note || "")));
      }
      list.append(element("div", { class: "field" }, element("dt", {}, f.label), value));
    }
    section.append(list);
  }
  for (const b of blocks) {
    section.append(element("div", { class: "block" },
      element("div", { class: "block-head" }, element("span", {}, b.label), copyButton(b.copy ?? b.text, "Copy " + b.label)),
      element("pre", {}, b.text)));
  }
  $("story-title").hidden = false;
  $("steps").append(section);
  section.scrollIntoView({ block: "start" });
}

function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// --- The flow ----------------------------------------------------------------------------

async function signIn() {
  const state = randomString(16);
  const verifier = randomString(32);   // 43 characters, RFC 7636 section 4.1
  sessionStorage.setItem("pending-sign-in", JSON.stringify({ state, verifier }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: config.scope,
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${metadata.authorization_endpoint}?${query}`);
}

async function comeBack(params) {
  // The code leaves the address bar and the history at once: it must not be bookmarked,
  // shared or sent on as a Referer.
  history.replaceState(null, "", location.pathname);
  const pending = JSON.parse(sessionStorage.getItem("pending-sign-in") || "null");
  sessionStorage.removeItem("pending-sign-in");   // a state is good for one answer only
  const state = params.get("state") || "";
  const iss = params.get("iss") || "";
  const checks = [
    pending && state === pending.state
      ? { label: "state", value: state, note: "matches the one this page sent", ok: true }
      : { label: "state", value: state || "(none)", note: "this tab started no such sign-in: refused", ok: false },
    iss === config.issuer
      ? { label: "iss", value: iss, note: "is the account this page asked", ok: true }
      : { label: "iss", value: iss || "(none)", note: `expected ${config.issuer}: refused`, ok: false },
  ];
  if (params.has("error")) {
    const error = params.get("error");
    showStep({
      title: "Tessera sent you back with an error",
      explanation: "Instead of a code, Tessera redirected your browser here with an error. No code was received and no token was issued.",
      status: "error",
      fields: [{ label: "error", value: error }, { label: "error_description", value: params.get("error_description") || "(none)" }, ...checks],
      advice: ADVICE[error] || "Read the description, fix what it names, and sign in again.",
    });
    return;
  }
  if (!checks.every((check) => check.ok)) {
    showStep({
      title: "An answer this page did not ask for",
      explanation: "A code arrived, but its state or iss is not what this page expects, so it is not exchanged. That stops a code from another session (CSRF) or another server (mix-up) from being used. It also happens when the sign-in was started in another tab.",
      status: "error",
      fields: [{ label: "code", value: params.get("code") || "(none)", note: "not exchanged" }, ...checks],
      advice: "Sign in again from this page.",
    });
    return;
  }
  const code = params.get("code");
  showStep({
    title: "1. Tessera sent you back with a code",
    explanation: "Before leaving, this page made a random state and a PKCE code verifier with the Web Crypto API, kept them in sessionStorage for the round trip, and sent Tessera the state and the verifier's SHA-256 (code_challenge). You signed in and allowed the app; Tessera redirected back here with a one-time code. The page checked state and iss (RFC 9207) before using it.",
    fields: [{ label: "code", value: code, copy: code }, ...checks],
  });
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: config.redirect_uri,
    client_id: config.client_id,
    code_verifier: pending.verifier,
  });
  const answer = await fetch(metadata.token_endpoint, { method: "POST", body });
  const tokens = await answer.json();
  if (!answer.ok) {
    showStep({
      title: "2. The code could not be exchanged",
      explanation: "Tessera's token endpoint refused the request; its answer says why.",
      status: "error",
      fields: [{ label: "error", value: tokens.error }, { label: "error_description", value: tokens.error_description || "" }],
      advice: "Sign in again: a code works once and for a few minutes only.",
    });
    return;
  }
  accessToken = tokens.access_token;
  const fields = [
    { label: "access_token", value: masked(accessToken), copy: accessToken },
    { label: "token_type", value: tokens.token_type },
    { label: "expires_in", value: `${tokens.expires_in} seconds` },
    { label: "scope", value: tokens.scope },
  ];
  const blocks = [];
  if (tokens.id_token) {
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(
      atob(tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
    blocks.push({ label: "ID token claims (decoded for display, not verified)", text: pretty(claims) });
  }
  showStep({
    title: "2. Exchanged the code for a token, from the browser",
    explanation: "The page posted the code and its code verifier to the token endpoint with fetch. It has no client secret: the verifier proves it is the same app that started the sign-in. Tessera's token endpoint allows this cross-origin call (CORS) because it needs no cookie. No refresh token was asked for: when the access token expires, the page signs in again.",
    fields,
    blocks,
  });
  await callApi("3. Called the API with the access token");
}

async function callApi(title) {
  const answer = await fetch(config.api, { headers: { Authorization: `Bearer ${accessToken}` } });
  const text = await answer.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  const fields = [{ label: "GET", value: config.api }, { label: "status", value: `HTTP ${answer.status}`, ok: answer.ok }];
  const challenge = answer.headers.get("WWW-Authenticate");
  if (challenge) fields.push({ label: "WWW-Authenticate", value: challenge });
  showStep({
    title,
    explanation: answer.ok
      ? "The page called the account's API with the access token in the Authorization header (a cross-origin request the API allows for bearer tokens). It answered with the user who signed in."
      : "The API refused the token; the WWW-Authenticate header says why.",
    status: answer.ok ? "ok" : "error",
    fields,
    blocks: [{ label: "The API's answer", text: pretty(body) }],
    advice: answer.ok ? "" : "Sign in again for a new token.",
  });
  $("actions").hidden = false;
}

function forget() {
  accessToken = null;
  $("steps").replaceChildren();
  $("story-title").hidden = true;
  $("actions").hidden = true;
  $("intro").hidden = false;
}

async function start() {
  config = await (await fetch("config.json")).json();
  $("client-id").textContent = config.client_id;
  metadata = await (await fetch(`${config.issuer}/.well-known/openid-configuration`)).json();
  $("sign-in").addEventListener("click", signIn);
  $("call-api").addEventListener("click", () => callApi("Called the API again"));
  $("forget").addEventListener("click", forget);
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    $("intro").hidden = true;
    await comeBack(params);
    if (!accessToken) $("intro").hidden = false;
  }
}

start().catch((problem) => showStep({
  title: "Something went wrong",
  explanation: String(problem),
  status: "error",
  advice: "Is the Tessera demo still running? Reload the page to try again.",
}));
