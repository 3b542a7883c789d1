"""What the chat widget costs a page: bytes on the wire, as the web service sends them.

Fetches every file the widget loads (script and stylesheet) from the real web app, in this
process, with and without ``Accept-Encoding: gzip``, and prints raw and compressed sizes
against the 50 KB budget. The e2e test ``test_widget_is_small_and_served_compressed`` checks
the same budget over a real socket.

    python bench/widget_size.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from bot.config.settings import Settings
from bot.web.app import create_app

ASSETS = ("/widget/auskunft.js", "/widget/auskunft.css")
BUDGET = 50 * 1024


def main() -> None:
    """Print the table."""
    with tempfile.TemporaryDirectory() as home, TestClient(create_app(Settings(home=Path(home)))) as client:
        rows = []
        for path in ASSETS:
            raw = client.get(path, headers={"Accept-Encoding": "identity"})
            with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as packed:
                packed.read()
                assert packed.headers.get("content-encoding") == "gzip", f"{path} is not served compressed"
                rows.append((path, len(raw.content), packed.num_bytes_downloaded))
    print(f"{'file':<24}{'raw bytes':>12}{'gzip bytes':>12}")
    for path, raw_size, gz_size in rows:
        print(f"{path:<24}{raw_size:>12,}{gz_size:>12,}")
    total_raw, total_gz = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'total':<24}{total_raw:>12,}{total_gz:>12,}")
    print(f"budget 50 KB gzipped: {total_gz / 1024:.1f} KB = {total_gz / BUDGET:.0%} of the budget; "
          "no fonts, images or third-party files")


if __name__ == "__main__":
    main()
