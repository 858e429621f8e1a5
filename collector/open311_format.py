"""Open311's two formats: the same answer as JSON or as XML (GeoReport v2).

JSON is the body as it is. XML follows the specification's examples: a root
element named for the answer (``services``, ``service_requests``,
``discovery``), each item of a list an element named for its kind (a
``service``, a ``request``), each field an element, an empty one for null.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from flask import Response

from routing.flow.inbound import storable

MIMETYPES = {"json": "application/json", "xml": "text/xml"}
# XML is the format the specification requires; JSON is on offer too.
DEFAULT_FORMAT = "xml"
# What each element of a list is called in XML, by the list's name.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def render(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    """``body`` in ``fmt`` (json or xml), in UTF-8; XML under ``root``."""
    if fmt == "json":
        data = json.dumps(body, ensure_ascii=False)
    else:
        fmt = "xml"
        data = '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(element(root, body), encoding="unicode")
    return Response(data, status=status, content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> Response:
    """The specification's error answer: a list of one error with its code."""
    return render(fmt, "errors", [{"code": status, "description": description}], status)


def element(name: str, value: Any) -> ElementTree.Element:
    node = ElementTree.Element(name)
    if isinstance(value, dict):
        node.extend(element(key, item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        node.extend(element(ITEMS.get(name, "item"), item) for item in value)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        # XML cannot hold a control character, even one a client sent and an error repeats.
        node.text = storable(str(value))
    return node
