"""Write the web service's OpenAPI description to a file (``make openapi``).

    python -m bot.web.openapi_file docs/openapi.json

The tests check that the committed file matches the running code and validate real
responses against it, so the description integrators read is the one that is true.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

from bot.config.settings import Settings
from bot.web.app import create_app
from bot.web.deps import services_of
from bot.web.openapi import render


def describe() -> Dict[str, Any]:
    """The OpenAPI document of the app (built with throw-away settings; nothing is served)."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), api_token="x" * 32)  # type: ignore[call-arg,arg-type]  # pydantic v1
        app = create_app(settings)
        try:
            return app.openapi()
        finally:
            services_of(app).close()


def main() -> None:
    """Write the file named on the command line (default docs/openapi.json)."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json")
    target.write_text(render(describe()), encoding="utf-8")
    print(f"OpenAPI description written to {target}")


if __name__ == "__main__":
    main()
