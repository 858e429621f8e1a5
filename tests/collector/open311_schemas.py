"""The Open311 project's published JSON Schemas of GeoReport v2, read from the
shared data folder (never copied into the project); the tests that need them
are skipped where the folder is missing."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

FOLDER = Path(__file__).resolve().parents[3] / "shared" / "data" / "open311-georeport-v2"


@cache
def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT7))
        for path in FOLDER.glob("*.json")
    ]
    return Registry().with_resources(resources)


def schema(name: str) -> dict[str, Any]:
    """``services.json``, ``request.json``, …; or ``swagger.json#Name`` for one of
    the Swagger description's definitions (the POST's answer has no schema file)."""
    if not FOLDER.is_dir():
        pytest.skip(f"the Open311 schemas are not here: {FOLDER}")
    file, _, definition = name.partition("#")
    contents = _registry()[file].contents
    return contents["definitions"][definition] if definition else contents


def assert_valid(body: Any, name: str) -> None:
    validator = Draft7Validator(schema(name), registry=_registry(), format_checker=FormatChecker())
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, problems


def xml_items(data: bytes, root: str, item: str) -> list[dict[str, str | None]]:
    """A list answer in XML as dicts of the items' fields' texts (None for an empty element)."""
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = ElementTree.fromstring(data)
    assert tree.tag == root
    assert all(child.tag == item for child in tree)
    return [{field.tag: field.text for field in child} for child in tree]


def as_texts(item: dict[str, Any]) -> dict[str, str | None]:
    """A JSON item's fields as XML writes them: text, booleans as true/false, null as nothing."""
    def text(value: Any) -> str | None:
        if isinstance(value, bool):
            return "true" if value else "false"
        return None if value is None else str(value)

    return {key: text(value) for key, value in item.items()}
