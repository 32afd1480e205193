"""The building blocks of the OpenAPI component schemas (openapi_schemas.py and
openapi_client_schemas.py): the object, request and null-or-value forms every shape is made
of, and the member types they repeat (ids, URLs, times, scopes).

Apart so that each area's shapes, and the operations (openapi_operations.py), build on the
same blocks without importing one another's shapes. OpenAPI 3.1 schemas are JSON Schema 2020-12:
a member that may be null has `type: [T, "null"]`.
"""

from __future__ import annotations

from typing import Any

from tessera.protocol.scopes import KNOWN_SCOPES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **more: Any) -> Schema:
    return {"type": [kind, "null"], **more}


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object whose members are all required but the `optional` ones."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


def input_object(properties: dict[str, Schema], *, required: tuple[str, ...] = ()) -> Schema:
    """A request object: only `required` members must be sent, and no other (the
    administration API refuses a field the resource does not have with 400; the members a
    GET answer carries, such as id and url, are ignored so that it can be PUT back)."""
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


ID: Schema = {"type": "integer", "minimum": 1}
URL: Schema = {"type": "string", "format": "uri"}
TIME: Schema = {"type": "string", "format": "date-time"}
TEXT: Schema = {"type": "string"}
FLAG: Schema = {"type": "boolean"}
SCOPE: Schema = {"type": "string", "enum": list(KNOWN_SCOPES)}


def array(item: Schema) -> Schema:
    return {"type": "array", "items": item}
