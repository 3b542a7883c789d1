"""``/api/chat``: the browser talks to the bot through the web service's own origin."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from bot.messages import MessageRejected, clean_message
from bot.settings import Settings
from bot.web.deps import get_settings_dep

router = APIRouter(prefix="/api/chat", tags=["chat"])
_SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class ChatIn(BaseModel):
    """A message from the chat page."""

    sender: str = Field(..., regex=_SENDER.pattern)
    message: Any
    lang: Optional[str] = Field(None, regex="^(de|en)$")


@router.post("")
async def chat(data: ChatIn, request: Request, settings: Settings = Depends(get_settings_dep)) -> List[Dict[str, Any]]:
    """Forward one message to Rasa's REST channel and return the bot's messages."""
    try:
        text = clean_message(data.message, settings.max_message_chars)
    except MessageRejected as err:
        raise HTTPException(err.status, detail=err.reason) from None
    url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
    payload = {"sender": data.sender, "message": text, "metadata": {"lang": data.lang} if data.lang else {}}
    client: httpx.AsyncClient = request.app.state.http
    try:
        response = await client.post(url, json=payload, timeout=15.0)
    except httpx.HTTPError:
        raise HTTPException(503, detail="the bot is not reachable right now; please try again") from None
    if response.status_code != 200:
        raise HTTPException(502, detail="the bot could not answer; please try again")
    return response.json()  # type: ignore[no-any-return]
