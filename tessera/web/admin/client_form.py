"""The client form of the console: its fields as the page shows them, and the posted form
read into a ClientSpec (create) or ClientChanges (edit) for tessera.management.clients.

Field names are the API's (INTERFACE.md section 6), so that the management layer's
Invalid.fields name the very field the message belongs beside; `redirect_uri` is a
textarea with one URI per line, passed on line by line so that each error names its line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tessera.management.clients import ClientChanges, ClientSpec
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, DEFAULT_GRANT_TYPES, GRANT_TYPES, Account, Client, User
from tessera.protocol import lifetimes
from tessera.reasons import N_
from tessera.web.admin.forms import Form

GRANT_LABELS = {
    "authorization_code": N_("Authorization code"),
    "refresh_token": N_("Refresh token"),
    "implicit": N_("Implicit (legacy)"),
    "client_credentials": N_("Client credentials"),
    "password": N_("Password (legacy)"),
    "device_code": N_("Device code (TVs, command-line tools)"),
}

TEXT_FIELDS = ("name", "identifier", "company", "description", "logo_url", "allowed_scopes")
FIELDS = (
    *TEXT_FIELDS,
    "kind",
    "redirect_uri",
    "grant_types",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "access_token_format",
    "require_pushed_authorization_requests",
    "jwks",
    "require_dpop",
)


@dataclass
class ClientForm:
    """What the form shows: the values typed (or stored) and the messages beside each field."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def general_errors(self) -> list[str]:
        """Messages for no field of the form, shown above it."""
        return [m for name, messages in self.errors.items() if name not in FIELDS for m in messages]


def options() -> dict[str, Any]:
    return {
        "kinds": CLIENT_KINDS,
        "grant_labels": GRANT_LABELS,
        "formats": ACCESS_TOKEN_FORMATS,
        "access_default": lifetimes.ACCESS_DEFAULT,
        "refresh_default": lifetimes.REFRESH_DEFAULT,
    }


def blank() -> ClientForm:
    return ClientForm(
        {
            **{name: "" for name in TEXT_FIELDS},
            "kind": "confidential",
            "redirect_uri": "",
            "grant_types": set(DEFAULT_GRANT_TYPES),
            "access_token_lifetime": "",
            "refresh_token_lifetime": "",
            "access_token_format": "opaque",
            "require_pushed_authorization_requests": False,
            "jwks": "",
            "require_dpop": False,
        }
    )


def of_client(client: Client) -> ClientForm:
    return ClientForm(
        {
            "name": client.name,
            "identifier": client.identifier,
            "company": client.company,
            "description": client.description,
            "logo_url": client.logo_url,
            "allowed_scopes": " ".join(client.allowed_scopes),
            "kind": client.kind,
            "redirect_uri": "\n".join(client.redirect_uris),
            "grant_types": set(client.grant_types),
            "access_token_lifetime": "never"
            if client.access_token_lifetime is None
            else str(client.access_token_lifetime),
            "refresh_token_lifetime": str(client.refresh_token_lifetime),
            "access_token_format": client.access_token_format,
            "require_pushed_authorization_requests": client.require_par,
            "jwks": "" if client.jwks is None else json.dumps(json.loads(client.jwks), indent=2),
            "require_dpop": client.require_dpop,
        }
    )


def posted(form: Form) -> ClientForm:
    return ClientForm(
        {
            **{name: form.get(name).strip() for name in TEXT_FIELDS},
            "kind": form.get("kind"),
            "redirect_uri": form.get("redirect_uri"),
            "grant_types": set(form.all("grant_types")),
            "access_token_lifetime": form.get("access_token_lifetime").strip(),
            "refresh_token_lifetime": form.get("refresh_token_lifetime").strip(),
            "access_token_format": form.get("access_token_format"),
            # A checkbox: present when ticked.
            "require_pushed_authorization_requests": bool(form.get("require_pushed_authorization_requests")),
            "jwks": form.get("jwks").strip(),
            "require_dpop": form.get("require_dpop") == "1",
        }
    )


def redirect_lines(text: str) -> tuple[str, ...]:
    """One URI per line, blank lines kept, so that line N of the textarea is entry N."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return tuple(lines)


def _grant_types(shown: ClientForm) -> tuple[str, ...]:
    # In the order of the checkboxes, whatever the order they were posted in.
    return tuple(g for g in GRANT_TYPES if g in shown.values["grant_types"])


def spec(shown: ClientForm, account: Account, owner: User) -> ClientSpec:
    """The new client, owned by the admin who registers it (as over the API)."""
    v = shown.values
    return ClientSpec(
        name=v["name"],
        identifier=v["identifier"],
        account=account,
        redirect_uris=redirect_lines(v["redirect_uri"]),
        kind=v["kind"],
        grant_types=_grant_types(shown),
        allowed_scopes=tuple(v["allowed_scopes"].split()),
        access_token_lifetime=v["access_token_lifetime"] or None,
        refresh_token_lifetime=v["refresh_token_lifetime"] or None,
        access_token_format=v["access_token_format"],
        owner_id=owner.id,
        description=v["description"],
        company=v["company"],
        logo_url=v["logo_url"],
        require_par=v["require_pushed_authorization_requests"],
        jwks=v["jwks"] or None,
        require_dpop=bool(v["require_dpop"]),
    )


def _access_default(access_token_format: str) -> int:
    # As for a new client (client_rules): a JWT access token cannot be revoked once out, so
    # it lives shorter by default.
    return lifetimes.JWT_ACCESS_DEFAULT if access_token_format == "jwt" else lifetimes.ACCESS_DEFAULT


def changes(shown: ClientForm) -> ClientChanges:
    """Every field of the edit form. An empty lifetime is the default, as its hint says (the
    field shows the stored value, so emptying it is a choice)."""
    v = shown.values
    return ClientChanges(
        name=v["name"],
        identifier=v["identifier"],
        kind=v["kind"],
        redirect_uris=redirect_lines(v["redirect_uri"]),
        company=v["company"],
        description=v["description"],
        logo_url=v["logo_url"],
        grant_types=_grant_types(shown),
        allowed_scopes=tuple(v["allowed_scopes"].split()),
        access_token_lifetime=v["access_token_lifetime"] or _access_default(v["access_token_format"]),
        refresh_token_lifetime=v["refresh_token_lifetime"] or lifetimes.REFRESH_DEFAULT,
        access_token_format=v["access_token_format"],
        require_par=v["require_pushed_authorization_requests"],
        jwks=v["jwks"],
        require_dpop=bool(v["require_dpop"]),
    )
