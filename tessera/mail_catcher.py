"""A local SMTP server that keeps what it receives: `tessera demo` and the tests send their
e-mail here instead of to a real mail server (aiosmtpd, on its own thread and event loop).

The demo prints the password-reset link of every message it catches, so that the whole
reset flow can be tried without a mail server.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

_LINK = re.compile(r"https?://\S+")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailCatcher:
    """Listens on 127.0.0.1:`port`; `messages` holds every e-mail received, oldest first."""

    def __init__(self, port: int | None = None, on_message: Callable[[EmailMessage], None] | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self._on_message = on_message
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self.messages.append(parsed)
            self._arrived.notify_all()
        if self._on_message is not None:
            self._on_message(parsed)
        return "250 Message accepted for delivery"

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages, once that many arrived (else TimeoutError)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} e-mails arrived within {timeout} s")
            return self.messages[:count]

    def environment(self) -> dict[str, str]:
        """The TESSERA_SMTP_* settings that send a server's e-mail here."""
        return {"TESSERA_SMTP_HOST": "127.0.0.1", "TESSERA_SMTP_PORT": str(self.port)}


def body(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    return "" if part is None else str(part.get_content())


def links(mail: EmailMessage) -> list[str]:
    return _LINK.findall(body(mail))


def start_for_demo(echo: Callable[[str], None]) -> MailCatcher | None:
    """`tessera demo`: catch the server's e-mail in process and print each reset link;
    nothing when TESSERA_SMTP_HOST names a real mail server."""
    if os.environ.get("TESSERA_SMTP_HOST"):
        return None

    def show(mail: EmailMessage) -> None:
        for link in links(mail):
            echo(f"\n  E-mail to {mail['To']} ({mail['Subject']}): open {link}\n")

    catcher = MailCatcher(on_message=show).start()
    # The server (tessera.asgi:app) reads its settings from the environment.
    os.environ.update(catcher.environment())
    echo(f"E-mail (password reset links) is caught on 127.0.0.1:{catcher.port} and printed here.")
    return catcher
