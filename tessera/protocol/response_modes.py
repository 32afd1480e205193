"""Delivering an authorization response: RFC 6749 sections 3.1.2 and 4.2.2; OAuth 2.0
Multiple Response Type Encoding Practices section 2.1; OAuth 2.0 Form Post Response Mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from tessera.protocol import redirect_uri
from tessera.protocol.authorization_trust import Reply


def redirect_location(reply: Reply, params: Mapping[str, str]) -> str:
    """The URL for query or fragment mode.

    Registered URIs have no fragment, so the fragment is ours alone; the query keeps the
    redirect URI's own parameters (redirect_uri.with_query).
    """
    if reply.response_mode == "fragment":
        return urlunsplit(urlsplit(reply.redirect_uri)._replace(fragment=urlencode(params)))
    return redirect_uri.with_query(reply.redirect_uri, params)
