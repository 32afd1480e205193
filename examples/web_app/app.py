"""The sample web app's routes: sign in, the callback, refresh, call the API, revoke.

Each visitor gets a random cookie naming their visit, kept in this process's memory: the
pending login's state, PKCE verifier and nonce, then the tokens. A real app would keep the
same things in its session store; the browser never holds a token.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .oauth import ApiAnswer, Login, OAuthError, Settings, Tessera
from .story import ADVICE, UNKNOWN_ADVICE, Block, Field, Step, curl_api, masked, pretty

HERE = Path(__file__).resolve().parent
SPA = HERE.parent / "spa"
COOKIE = "sample_visit"
MAX_VISITS = 1000
HEADERS = {
    "Cache-Control": "no-store",
    # The callback's address carries the code: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


@dataclass
class Visit:
    login: Login | None = None
    tokens: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    who: str = ""  # who signed in, from the ID token


class Visits:
    """Visits by cookie, the oldest forgotten past MAX_VISITS."""

    def __init__(self) -> None:
        self._visits: OrderedDict[str, Visit] = OrderedDict()

    def find(self, request: Request) -> tuple[str, Visit]:
        key = request.cookies.get(COOKIE, "")
        if key not in self._visits:
            key = secrets.token_urlsafe(24)
            self._visits[key] = Visit()
            while len(self._visits) > MAX_VISITS:
                self._visits.popitem(last=False)
        return key, self._visits[key]

    def forget(self, request: Request) -> None:
        self._visits.pop(request.cookies.get(COOKIE, ""), None)


def create_app(settings: Settings, spa_client_id: str | None = None) -> Starlette:
    """The web app for one Tessera account and client; with `spa_client_id`, it also serves
    the single-page app (examples/spa) at /spa/ for that public client."""
    tessera = Tessera(settings)
    visits = Visits()
    pages = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())

    def page(request: Request, template: str, visit: Visit | None, key: str = "", status: int = 200) -> Response:
        html = pages.get_template(template).render(
            settings=settings, visit=visit, signed_in=bool(visit and visit.tokens), spa=spa_client_id is not None
        )
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if key:
            response.set_cookie(COOKIE, key, httponly=True, samesite="lax")
        return response

    def back_home(key: str) -> Response:
        response = RedirectResponse("/#latest", status_code=303, headers=HEADERS)
        response.set_cookie(COOKIE, key, httponly=True, samesite="lax")
        return response

    async def home(request: Request) -> Response:
        key, visit = visits.find(request)
        return page(request, "home.html", visit, key)

    async def login(request: Request) -> Response:
        key, visit = visits.find(request)
        visit.login = await tessera.start_login()
        visit.steps = [_sent_to_tessera(visit.login, (await tessera.metadata())["authorization_endpoint"])]
        visit.tokens, visit.who = {}, ""
        response = RedirectResponse(visit.login.url, status_code=303, headers=HEADERS)
        response.set_cookie(COOKIE, key, httponly=True, samesite="lax")
        return response

    async def callback(request: Request) -> Response:
        params = request.query_params
        if not any(name in params for name in ("code", "error", "state")):
            # Opened by hand, bookmarked or reloaded after "Start over": nothing came back.
            return page(request, "callback_empty.html", None)
        key, visit = visits.find(request)
        login, visit.login = visit.login, None  # a state is good for one answer only
        checks = _checks(params, login, settings.issuer)
        if "error" in params:
            visit.steps.append(_refused(params, checks))
        elif not all(check.ok for check in checks):
            visit.steps.append(_not_ours(params, checks))
        else:
            assert login is not None
            await _finish_login(visit, params["code"], login, checks)
        return back_home(key)

    async def _finish_login(visit: Visit, code: str, login: Login, checks: list[Field]) -> None:
        minutes = "a few minutes"
        visit.steps.append(
            Step(
                "2. Tessera sent you back with a code",
                "After you allowed the app, Tessera redirected your browser to this app's redirect URI with "
                f"a one-time authorization code. The code is short-lived ({minutes}), works once, and is useless "
                "without this app's client secret and the PKCE code verifier it kept. The app first checks that "
                "state is the one it sent (so the answer is for a request it made) and that iss names the "
                "account it asked (RFC 9207, so a different server cannot slip its answer in).",
                fields=[Field("code", code, copy=code), *checks],
            )
        )
        try:
            visit.tokens = await tessera.exchange(code, login)
        except OAuthError as problem:
            visit.steps.append(_token_error("3. The code could not be exchanged", problem))
            return
        claims: dict[str, Any] | None = None
        problem_text = ""
        if "id_token" in visit.tokens:
            try:
                claims = await tessera.id_token_claims(visit.tokens["id_token"], login.nonce)
            except OAuthError as problem:
                problem_text = problem.description or str(problem)
        if claims is not None:
            visit.who = f"{claims.get('name', '')} ({claims.get('email', claims.get('sub'))})".strip()
        visit.steps.append(_tokens_step(visit.tokens, claims, problem_text))
        await _call_api(visit, "4. Called the API with the access token")

    async def _call_api(visit: Visit, title: str) -> None:
        access_token = visit.tokens.get("access_token", "")
        answer = await tessera.call_api(access_token)
        visit.steps.append(_api_step(title, answer, access_token))

    async def refresh(request: Request) -> Response:
        key, visit = visits.find(request)
        before = dict(visit.tokens)
        if not before.get("refresh_token"):
            visit.steps.append(
                Step("No refresh token", "Sign in first: the refresh token comes with the others.", "error")
            )
            return back_home(key)
        try:
            visit.tokens = {**before, **await tessera.refresh(before["refresh_token"])}
        except OAuthError as problem:
            visit.steps.append(_token_error("The refresh was refused", problem))
            return back_home(key)
        visit.steps.append(_rotated(before, visit.tokens))
        return back_home(key)

    async def call_again(request: Request) -> Response:
        key, visit = visits.find(request)
        if not visit.tokens:
            visit.steps.append(Step("No access token", "Sign in first to get one.", "error"))
        else:
            await _call_api(visit, "Called the API again")
        return back_home(key)

    async def revoke(request: Request) -> Response:
        key, visit = visits.find(request)
        refresh_token = visit.tokens.get("refresh_token", "")
        if not refresh_token:
            visit.steps.append(Step("Nothing to revoke", "Sign in first.", "error"))
            return back_home(key)
        status = await tessera.revoke(refresh_token)
        visit.steps.append(
            Step(
                "Revoked the refresh token",
                "The app sent its refresh token to Tessera's revocation endpoint (RFC 7009), as an app does when "
                "the user signs out or disconnects it. Tessera ends the token's whole family: this refresh token "
                "and every access token issued with it. Call the API again to see it refused.",
                fields=[Field("revocation endpoint answered", f"HTTP {status}", ok=status == 200)],
            )
        )
        return back_home(key)

    async def start_over(request: Request) -> Response:
        visits.forget(request)
        response = RedirectResponse("/", status_code=303, headers=HEADERS)
        response.delete_cookie(COOKIE)
        return response

    async def spa_config(request: Request) -> Response:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse(
            {
                "issuer": settings.issuer,
                "client_id": spa_client_id,
                "redirect_uri": origin + "/spa/",
                "scope": "openid profile read",
                "api": settings.issuer + settings.api_path,
            },
            headers={"Cache-Control": "no-store"},
        )

    routes: list[Any] = [
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/callback", callback),
        Route("/refresh", refresh, methods=["POST"]),
        Route("/call-api", call_again, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
        Route("/start-over", start_over, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    if spa_client_id is not None:
        routes += [
            Route("/spa/config.json", spa_config),
            Mount("/spa", StaticFiles(directory=SPA, html=True), name="spa"),
        ]

    async def trouble(request: Request, problem: Exception) -> Response:
        # Tessera down, or an answer the app cannot use: a page that says so, not a traceback.
        html = pages.get_template("trouble.html").render(
            settings=settings, visit=None, spa=spa_client_id is not None, problem=f"{type(problem).__name__}: {problem}"
        )
        return HTMLResponse(html, status_code=502, headers=HEADERS)

    return Starlette(routes=routes, exception_handlers={Exception: trouble})


def _sent_to_tessera(login: Login, endpoint: str) -> Step:
    fields = [Field("authorization endpoint", endpoint)]
    fields += [Field(name, value) for name, value in login.parameters.items()]
    return Step(
        "1. Sent you to Tessera to sign in",
        "When you clicked Sign in, the app made three random values and kept them in its session: state "
        "(to recognise the answer as its own), a PKCE code verifier (of which only the SHA-256, the "
        "code_challenge, went to Tessera) and a nonce (which comes back inside the ID token). Then it "
        "redirected your browser to the account's authorization endpoint with these parameters. Tessera "
        "asked you to sign in and whether to allow the app.",
        fields=fields,
        blocks=[Block("The authorization URL", login.url, login.url)],
        fields_folded=f"The {len(fields)} parameters, one by one",
    )


def _checks(params: Any, login: Login | None, issuer: str) -> list[Field]:
    state = params.get("state", "")
    iss = params.get("iss", "")
    if login is None:
        state_check = Field("state", state or "(none)", note="this session started no sign-in: refused", ok=False)
    elif state != login.state:
        state_check = Field("state", state or "(none)", note=f"expected {login.state}: refused", ok=False)
    else:
        state_check = Field("state", state, note="matches the one this app sent", ok=True)
    if iss == issuer:
        iss_check = Field("iss", iss, note="is the account this app asked", ok=True)
    else:
        iss_check = Field("iss", iss or "(none)", note=f"expected {issuer}: refused", ok=False)
    return [state_check, iss_check]


def _refused(params: Any, checks: list[Field]) -> Step:
    error = params.get("error", "")
    description = params.get("error_description", "")
    return Step(
        "2. Tessera sent you back with an error",
        "Instead of a code, Tessera redirected your browser here with an error (RFC 6749 section 4.1.2.1). "
        "No code was received and no token was issued.",
        "error",
        fields=[Field("error", error), Field("error_description", description or "(none)"), *checks],
        advice=ADVICE.get(error, UNKNOWN_ADVICE),
    )


def _not_ours(params: Any, checks: list[Field]) -> Step:
    return Step(
        "2. An answer this app did not ask for",
        "The browser arrived with a code, but its state or iss is not what this app expects, so the app "
        "refuses it without exchanging it. That is what stops an attacker from slipping their own code "
        "into your session (CSRF) or a different server from answering (mix-up). It also happens "
        "innocently: the app was restarted, or the sign-in was started in another browser or tab.",
        "error",
        fields=[Field("code", params.get("code", "") or "(none)", note="not exchanged"), *checks],
        advice="Start over and sign in from this page.",
    )


def _token_error(title: str, problem: OAuthError) -> Step:
    return Step(
        title,
        "Tessera's token endpoint refused the request; its answer says why.",
        "error",
        fields=[Field("error", str(problem.error)), Field("error_description", str(problem.description or ""))],
        advice="Start over and sign in again. A code works once and for a few minutes only.",
    )


def _tokens_step(tokens: dict[str, Any], claims: dict[str, Any] | None, problem: str) -> Step:
    access = tokens.get("access_token", "")
    refresh = tokens.get("refresh_token", "")
    fields = [
        Field("access_token", masked(access), copy=access),
        Field("token_type", str(tokens.get("token_type", ""))),
        Field("expires_in", f"{tokens.get('expires_in', '?')} seconds"),
        Field("scope", str(tokens.get("scope", ""))),
        Field("refresh_token", masked(refresh) if refresh else "(none)", copy=refresh),
    ]
    blocks = []
    if claims is not None:
        fields.append(Field("ID token", "signature and claims checked", ok=True))
        blocks.append(Block("ID token claims (who signed in)", pretty(claims), pretty(claims)))
    elif problem:
        fields.append(Field("ID token", problem, ok=False))
    return Step(
        "3. Exchanged the code for tokens",
        "The app posted the code and its PKCE code verifier to the token endpoint, authenticating with its "
        "client secret (HTTP Basic). This happened server to server: your browser never saw the tokens. "
        "The access token opens the API until it expires; the refresh token gets new tokens without "
        "asking you again; the ID token (because the app asked for the openid scope) says who signed in, "
        "signed by the account's key, which the app checked.",
        fields=fields,
        blocks=blocks,
    )


def _api_step(title: str, answer: ApiAnswer, access_token: str) -> Step:
    ok = answer.status == 200
    fields = [Field("GET", answer.url), Field("status", f"HTTP {answer.status}", ok=ok)]
    if answer.www_authenticate:
        fields.append(Field("WWW-Authenticate", answer.www_authenticate))
    if ok:
        explanation = (
            "The app called the account's API with the access token in the Authorization header. "
            "The API answered with the user who signed in."
        )
        advice = ""
    else:
        explanation = "The API refused the access token; the WWW-Authenticate header says why."
        if "revoked" in answer.www_authenticate:
            advice = "The token was revoked, and no refresh brings it back: start over and sign in again."
        else:
            advice = "Refresh the tokens if the access token expired; otherwise start over and sign in again."
    return Step(
        title,
        explanation,
        "ok" if ok else "error",
        fields=fields,
        blocks=[
            Block("The API's answer", pretty(answer.body), pretty(answer.body)),
            curl_api(answer.url, access_token, masked(access_token)),
        ],
        advice=advice,
    )


def _rotated(before: dict[str, Any], after: dict[str, Any]) -> Step:
    def row(name: str) -> list[Field]:
        old, new = before.get(name, ""), after.get(name, "")
        differs = "differs from the old one" if old != new else "the same as before"
        return [
            Field(f"old {name}", masked(old)),
            Field(f"new {name}", masked(new), copy=new, note=differs, ok=old != new),
        ]

    return Step(
        "Refreshed the tokens",
        "The app posted its refresh token to the token endpoint (grant_type=refresh_token). Tessera rotates "
        "refresh tokens: the answer carries a new access token and a new refresh token, and the old refresh "
        "token is spent. Should anyone present the old one again after a short grace period, Tessera takes "
        "it for a stolen copy and revokes the whole family.",
        fields=[*row("access_token"), *row("refresh_token")],
    )
