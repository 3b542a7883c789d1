"""Plain SMTP delivery of notification e-mails (no personal data beyond the address is sent)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
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

    def send(self, to: str, subject: str, body: str) -> None:
        """Send a plain-text message.

        Raises:
            OSError: the server cannot be reached (``smtplib.SMTPException`` is a subclass).
        """
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.config.sender, to, subject
        message["Message-ID"] = make_msgid(domain="auskunft.invalid")
        message.set_content(body)
        with smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout) as smtp:
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.config.user:
                smtp.login(self.config.user, self.config.password or "")
            smtp.send_message(message)
