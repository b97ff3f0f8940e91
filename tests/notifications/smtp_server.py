"""A real SMTP server for tests: aiosmtpd in a thread on 127.0.0.1, answering as real servers
do. Each recipient can be given a script of replies (greylisting at RCPT, a temporary failure
after DATA, an unknown user, a full mailbox) that is used up in order, after which the server
accepts; every accepted message is recorded with its Message-ID."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import message_from_bytes

from aiosmtpd.controller import Controller

ACCEPTED = "250 2.0.0 OK queued"


@dataclass(frozen=True)
class Received:
    recipient: str
    message_id: str
    subject: str


def free_port() -> int:
    """A loopback port nothing listens on (aiosmtpd cannot be given port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpServer:
    # Seconds the server takes to answer each message's DATA.
    data_delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _replies: dict[tuple[str, str], deque[str]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gated: set[str] = field(default_factory=set)
    _controller: Controller | None = None

    def reply(self, address: str, *replies: str, at: str = "RCPT") -> None:
        """Answer the next messages to `address` (from it, at MAIL) with these replies at
        MAIL, RCPT or DATA, in order."""
        self._replies[(at, address.lower())].extend(replies)

    def gate(self, recipient: str) -> None:
        """Keep `recipient`'s message waiting at DATA until another message has been accepted
        (or 5 seconds pass): its sender stays in the middle of that call meanwhile."""
        self._gated.add(recipient.lower())

    async def _wait_for_another(self) -> None:
        before = len(self.received)
        for _ in range(500):
            if len(self.received) > before:
                return
            await asyncio.sleep(0.01)

    def _scripted(self, at: str, recipient: str) -> str | None:
        with self._lock:
            script = self._replies.get((at, recipient.lower()))
            return script.popleft() if script else None

    def message_ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def recipients(self) -> list[str]:
        with self._lock:
            return [r.recipient for r in self.received]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if reply := self._scripted("MAIL", address):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self._scripted("RCPT", address):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        [recipient] = envelope.rcpt_tos
        if recipient.lower() in self._gated:
            await self._wait_for_another()
        reply = self._scripted("DATA", recipient)
        if reply is None:
            # Kept before answering, as real servers queue the message before their "250":
            # a client that gives up waiting for the answer leaves it delivered all the same.
            parsed = message_from_bytes(envelope.content)
            with self._lock:
                self.received.append(
                    Received(recipient, str(parsed["Message-ID"]), str(parsed["Subject"]))
                )
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return reply or ACCEPTED

    def start(self) -> SmtpServer:
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def smtp_configure(settings, port: int) -> None:
    """Send email through Django's SMTP backend to 127.0.0.1:`port`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
