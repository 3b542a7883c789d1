"""E-mail the citizen when staff answered their case (where they left an address).

The mail says *that* there is an answer and where to read it with the case number; the
answer itself stays on the agency's server (e-mail is not a confidential channel).
Pending notifications are derived from the data, so none is lost: a reply without a
``notified`` event is sent on the next run, whether the SMTP server was down or the
process restarted.
"""

from __future__ import annotations

import logging
from typing import Callable, List, Tuple

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


def pending(session: Session) -> List[Tuple[Ticket, Reply]]:
    """Replies to tickets with an e-mail address that have not been notified yet, oldest first."""
    # the ids first: SELECT DISTINCT over the whole row fails on PostgreSQL (no equality operator for JSON columns)
    with_replies = select(Reply.ticket_id).join(Ticket, Reply.ticket_id == Ticket.id).where(Ticket.email.isnot(None))
    tickets = session.execute(select(Ticket).where(Ticket.id.in_(with_replies))).scalars().all()
    result: List[Tuple[Ticket, Reply]] = []
    for ticket in tickets:
        notified = {(e.data or {}).get("reply_id") for e in ticket.events if e.kind == "notified"}
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
            mailer.send(ticket.email, subject.format(**values), body.format(**values))
        except OSError as err:
            log.warning("notification for case %s not sent yet (%s); will retry", ticket.case_number,
                        type(err).__name__)
            break  # the server is down: try the rest next time
        ticket.events.append(TicketEvent(actor="system", kind="notified", data={"reply_id": reply.id}))
        session.commit()
        sent += 1
    return sent
