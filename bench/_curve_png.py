"""Curves in a PNG without a plotting library (none is installed here): a
white canvas, the y-axis from 0.5 to 1.0, dashed grey guide lines at the
goals, one coloured polyline per series. Colours, in order: blue, orange,
green, red. No text: the table beside the picture says what the values are."""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

WIDTH, HEIGHT, MARGIN = 720, 400, 30
BOTTOM, TOP = 0.5, 1.0
COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def _png(pixels: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def write_curves(
    path: Path, xs: Sequence[float], series: dict[str, Sequence[float]], guides: Sequence[float] = ()
) -> None:
    pixels = [bytearray(b"\xff" * (3 * WIDTH)) for _ in range(HEIGHT)]

    def dot(x: int, y: int, colour: tuple[int, int, int], size: int = 1) -> None:
        for dx in range(-size + 1, size):
            for dy in range(-size + 1, size):
                if 0 <= x + dx < WIDTH and 0 <= y + dy < HEIGHT:
                    pixels[y + dy][3 * (x + dx) : 3 * (x + dx) + 3] = bytes(colour)

    span = max(max(xs) - min(xs), 1)

    def at(x: float, y: float) -> tuple[int, int]:
        px = MARGIN + (x - min(xs)) / span * (WIDTH - 2 * MARGIN)
        y = min(max(y, BOTTOM), TOP)
        py = HEIGHT - MARGIN - (y - BOTTOM) / (TOP - BOTTOM) * (HEIGHT - 2 * MARGIN)
        return round(px), round(py)

    for x in range(MARGIN, WIDTH - MARGIN):  # axes
        dot(x, HEIGHT - MARGIN, (0, 0, 0))
    for y in range(MARGIN, HEIGHT - MARGIN + 1):
        dot(MARGIN, y, (0, 0, 0))
    for guide in guides:
        _, gy = at(min(xs), guide)
        for x in range(MARGIN, WIDTH - MARGIN, 6):
            for step in range(3):
                dot(x + step, gy, (170, 170, 170))
    for colour, values in zip(COLOURS, series.values(), strict=False):
        points = [at(x, y) for x, y in zip(xs, values, strict=True)]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for k in range(steps + 1):
                dot(round(x0 + (x1 - x0) * k / steps), round(y0 + (y1 - y0) * k / steps), colour, 2)
        for x, y in points:
            dot(x, y, colour, 4)
    path.write_bytes(_png(pixels))
