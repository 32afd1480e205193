"""Whether `serve` and `demo` can listen where they are asked to, said before they start.

uvicorn finds out only when it binds: `demo` had printed its whole "open this" banner by
then, and both ended on a logged `[Errno 98]` line. A port another program holds, or a host
that is not this machine's, is a mistake of the command line: one line, exit 2 (INTERFACE.md
section 1). The check binds a probe socket as uvicorn will (SO_REUSEADDR, so a port left
in TIME_WAIT by a server just stopped is free), then lets it go; a program that takes the
port in between is still caught by uvicorn.
"""

from __future__ import annotations

import errno
import socket

from tessera.cli.context import fail


def require_free(host: str, port: int, option: str) -> None:
    """Exit 2 saying what to change when `host`:`port` cannot be listened on; `option`
    names the command's option for the port (--port, --samples-port)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError):
        fail(f"--host {host!r} is not a name or address of this machine; give an address such as 127.0.0.1")
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                fail(
                    f"port {port} on {host} is in use by another program: stop it, or choose a free port with {option}"
                )
            if error.errno == errno.EADDRNOTAVAIL:
                fail(f"--host {host!r} is not an address of this machine; give one of its addresses, such as 127.0.0.1")
            if error.errno == errno.EACCES:
                fail(f"port {port} needs privileges this user lacks: choose a port of 1024 or more with {option}")
            fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
