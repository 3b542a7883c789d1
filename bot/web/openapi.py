"""Write the web service's OpenAPI description (ticket, feedback and chat API) to a file.

    python -m bot.web.openapi docs/openapi.json

The tests check that the committed file matches the running code and validate real
responses against it, so the description integrators read is the one that is true.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

from fastapi import FastAPI
from pydantic import BaseModel

from bot.settings import Settings


def _models(base: type = BaseModel) -> Dict[str, type]:
    found: Dict[str, type] = {}
    sub: type
    for sub in base.__subclasses__():
        if sub.__module__.startswith("bot."):
            found[sub.__name__] = sub
        found.update(_models(sub))
    return found


def mark_nullable(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Pydantic v1 leaves ``null`` out of ``Optional`` fields' schemas; add it, so clients may rely on them."""
    models = _models()
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        model = models.get(name)
        if model is None:
            continue
        for field_name, field in model.__fields__.items():  # type: ignore[attr-defined]
            prop = schema.get("properties", {}).get(field.alias or field_name)
            if field.allow_none and prop is not None and "anyOf" not in prop:
                schema["properties"][field.alias or field_name] = {"anyOf": [prop, {"type": "null"}],
                                                                   "title": prop.get("title", field_name)}
    return spec


def install(app: FastAPI) -> None:
    """Serve the corrected description at ``/openapi.json``."""
    original = app.openapi

    def openapi() -> Dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = mark_nullable(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe() -> Dict[str, Any]:
    """The OpenAPI document of the app (built with throw-away settings; nothing is served)."""
    from bot.web.app import create_app

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), api_token="x" * 20)  # type: ignore[call-arg,arg-type]  # pydantic v1
        return create_app(settings).openapi()


def render(spec: Dict[str, Any]) -> str:
    """Stable text form (sorted keys, UTF-8, trailing newline)."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the file named on the command line (default docs/openapi.json)."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json")
    target.write_text(render(describe()), encoding="utf-8")
    print(f"OpenAPI description written to {target}")


if __name__ == "__main__":
    main()
