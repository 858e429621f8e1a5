"""The JSON API described (接口说明): its OpenAPI 3.1 document, and a page for
people made from the same document.

The document is a file in the package (``openapi.json``), kept by hand beside
``api.py``; the tests hold the two together (every route is documented, every
documented answer is what the server sends). The page is drawn on the server
from it: the site's Content-Security-Policy allows no script from elsewhere,
and none is needed to read a list of operations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, render_template
from markupsafe import Markup, escape

DOCUMENT = Path(__file__).with_name("openapi.json")
METHODS = ("get", "post", "put", "patch", "delete")
SCHEMAS = "#/components/schemas/"
CODE = re.compile(r"`([^`]+)`")

# Its own blueprint: reading the description needs no key and counts against no
# client's limit (the file is the same for everyone).
bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document, read once per process."""
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` within the document followed to what it names (siblings of
    the ``$ref``, such as its own description, kept over the target's)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = document()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return resolve(target) | {k: v for k, v in node.items() if k != "$ref"}


def type_of(schema: dict[str, Any]) -> str:
    """A schema in a few words: ``string (5–5000)``, ``Receipt``, ``integer | string | null``."""
    if "$ref" in schema and schema["$ref"].startswith(SCHEMAS):
        return schema["$ref"].removeprefix(SCHEMAS)
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            return " | ".join(type_of(s) for s in schema[combined])
    kinds = schema.get("type", "")
    words = " | ".join(kinds) if isinstance(kinds, list) else kinds
    if kinds == "array" and "items" in schema:
        words = f"[{type_of(schema['items'])}]"
    bounds = [(schema.get(low), schema.get(high)) for low, high in (("minLength", "maxLength"), ("minimum", "maximum"))]
    for low, high in bounds:
        if low is not None or high is not None:
            words += f" ({'' if low is None else low}–{'' if high is None else high})"
    if "enum" in schema:
        words += ": " + ", ".join("null" if v is None else str(v) for v in schema["enum"])
    return words or "any"


@dataclass(frozen=True)
class Field:
    """One row of a table: a parameter, a header or a property."""

    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media: list[tuple[str, str]]  # (content type, the schema in a few words)
    headers: list[Field]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    id: str
    summary: str
    description: str
    parameters: list[Field]
    body: list[tuple[str, str]]
    answers: list[Answer]
    key: bool  # whether an API key may be sent


def _field(name: str, where: str, required: bool, node: dict[str, Any]) -> Field:
    schema = node.get("schema", node)
    description = node.get("description") or resolve(schema).get("description", "")
    return Field(name, where, required, type_of(schema), description)


def _media(content: dict[str, Any]) -> list[tuple[str, str]]:
    return [(media, type_of(spec.get("schema", {}))) for media, spec in content.items()]


def operations() -> list[Operation]:
    """Every operation of the document, in its order."""
    found = []
    for path, item in document()["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            answers = []
            for status, answer in op["responses"].items():
                answer = resolve(answer)
                headers = [
                    _field(name, "header", spec.get("required", False), spec)
                    for name, spec in answer.get("headers", {}).items()
                ]
                answers.append(Answer(status, answer.get("description", ""), _media(answer.get("content", {})), headers))
            found.append(Operation(
                method=method.upper(),
                path=path,
                id=op.get("operationId", f"{method}-{path}"),
                summary=op.get("summary", ""),
                description=op.get("description", ""),
                parameters=[_field(p["name"], p["in"], p.get("required", False), p) for p in op.get("parameters", [])],
                body=_media(op.get("requestBody", {}).get("content", {})),
                answers=answers,
                key=any(requirement for requirement in op.get("security", [])),
            ))
    return found


def schemas() -> dict[str, list[Field]]:
    """The document's named schemas, each as its properties."""
    named = {}
    for name, schema in document()["components"]["schemas"].items():
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        named[name] = [_field(prop, "", prop in required, spec) for prop, spec in properties.items()] or [
            _field("", "", False, schema)
        ]
    return named


def marked(text: str) -> Markup:
    """A description's `code` (CommonMark, as OpenAPI has it) as <code>; the rest as text."""
    return Markup(CODE.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(text))))


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())


@bp.get("/docs")
def docs_page():
    doc = document()
    return render_template(
        "api/docs.html", info=doc["info"], operations=operations(), schemas=schemas(),
        descriptions={name: s.get("description", "") for name, s in doc["components"]["schemas"].items()},
        marked=marked,
    )
