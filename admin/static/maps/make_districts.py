"""Build the dashboard's schematic district map (示意图，非标准区划边界):
``hangzhou-districts.json``, a GeoJSON of the demo city's districts.

No downloaded map data: the outlines are made here from what the project
already has — each district's seat (``routing.dispatch.places.DISTRICT_CENTRES``)
— as the Voronoi cells of the seats (every place belongs to the nearest seat),
clipped to a city outline drawn from a handful of boundary points. The result
shows roughly where each district lies and how large it is; its borders are
not the official ones, and the map says so.

Run from the repository's root: ``python3 admin/static/maps/make_districts.py``.
A test checks the committed file is what this script makes.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import Voronoi

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from routing.dispatch.places import DISTRICT_CENTRES

OUTPUT = Path(__file__).with_name("hangzhou-districts.json")
# The city's outline, schematic: (longitude, latitude), anticlockwise from the west.
OUTLINE = [
    (118.35, 29.45),
    (118.75, 29.25),
    (119.25, 29.20),
    (119.60, 29.35),
    (119.85, 29.50),
    (119.95, 29.75),
    (120.20, 29.85),
    (120.45, 29.95),
    (120.50, 30.15),
    (120.72, 30.25),
    (120.70, 30.38),
    (120.45, 30.48),
    (120.10, 30.55),
    (119.85, 30.45),
    (119.45, 30.58),
    (119.05, 30.40),
    (118.75, 30.05),
    (118.50, 29.75),
]
# Degrees of longitude are shorter than those of latitude here: cells are cut in kilometres, not degrees.
SQUEEZE = math.cos(math.radians(30))
DIGITS = 4


def _inside(point, a, b) -> bool:
    # Left of the edge a→b (cells run anticlockwise).
    return (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]) >= 0


def _crossing(p, q, a, b):
    dx, dy = q[0] - p[0], q[1] - p[1]
    ex, ey = b[0] - a[0], b[1] - a[1]
    t = ((a[0] - p[0]) * ey - (a[1] - p[1]) * ex) / (dx * ey - dy * ex)
    return (p[0] + t * dx, p[1] + t * dy)


def clip(subject: list, cell: list) -> list:
    """Sutherland–Hodgman: the part of ``subject`` inside the convex ``cell``."""
    output = subject
    for a, b in zip(cell, cell[1:] + cell[:1]):
        points, output = output, []
        for p, q in zip(points, points[1:] + points[:1]):
            if _inside(q, a, b):
                if not _inside(p, a, b):
                    output.append(_crossing(p, q, a, b))
                output.append(q)
            elif _inside(p, a, b):
                output.append(_crossing(p, q, a, b))
        if not output:
            break
    return output


def _anticlockwise(points: list) -> list:
    area = sum(p[0] * q[1] - q[0] * p[1] for p, q in zip(points, points[1:] + points[:1]))
    return points if area > 0 else points[::-1]


def districts() -> dict:
    names = list(DISTRICT_CENTRES)
    seats = [(lon * SQUEEZE, lat) for lat, lon in DISTRICT_CENTRES.values()]
    # Four seats far away close every real seat's cell.
    far = [(-1000.0, -1000.0), (1000.0, -1000.0), (1000.0, 1000.0), (-1000.0, 1000.0)]
    diagram = Voronoi(np.array(seats + far))
    outline = _anticlockwise([(lon * SQUEEZE, lat) for lon, lat in OUTLINE])
    features = []
    for index, name in enumerate(names):
        region = diagram.regions[diagram.point_region[index]]
        cell = _anticlockwise([tuple(diagram.vertices[v]) for v in region])
        ring = [[round(x / SQUEEZE, DIGITS), round(y, DIGITS)] for x, y in clip(outline, cell)]
        lat, lon = DISTRICT_CENTRES[name]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "cp": [lon, lat]},
                "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def text() -> str:
    return json.dumps(districts(), ensure_ascii=False, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(text(), encoding="utf-8")
    print(f"{OUTPUT.name}: {len(DISTRICT_CENTRES)} districts")
