"""Outgoing e-mail over SMTP (TESSERA_SMTP_*, docs/password-reset.md), off the request path.

`Mailer.later` returns at once: the work that makes the message and delivers it runs in a
background task, which runs smtplib on a worker thread under `smtp_timeout`, so a slow or dead SMTP server can hang
neither a page nor the event loop. A failed delivery is logged (without the message, which
may hold a reset link) and never reaches the user as an error: the page they see says the
same thing whether or not an e-mail left, which is also what keeps it from telling who has
an account.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from tessera.settings import Settings

log = logging.getLogger("tessera.mail")


def message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=settings.base_domain)
    # Automated mail: out-of-office replies and mailing-list software should stay away.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    return mail


def send_now(settings: Settings, mail: EmailMessage) -> None:
    """Blocking: one SMTP session, bounded by settings.smtp_timeout per socket operation."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(mail)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def configured(self) -> bool:
        return self.settings.smtp_configured

    def later(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run `work` (which ends by delivering a message) in the background, after the page
        has answered; an error in it is logged. `what` names it in the log ("password reset")."""
        task = asyncio.get_running_loop().create_task(self._logged(work, what))
        self._sending.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._sending.discard)

    async def _logged(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except Exception:  # the page has answered: nobody else would hear of it
            log.exception("could not prepare the %s e-mail", what)

    async def deliver(self, mail: EmailMessage, what: str) -> None:
        """Deliver now (from background work), within the timeouts; a failure is logged."""
        settings = self.settings
        # The whole session, connection to QUIT, gets a bound too: smtplib's timeout is per
        # socket operation, and a server may trickle.
        deadline = settings.smtp_timeout * 3
        try:
            await asyncio.wait_for(asyncio.to_thread(send_now, settings, mail), deadline)
        except (OSError, smtplib.SMTPException, TimeoutError) as problem:
            log.warning(
                "could not send the %s e-mail through %s:%s: %s",
                what,
                settings.smtp_host,
                settings.smtp_port,
                problem or type(problem).__name__,
            )
        else:
            log.info("sent the %s e-mail through %s:%s", what, settings.smtp_host, settings.smtp_port)

    async def drain(self) -> None:
        """Wait for deliveries under way (shutdown, tests)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
