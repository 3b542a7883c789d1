"""E-mail the citizen when staff answered their case (where they left an address).

The mail says *that* there is an answer and where to read it with the case number; the
answer itself stays on the agency's server (e-mail is not a confidential channel).
Pending notifications are derived from the data, so none is lost: a reply without a
``notified`` event is sent on the next run, whether the SMTP server was down or the
process restarted. An address the mail server refuses for good (a 5xx answer for the recipient) gets a
``notify_failed`` event instead: it is not tried again, does not hold up the others, and the ticket page says so
(:func:`reply_states`).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.notifications.mailer import Mailer
from bot.tickets.models import Reply, Ticket, TicketEvent

log = logging.getLogger(__name__)

TEXTS = {
    "de": ("Antwort auf Ihr Anliegen {case}",
           "Guten Tag,\n\nzu Ihrem Anliegen mit der Fallnummer {case} gibt es eine Antwort "
           "(zuständig: {department}).\n\n"
           "Sie können sie hier lesen: {url}\nGeben Sie dort Ihre Fallnummer {case} ein. Ist das Chatfenster noch "
           "offen, steht die Antwort auch dort.\n\n"
           "Aus Datenschutzgründen schicken wir die Antwort nicht per E-Mail.\n\n"
           "Diese Nachricht wurde automatisch erstellt; bitte antworten Sie nicht darauf."),
    "en": ("Reply to your question {case}",
           "Hello,\n\n{department} has replied to your question with the case number {case}.\n\n"
           "You can read the reply here: {url}\nEnter your case number {case} there. If the chat window is still "
           "open, the reply is shown there as well.\n\nFor privacy reasons we do not send the reply by e-mail.\n\n"
           "This message was generated automatically; please do not reply to it."),
}


DONE_KINDS = ("notified", "notify_failed")  # a reply with either event is not tried again


@dataclass(frozen=True)
class NotificationState:
    """Where the e-mail about one reply stands: ``sent``, ``waiting``, ``failed``, ``no_email`` or ``off``.

    ``at`` is when it was sent or refused; ``code`` the mail server's answer to a refused address.
    """

    state: str
    at: Optional[datetime] = None
    code: Optional[int] = None


def reply_states(ticket: Ticket, mail_on: bool) -> Dict[int, NotificationState]:
    """The notification state of each of the ticket's replies, by reply id.

    Args:
        ticket: the ticket with its replies and events.
        mail_on: whether this deployment sends notifications at all (an SMTP server is configured).
    """
    done: Dict[int, NotificationState] = {}
    for event in ticket.events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.kind in DONE_KINDS and isinstance(data.get("reply_id"), int):
            done[data["reply_id"]] = NotificationState("sent" if event.kind == "notified" else "failed", event.at,
                                                       data.get("code") if event.kind == "notify_failed" else None)
    fallback = NotificationState("no_email" if not ticket.email else "waiting" if mail_on else "off")
    return {reply.id: done.get(reply.id, fallback) for reply in ticket.replies}


def refused_for_good(err: OSError) -> Optional[int]:
    """The mail server's code when it refused every recipient with a permanent (5xx) answer, else None.

    Only a refused *recipient* counts: a refused sender or an unreachable server is the deployment's problem and is
    tried again.
    """
    if isinstance(err, smtplib.SMTPRecipientsRefused) and err.recipients:
        codes = [code for code, _ in err.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            return int(codes[0])
    return None


def pending(session: Session) -> List[Tuple[Ticket, Reply]]:
    """Replies to tickets with an e-mail address that have not been notified yet, oldest first."""
    # the ids first: SELECT DISTINCT over the whole row fails on PostgreSQL (no equality operator for JSON columns)
    with_replies = select(Reply.ticket_id).join(Ticket, Reply.ticket_id == Ticket.id).where(Ticket.email.isnot(None))
    tickets = session.execute(select(Ticket).where(Ticket.id.in_(with_replies))).scalars().all()
    result: List[Tuple[Ticket, Reply]] = []
    for ticket in tickets:
        notified = {(e.data or {}).get("reply_id") for e in ticket.events if e.kind in DONE_KINDS}
        result.extend((ticket, reply) for reply in ticket.replies if reply.id not in notified)
    return sorted(result, key=lambda pair: pair[1].id)


def notify_pending(session: Session, mailer: Mailer, lookup_url: str,
                   department_name: Callable[[str], str] = lambda key: key) -> int:
    """Send every pending notification once; returns how many were sent. Failures stay pending."""
    sent = 0
    for ticket, reply in pending(session):
        subject, body = TEXTS.get(ticket.language, TEXTS["de"])
        values = {"case": ticket.case_number, "url": lookup_url,
                  "department": department_name(ticket.department or "") or "der Verwaltung"}
        try:
            # the same Message-ID if it is sent again (a worker killed after the server took it): see the Mailer
            mailer.send(ticket.email, subject.format(**values), body.format(**values),
                        message_id=mailer.stable_id("reply-notification", ticket.case_number, reply.id))
        except OSError as err:
            code = refused_for_good(err)
            if code is not None:
                log.warning("notification for case %s refused by the mail server (%d); not tried again",
                            ticket.case_number, code)
                ticket.events.append(TicketEvent(actor="system", kind="notify_failed",
                                                 data={"reply_id": reply.id, "code": code}))
                session.commit()
                continue
            log.warning("notification for case %s not sent yet (%s); will retry", ticket.case_number,
                        type(err).__name__)
            break  # the server is down: try the rest next time
        ticket.events.append(TicketEvent(actor="system", kind="notified", data={"reply_id": reply.id}))
        session.commit()
        sent += 1
    return sent
