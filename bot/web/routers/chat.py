"""``/api/chat``: the widget talks to the bot through the web service's own origin.

The conversation id is the widget's random, unguessable session id; for reading replies
and deleting the conversation it travels in the ``X-Auskunft-Conversation`` header, so it
never appears in URLs or access logs.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Union

import httpx
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.channels.incoming import MessageRejected, clean_message
from bot.channels.payloads import OfferedButtons, is_payload
from bot.config.agencies import AGENCY_KEY, UnknownAgency
from bot.config.settings import Settings
from bot.feedback import service as feedback
from bot.limits.policy import CitizenLimits
from bot.run.internal_auth import outgoing_headers
from bot.run.rasa_workers import rasa_urls_for
from bot.tickets import service as tickets
from bot.tickets.closing import closing_notes
from bot.tickets.departments import Departments
from bot.web.deps import (
    AgenciesDep,
    DbDep,
    DepartmentsDep,
    EraserDep,
    HttpDep,
    LimitsDep,
    QueryVectorsDep,
    SettingsDep,
)
from bot.web.query_vectors import QueryVectors
from bot.web.ratelimit import address_key, too_many_requests

router = APIRouter(prefix="/api/chat", tags=["chat"])
SENDER = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CONVERSATION_HEADER = "X-Auskunft-Conversation"
MAX_ID = 2**53 - 1  # the largest id the widget (JavaScript numbers) and the database hold exactly; larger is a 422


class ChatIn(BaseModel):
    """A message from the widget."""

    sender: str = Field(..., regex=SENDER.pattern, description="the widget's random conversation id")
    message: Any
    lang: Optional[str] = Field(None, regex="^(de|en)$")
    agency: Optional[str] = Field(None, regex=AGENCY_KEY.pattern, description="the widget's data-agency, in "
                                  "deployments serving several agencies; none = the default agency")


class AgentReply(BaseModel):
    """A staff member's answer in this conversation's case, or the note that the case was closed."""

    id: int
    case_number: str
    author: str
    text: str
    at: datetime
    kind: str = Field("reply", description="'reply': a staff answer (its id counts for 'after'); 'closed': the "
                      "case was closed, the bot answers again (its id counts for 'closed_after')")


def conversation_id(x_auskunft_conversation: str = Header(..., description="the widget's conversation id")) -> str:
    """The conversation named by the request header (validated)."""
    if not SENDER.match(x_auskunft_conversation):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"{CONVERSATION_HEADER} must be 16 to 64 letters, digits, '-' or '_'")
    return x_auskunft_conversation


HANDED_OVER = {
    "de": "Ihre Nachricht ist angekommen (Fall {case}, zuständig: {department}). Eine Mitarbeiterin oder ein "
          "Mitarbeiter antwortet Ihnen hier.",
    "en": "Your message has reached {department} (case {case}). A member of staff will answer you here.",
}


def _to_agent(session: Session, conversation: str, text: str, lang: Optional[str],
              departments: Departments) -> Optional[List[Dict[str, Any]]]:
    """While a person holds the conversation, the message goes into their ticket and the bot stays silent."""
    ticket = tickets.holding_ticket(session, conversation)
    if ticket is None:
        return None
    tickets.add_citizen_message(session, ticket, text)
    language = lang or ticket.language or "de"
    note = HANDED_OVER.get(language, HANDED_OVER["de"]).format(department=departments.name(ticket.department),
                                                               case=ticket.case_number)
    return [{"recipient_id": conversation, "text": note},
            {"recipient_id": conversation, "custom": {"decision": "human", "case_number": ticket.case_number}}]


LIMITED: Dict[Union[int, str], Dict[str, Any]] = {429: {
    "description": "Too many requests from this address, in this conversation or in total: nothing was stored; "
                   "send it again after ``Retry-After`` seconds"}}
BUSY: Dict[Union[int, str], Dict[str, Any]] = {**LIMITED, 503: {
    "description": "The bot is busy (more messages at once than it answers) or a store it needs is away: the "
                   "message was not forwarded, nothing of it was stored; send it again after ``Retry-After`` "
                   "seconds"}}
RASA_TIMEOUT_S = 10.0  # with AUSKUNFT_CHAT_QUEUE_WAIT_S (8 s) inside the widget's 20 s and nginx's 30 s
CLIENT_GONE = 499  # nginx's code for "the client closed the connection": logged, never read by anyone


async def _post_to_rasa(client: httpx.AsyncClient, settings: Settings, sender: str,
                        payload: Dict[str, Any]) -> httpx.Response:
    """Send the message to the conversation's own Rasa process; to the next only while that one refuses connections.

    A refused connection delivered nothing, so trying the next process cannot answer a message twice; any
    other failure (a timeout after the message arrived) is reported as 503 instead of being resent.
    """
    headers = outgoing_headers(settings)  # the internal secret, when one is set
    for base in rasa_urls_for(settings, sender):
        try:
            return await client.post(f"{base}/webhooks/rest/webhook", json=payload, headers=headers,
                                     timeout=RASA_TIMEOUT_S)
        except httpx.ConnectError:
            continue
        except httpx.HTTPError:
            break
    raise HTTPException(503, detail="the bot is not reachable right now; please try again")


@router.post("", responses=BUSY)
async def chat(data: ChatIn, request: Request, settings: SettingsDep, session: DbDep, agencies: AgenciesDep,
               departments: DepartmentsDep, client: HttpDep, vectors: QueryVectorsDep,
               limits: LimitsDep) -> List[Dict[str, Any]]:
    """Forward one message to Rasa's REST channel and return the bot's messages.

    While an agent holds the conversation (took or answered its ticket and has not handed it back),
    the message is added to the ticket instead and the bot does not answer. Beyond the limits per address,
    per conversation and in total the answer is 429 with ``Retry-After`` (see :mod:`bot.limits.policy`).
    A button payload (``/affirm``, ``/ask_human``, ...) goes to Rasa as such only when the bot offered that button
    in its latest reply; typed by hand otherwise, it is read as an ordinary message without the slash
    (:mod:`bot.channels.payloads`).

    At most ``chat_in_flight`` turns per process get here at once (:mod:`bot.web.admission_middleware`); a turn
    that cannot get a slot in time is answered 503 with ``Retry-After`` before it is read, and one whose client
    closed the connection while it waited is dropped here, before it is forwarded.
    """
    decision = await run_in_threadpool(limits.chat, address_key(limits, request), data.sender)
    if not decision.allowed:
        raise too_many_requests(decision)
    try:
        text = clean_message(data.message, settings.max_message_chars)
        agency = agencies.get(data.agency)
    except MessageRejected as err:
        raise HTTPException(err.status, detail=err.reason) from None
    except UnknownAgency as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(err)) from None
    if await request.is_disconnected():  # the citizen gave up while the turn waited (counted by the middleware)
        raise HTTPException(CLIENT_GONE, detail="the client closed the connection; the message was not forwarded")
    held = await run_in_threadpool(_to_agent, session, data.sender, text, data.lang, departments)
    if held is not None:
        return held
    await run_in_threadpool(session.close)  # its database connection goes back to the pool while Rasa works
    return await _answer(data, text, agency.key if not agency.is_default else None, settings, client, vectors,
                         limits)


async def _answer(data: ChatIn, text: str, agency: Optional[str], settings: Settings, client: httpx.AsyncClient,
                  vectors: Optional[QueryVectors], limits: CitizenLimits) -> List[Dict[str, Any]]:
    """The bot's answer to ``text``: embedded (where the web service embeds), then Rasa's reply."""
    buttons = OfferedButtons(limits.limiter)
    if is_payload(text):  # a payload only if that button was offered; otherwise its words go through the NLU
        text = await run_in_threadpool(buttons.admit, data.sender, text)
    metadata: Dict[str, Any] = {"lang": data.lang} if data.lang else {}
    if agency is not None:
        metadata["agency"] = agency  # the bot answers from this agency's kb only
    if vectors is not None:
        metadata.update(await vectors.metadata_for(text))  # embedded together with concurrent messages
    payload = {"sender": data.sender, "message": text, "metadata": metadata}
    response = await _post_to_rasa(client, settings, data.sender, payload)
    if response.status_code != 200:
        raise HTTPException(502, detail="the bot could not answer; please try again")
    messages = response.json()
    await run_in_threadpool(buttons.remember, data.sender, messages)  # the buttons the citizen may click next
    return messages  # type: ignore[no-any-return]


@router.get("/replies", response_model=List[AgentReply], responses=LIMITED)
def replies(session: DbDep, request: Request, limits: LimitsDep, after: int = Query(0, ge=0, le=MAX_ID),
            conversation: str = Depends(conversation_id),
            closed_after: Optional[int] = Query(None, ge=0, le=MAX_ID, description="also the case-closed notes "
                                                "newer than this status event id")) -> List[AgentReply]:
    """Staff replies to this conversation's cases newer than reply id ``after``, oldest first.

    With ``closed_after`` (a widget that shows them asks for them), also a note for each of its cases resolved
    since the status event ``closed_after``, in the ticket's language (:mod:`bot.tickets.closing`).
    """
    decision = limits.poll(address_key(limits, request))
    if not decision.allowed:
        raise too_many_requests(decision)
    found = [AgentReply(id=reply.id, case_number=case, author=reply.author, text=reply.text, at=reply.created_at,
                        kind="reply") for reply, case in tickets.replies_for_conversation(session, conversation, after)]
    if closed_after is not None:
        found += [AgentReply(id=note.id, case_number=note.case_number, author="", text=note.text, at=note.at,
                             kind="closed") for note in closing_notes(session, conversation, closed_after)]
        found.sort(key=lambda item: item.at.replace(tzinfo=item.at.tzinfo or timezone.utc))
    return found


@router.delete("/conversation", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=LIMITED)
def delete_conversation(session: DbDep, eraser: EraserDep, request: Request, limits: LimitsDep,
                        conversation: str = Depends(conversation_id)) -> Response:
    """Delete the conversation's stored messages and votes (cases already forwarded stay with the office)."""
    decision = limits.chat(address_key(limits, request), conversation)
    if not decision.allowed:
        raise too_many_requests(decision)
    try:
        eraser.erase(conversation)
    except FileNotFoundError:  # no tracker database yet: Rasa has stored nothing
        pass
    feedback.delete_conversation(session, conversation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
