"""docs/api.md, written from the OpenAPI document the app serves at /api/v2/openapi.json.

The document is built exactly as a request for it builds it (openapi.document over the
app's own route table), for a sample account, so the reference lists what the running app
serves and nothing else. `scripts/docs-reference` writes the file; a test fails when the
file and the code disagree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson

from tessera.settings import load_settings
from tessera.web.api.openapi import SUFFIX, api_endpoints, document

SAMPLE_ISSUER = "https://acme.example.com"
Schema = dict[str, Any]


def served_document() -> Schema:
    """The OpenAPI document of the app, for the sample account https://acme.example.com."""
    from tessera.app import create_app  # the whole app, only when a reference is written

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            env={"TESSERA_BASE_DOMAIN": "example.com", "TESSERA_SECRET_KEY": "reference-" * 4},
            database_url=f"sqlite:///{Path(folder) / 'unused.db'}",
        )
        app = create_app(settings)
        body: Schema = orjson.loads(document(tuple(api_endpoints(app.router.routes)), SAMPLE_ISSUER))
    return body


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: Schema) -> str:
    """A short type: `integer`, `string (date-time)`, `array of Client`, `"a" | "b"`."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{name.lower()})"
    if "const" in schema:
        return f"`{orjson.dumps(schema['const']).decode().strip(chr(34))}`"
    if "anyOf" in schema or "oneOf" in schema:
        options: list[Schema] = schema.get("anyOf") or schema.get("oneOf") or []
        return " or ".join(_type(option) for option in options)
    if "allOf" in schema:
        return " and ".join(_type(part) for part in schema["allOf"])
    if "enum" in schema:
        return " | ".join(f"`{orjson.dumps(value).decode().strip(chr(34))}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    text = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if "format" in schema:
        text += f" ({schema['format']})"
    if "minimum" in schema or "maximum" in schema:
        text += f", {schema.get('minimum', '')}..{schema.get('maximum', '')}"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _properties(schema: Schema) -> list[str]:
    if "allOf" in schema:
        lines = [f"All of: {', '.join(_type(part) for part in schema['allOf'] if '$ref' in part)}.", ""]
        for part in schema["allOf"]:
            if "properties" in part:
                lines += _properties(part)
        return lines
    properties: dict[str, Schema] = schema.get("properties", {})
    if not properties:
        return ["(an object)", ""]
    lines = ["| field | type | required | notes |", "|---|---|---|---|"]
    return [*lines, *_rows(schema, ""), ""]


def _rows(schema: Schema, prefix: str) -> list[str]:
    """Table rows of an object's fields; an inline object's fields follow as `outer.inner`."""
    required = set(schema.get("required", ()))
    rows = []
    for name, field in schema.get("properties", {}).items():
        notes = _cell(field.get("description", ""))
        rows.append(f"| `{prefix}{name}` | {_cell(_type(field))} | {'yes' if name in required else ''} | {notes} |")
        if "properties" in field:
            rows += _rows(field, f"{prefix}{name}.")
    return rows


def _security(operation: Schema) -> str:
    scopes = [scope for rule in operation.get("security", []) for scope in rule.get("oauth2", [])]
    session = any("session" in rule for rule in operation.get("security", []))
    csrf = any("csrf" in rule for rule in operation.get("security", []))
    if not operation.get("security"):
        return "No authentication."
    parts = []
    if scopes:
        parts.append("a bearer token with " + " or ".join(f"`{scope}`" for scope in scopes))
    if session:
        parts.append("a signed-in browser session" + (" with the `X-CSRF-Token` header" if csrf else ""))
    return "Needs " + ", or ".join(parts) + "."


def _parameters(operation: Schema, components: Schema) -> list[str]:
    found = [
        components["parameters"][_ref_name(p["$ref"])] if "$ref" in p else p for p in operation.get("parameters", [])
    ]
    if not found:
        return []
    lines = ["| parameter | in | type | notes |", "|---|---|---|---|"]
    for parameter in found:
        schema = parameter.get("schema", {})
        notes = parameter.get("description", schema.get("description", ""))
        lines.append(f"| `{parameter['name']}` | {parameter['in']} | {_cell(_type(schema))} | {_cell(notes)} |")
    return [*lines, ""]


def _responses(operation: Schema) -> list[str]:
    """The operation's own answers; the shared error answers by status, described once
    under "Errors"."""
    lines, shared = [], []
    for status, response in operation.get("responses", {}).items():
        if "$ref" in response:
            shared.append(f"[`{status}`](#errors)")
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        body = f": {_type(schema)}" if schema else ""
        lines.append(f"- `{status}` {_cell(response.get('description', ''))}{body}")
    if shared:
        lines.append(f"- errors: {', '.join(shared)}")
    return [*lines, ""]


def _errors(components: Schema) -> list[str]:
    lines = ["## Errors", "", "| status | when | body |", "|---|---|---|"]
    for status, response in components["responses"].items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        body = _type(schema) if schema else ""
        lines.append(f"| `{status}` | {_cell(response.get('description', ''))} | {body} |")
    return [*lines, ""]


def _operation(method: str, path: str, operation: Schema, components: Schema) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", operation.get("summary", ""), ""]
    if operation.get("description"):
        lines += [operation["description"], ""]
    lines += [_security(operation), ""]
    lines += _parameters(operation, components)
    body = operation.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        lines += [f"Body ({media}): {_type(content.get('schema', {}))}", ""]
    lines += ["Answers:", "", *_responses(operation)]
    return lines


def markdown(doc: Schema) -> str:
    components = doc["components"]
    lines = [
        "# HTTP API reference",
        "",
        "<!-- Generated by scripts/docs-reference from the OpenAPI document the app serves; do not edit. -->",
        "",
        doc["info"]["description"],
        "",
        f"Each account serves this API on its own host (the account's issuer, here the sample "
        f"`{SAMPLE_ISSUER}`), and publishes the machine-readable document at `GET /api/v2/openapi.json` "
        '(no authentication). Errors are JSON objects `{"error": ..., "description": ...}`; a field '
        "that fails validation answers `422` naming the field. The OAuth and OpenID Connect endpoints "
        "(`/oauth/...`, discovery) are described in [endpoints.md](endpoints.md).",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, Schema]]] = {}
    for path, methods in doc["paths"].items():
        if path.endswith(SUFFIX):
            continue  # the same operation as the path without `.json`
        for method, operation in methods.items():
            tag = (operation.get("tags") or ["Other"])[0]
            by_tag.setdefault(tag, []).append((method, path, operation))
    lines += ["## Contents", ""]
    lines += [f"- [{tag}](#{tag.lower().replace(' ', '-')})" for tag in by_tag]
    lines += ["- [Errors](#errors)", "- [Schemas](#schemas)", ""]
    for tag, operations in by_tag.items():
        lines += [f"## {tag}", ""]
        for method, path, operation in operations:
            lines += _operation(method, path, operation, components)
    lines += _errors(components)
    lines += ["## Schemas", ""]
    for name, schema in components["schemas"].items():
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        lines += _properties(schema)
    return "\n".join(lines).rstrip() + "\n"
