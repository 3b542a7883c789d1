"""The browser test tools can fail: axe finds violations, foreign requests are caught, shots and dialogs recorded.

Needs only Chromium and axe-core ('make browser-deps'), not the real services.
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

from tests.e2e.browser import NewPage, axe_violations, format_violations, same_origin_only, shoot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")
BAD = "<html lang='de'><body><main><input type=text></main></body></html>"
CLEAN = ("<html lang='de'><head><title>Suche</title></head><body><main><h1>Suche</h1>"
         "<label for=q>Frage</label><input id=q type=text></main></body></html>")

Route = Tuple[str, bytes, Dict[str, str]]  # content type, body, extra headers
Serve = Callable[[Dict[str, Route]], str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Serve fixed routes over HTTP on a free 127.0.0.1 port; returns the base URL."""
    servers: List[ThreadingHTTPServer] = []

    def start(routes: Dict[str, Route]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in routes:
                    self.send_error(404)
                    return
                content_type, body, headers = routes[self.path]
                self.send_response(200)
                for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_axe_reports_a_missing_label_and_passes_a_clean_page(new_page: NewPage) -> None:
    tab = new_page()
    tab.page.set_content(BAD)
    violations = axe_violations(tab.page)
    assert "label" in {v["id"] for v in violations}
    label = next(v for v in violations if v["id"] == "label")
    assert label["impact"] == "critical" and label["nodes"][0]["target"] == ["input"]
    message = format_violations(violations)
    assert "- label [critical]" in message and '<input type="text">' in message
    assert "label" in {v["id"] for v in axe_violations(tab.page, context="main")}  # scoped run, axe not re-injected

    tab.page.set_content(CLEAN)
    assert axe_violations(tab.page) == [], format_violations(axe_violations(tab.page))


def test_a_request_to_another_origin_is_caught(new_page: NewPage, serve: Serve) -> None:
    images = serve({"/x.png": ("image/png", PNG, {})})
    other = images.replace("127.0.0.1", "localhost")  # same server, different origin
    page = (f"<html lang='de'><body><img src='/x.png' alt='a'><img src='{other}/x.png' alt='b'>"
            f"<img src='data:image/png;base64,{base64.b64encode(PNG).decode()}' alt='c'></body></html>")
    site = serve({"/": ("text/html; charset=utf-8", page.encode(), {}), "/x.png": ("image/png", PNG, {})})
    tab = new_page()
    tab.page.goto(site + "/")
    assert f"{site}/x.png" in tab.requests and f"{other}/x.png" in tab.requests
    assert same_origin_only(tab.requests, site) == [f"{other}/x.png"]


def test_same_origin_only_normalises_origins() -> None:
    requests = ["HTTP://Example.org/a", "http://example.org:80/b", "data:text/plain,x", "blob:http://evil.test/1",
                "https://example.org/c", "http://example.org:8080/d", "http://cdn.example.org/e"]
    assert same_origin_only(requests, "http://example.org/some/page") == requests[4:]


def test_shoot_writes_a_png(new_page: NewPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_SCREENSHOT_DIR", str(tmp_path / "shots"))
    tab = new_page(viewport=(400, 300))
    tab.page.set_content(CLEAN)
    path = shoot(tab.page, "clean")
    assert path == tmp_path / "shots" / "clean.png"
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 100


def test_dialogs_are_recorded_and_dismissed(new_page: NewPage) -> None:
    tab = new_page()
    tab.page.set_content(CLEAN)
    confirmed = tab.page.evaluate("() => { alert('Hallo'); return confirm('Wirklich senden?'); }")
    assert confirmed is False
    assert tab.dialogs == [("alert", "Hallo"), ("confirm", "Wirklich senden?")]


def test_console_errors_and_strict_csp(new_page: NewPage, serve: Serve) -> None:
    html = b"<html lang='de'><head><title>CSP</title></head><body><main><h1>CSP</h1></main></body></html>"
    site = serve({"/": ("text/html; charset=utf-8", html, {"Content-Security-Policy": "default-src 'self'"})})
    strict = new_page()
    strict.page.goto(site + "/")
    strict.page.evaluate("() => { console.error('kaputt'); setTimeout(() => { throw new Error('boom'); }); }")
    strict.page.wait_for_timeout(100)
    assert "kaputt" in strict.console_errors and any("boom" in e for e in strict.console_errors)
    with pytest.raises(AssertionError, match="bypass_csp=True"):
        axe_violations(strict.page)
    assert any("Content Security Policy" in e for e in strict.console_errors)  # the blocked injection, as users see it

    relaxed = new_page(bypass_csp=True)
    relaxed.page.goto(site + "/")
    assert axe_violations(relaxed.page) == []
