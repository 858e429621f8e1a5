"""The dashboard's schematic district map is the project's own: made from the
district seats by admin/static/maps/make_districts.py, every district once."""

from __future__ import annotations

import importlib.util
import json
from itertools import pairwise
from pathlib import Path

from routing.dispatch.places import DISTRICT_CENTRES

MAPS = Path(__file__).parents[2] / "admin" / "static" / "maps"


def generator():
    spec = importlib.util.spec_from_file_location("make_districts", MAPS / "make_districts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inside(point, ring) -> bool:
    """Ray casting: is (lng, lat) within the polygon ``ring``?"""
    x, y, result = point[0], point[1], False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def test_the_committed_map_is_what_the_generator_makes():
    assert (MAPS / "hangzhou-districts.json").read_text(encoding="utf-8") == generator().text()


def test_every_district_is_drawn_once_around_its_seat():
    features = json.loads((MAPS / "hangzhou-districts.json").read_text(encoding="utf-8"))["features"]
    assert sorted(f["properties"]["name"] for f in features) == sorted(DISTRICT_CENTRES)
    for feature in features:
        lat, lon = DISTRICT_CENTRES[feature["properties"]["name"]]
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        assert inside((lon, lat), ring), feature["properties"]["name"]
