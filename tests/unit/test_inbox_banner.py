"""The inbox's banner after a redirect says only fixed texts: a link cannot put its own words there."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi import FastAPI

from bot.config.settings import Settings
from bot.staff import passwords
from bot.web.app import create_app
from bot.web.deps import services_of
from tests.helpers.inbox import staff
from tests.helpers.ticket_api import TOKEN

LURE = "Ihr Konto ist gesperrt. Rufen Sie 0900-123456 an"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setattr(passwords, "N", 2**10)  # cheaper scrypt for speed
    made = create_app(Settings(home=tmp_path / "home", api_token=TOKEN))
    yield made
    services_of(made).close()


@pytest.mark.parametrize("an, fall", [(LURE[:60], "AK-7KQ2-M9XD"), ("<b>Chef</b>", "AK-7KQ2-M9XD"),
                                      ("standesamt", "AK-7KQ2-M9XD\n"), ("standesamt", "Sofort anrufen")])
def test_the_handover_banner_never_shows_text_from_the_link(app: FastAPI, an: str, fall: str) -> None:
    with staff(app, "weber", "buergerservice") as client:
        page = client.get("/inbox", params={"meldung": "uebergeben", "fall": fall, "an": an})
    assert page.status_code == 200
    assert "Ticket übergeben." in page.text
    for word in ("gesperrt", "0900", "Chef", "Sofort"):
        assert word not in page.text


def test_a_real_handover_names_the_configured_department(app: FastAPI) -> None:
    with staff(app, "weber", "buergerservice") as client:
        page = client.get("/inbox", params={"meldung": "uebergeben", "fall": "AK-7KQ2-M9XD", "an": "standesamt"})
    assert "Ticket AK-7KQ2-M9XD wurde übergeben. Zuständig ist jetzt: Standesamt." in page.text
