"""Delivering an authorization response: RFC 6749 sections 3.1.2 and 4.2.2; OAuth 2.0
Multiple Response Type Encoding Practices section 2.1; OAuth 2.0 Form Post Response Mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from tessera.protocol.authorization import Reply


def redirect_location(reply: Reply, params: Mapping[str, str]) -> str:
    """The URL for query or fragment mode.

    Section 3.1.2: the redirect URI's own query "MUST be retained when adding additional
    query parameters". Registered URIs have no fragment, so the fragment is ours alone.
    """
    encoded = urlencode(params)
    parts = urlsplit(reply.redirect_uri)
    if reply.response_mode == "fragment":
        return urlunsplit(parts._replace(fragment=encoded))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return urlunsplit(parts._replace(query=query))
