"""The web service's OpenAPI description (ticket, feedback and chat API), as served and as committed.

:func:`install` corrects what FastAPI generates; :mod:`bot.web.openapi_file` writes it to
``docs/openapi.json``. This module does not import the app (the app imports it).
"""

from __future__ import annotations

import json
from typing import Any, Dict

from fastapi import FastAPI
from pydantic import BaseModel


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


def render(spec: Dict[str, Any]) -> str:
    """Stable text form (sorted keys, UTF-8, trailing newline)."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
