"""Plain SMTP delivery of notification e-mails (no personal data beyond the address is sent)."""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Optional


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send."""

    host: str
    port: int = 25
    sender: str = "Bürgerservice <noreply@musterstadt.example>"
    user: str = ""
    password: Optional[str] = None
    starttls: bool = False
    timeout: float = 10.0


class Mailer:
    """Sends one message per call over SMTP.

    Args:
        config: the server and sender.
    """

    def __init__(self, config: SmtpConfig) -> None:
        if not config.host:
            raise ValueError("SMTP host is empty: set AUSKUNFT_SMTP_HOST to send notifications")
        self.config = config

    @property
    def domain(self) -> str:
        """The domain of the sender's address (for message ids), ``auskunft.invalid`` if it has none."""
        address = parseaddr(self.config.sender)[1]
        domain = address.rpartition("@")[2].strip().lower()
        return domain if address.count("@") == 1 and re.fullmatch(r"[a-z0-9.-]{1,200}", domain) else "auskunft.invalid"

    def stable_id(self, *parts: object) -> str:
        """A ``Message-ID`` that is the same for the same ``parts`` (e.g. the case number and the reply id).

        The parts are hashed, so the id shows neither; the domain is the sender's.
        """
        digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
        return f"<auskunft.{digest}@{self.domain}>"

    def send(self, to: str, subject: str, body: str, message_id: Optional[str] = None) -> None:
        """Send a plain-text message.

        Args:
            to: the recipient's address.
            subject: the subject line.
            body: the plain-text body.
            message_id: the ``Message-ID`` (``<...@...>``); the same for every attempt of the same notification, so
                that a message sent again after a crash (SMTP cannot be part of a database transaction) is
                recognisable as the same one by mail servers and clients; None = a new one.

        Raises:
            OSError: the server cannot be reached (``smtplib.SMTPException`` is a subclass).
        """
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.config.sender, to, subject
        message["Message-ID"] = message_id or make_msgid(domain=self.domain)
        message.set_content(body)
        with smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout) as smtp:
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.config.user:
                smtp.login(self.config.user, self.config.password or "")
            smtp.send_message(message)
