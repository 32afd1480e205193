"""Limits on what a connection may send before a request reaches the application.

uvicorn's httptools protocol (the fast one `tessera serve` runs) enforces none of these
itself: it buffers a header block of any size and any number of fields, and a connection
that opens and sends nothing, or sends half a request, stays open for as long as the peer
likes (its keep-alive timer runs only between requests). `LimitedHttpToolsProtocol` adds,
per connection (ServerSettings, docs/reliability.md):

- the request line and header fields together at most `max_header_bytes`: more is
  431 Request Header Fields Too Large (RFC 6585 section 5), or 414 URI Too Long when the
  URL alone is too long (RFC 9110 section 15.5.15), and the connection closes;
- at most `max_headers` header fields: more is 431;
- a request (line, headers and body) must arrive within `read_timeout` seconds of its
  first byte, or of the connection's opening for the first request: else
  408 Request Timeout (RFC 9110 section 15.5.9) and the connection closes. A connection
  that sent nothing at all is closed without an answer: a browser's speculative
  connection must not read an unsolicited 408 as the answer to a request it sends then.

A header block still arriving is counted as raw bytes, so a peer holding an unfinished
2 MB header costs the server at most the limit plus one socket read before it is refused.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from tessera.server_settings import ServerSettings


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class LimitedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
    def __init__(self, *args: Any, limits: ServerSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._in_headers = True  # waiting for (the rest of) a request's header block
        self._header_bytes = 0  # raw bytes received while that block is unfinished
        self._request_begun = False  # a byte of the next request has arrived
        self._headers_done = 0  # header blocks completed on this connection
        self._counted = 0  # the request line and fields parsed so far, in bytes
        self._fields = 0
        self._read_deadline: asyncio.TimerHandle | None = None

    # -- connection events -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, plus the header-size count and the read deadline."""
        self._unset_keepalive_if_required()
        if self._in_headers:
            self._arm_read_deadline()
            self._request_begun = True
        counting, done_before = self._in_headers, self._headers_done
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _Refused):
                self._refuse(error.__context__.status, error.__context__.reason)
            else:
                self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        if counting and self._in_headers and self._headers_done == done_before:
            # The whole chunk belongs to an unfinished header block.
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._refuse(431, self._too_large())

    # -- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._counted = self._fields = 0

    def on_url(self, url: bytes) -> None:
        self._counted += len(url)
        if self._counted > self.limits.max_header_bytes:
            raise _Refused(414, f"the URL is longer than {self.limits.max_header_bytes} bytes")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        self._counted += len(name) + len(value) + 4  # ": " and CRLF
        if self._fields > self.limits.max_headers:
            raise _Refused(431, f"the request has more than {self.limits.max_headers} header fields")
        if self._counted > self.limits.max_header_bytes:
            raise _Refused(431, self._too_large())
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._headers_done += 1
        self._header_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers = True
        self._request_begun = False
        self._cancel_read_deadline()
        if self.cycle.response_complete and self.timeout_keep_alive_task is None and not self.pipeline:
            # Answered before its body had all arrived: the keep-alive timer uvicorn armed
            # then was cancelled by the body's last bytes. Arm it again.
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    # -- refusing --------------------------------------------------------------------------

    def _too_large(self) -> str:
        return f"the request line and header fields are larger than {self.limits.max_header_bytes} bytes"

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    def _arm_read_deadline(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(self.limits.read_timeout, self._read_timed_out)

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self._in_headers and not self._request_begun:
            self.transport.close()  # nothing was asked: nothing to answer
        elif not self.transport.is_closing():
            self._refuse(408, f"the request did not arrive within {self.limits.read_timeout} seconds")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` if nothing else is being answered on the connection, then close it."""
        self._cancel_read_deadline()
        cycle = self.cycle
        # Before its headers are complete a request has no cycle: the last one must be finished.
        idle = cycle is None or cycle.response_complete
        if idle if self._in_headers else not cycle.response_started:
            self.transport.write(self._response(status, reason))
        if cycle is not None and not cycle.response_complete:
            # The application stops waiting for the body and its answer is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    def _response(self, status: int, reason: str) -> bytes:
        body = (reason + "\n").encode()
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.append(b"content-type: text/plain; charset=utf-8\r\ncache-control: no-store\r\n")
        content.extend([b"content-length: ", str(len(body)).encode(), b"\r\nconnection: close\r\n\r\n", body])
        return b"".join(content)


def protocol_factory(limits: ServerSettings) -> Any:
    """What `tessera serve` passes to uvicorn as its `http` protocol (picklable, for workers)."""
    return functools.partial(LimitedHttpToolsProtocol, limits=limits)
