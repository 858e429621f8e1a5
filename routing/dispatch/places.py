"""Where the city's districts are (区县中心), for plotting tickets that name a
district but carry no coordinates of their own.

Approximate centres (WGS-84, the seat of each district's government after
Hangzhou's 2021 redistricting); a map of where matters arise needs no more
precision than a district.
"""

from __future__ import annotations

DISTRICT_CENTRES: dict[str, tuple[float, float]] = {
    # name: (latitude, longitude)
    "上城区": (30.2425, 120.1693),
    "拱墅区": (30.3197, 120.1417),
    "西湖区": (30.2595, 120.1300),
    "滨江区": (30.2084, 120.2119),
    "萧山区": (30.1830, 120.2645),
    "余杭区": (30.2737, 119.9782),
    "临平区": (30.4193, 120.2995),
    "钱塘区": (30.3226, 120.4929),
    "富阳区": (30.0490, 119.9602),
    "临安区": (30.2337, 119.7247),
    "桐庐县": (29.7971, 119.6911),
    "淳安县": (29.6087, 119.0422),
    "建德市": (29.4746, 119.2818),
}


def district_centre(name: str | None) -> tuple[float, float] | None:
    """The district's centre, or None for a name the city does not have."""
    return DISTRICT_CENTRES.get(name) if name else None


def valid_coordinates(latitude: float | None, longitude: float | None) -> bool:
    """Both or neither, finite, and on the globe (NaN compares false to every bound)."""
    if latitude is None and longitude is None:
        return True
    try:
        return -90 <= float(latitude) <= 90 and -180 <= float(longitude) <= 180
    except (TypeError, ValueError, OverflowError):
        return False
