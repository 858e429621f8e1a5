"""Where a message is about: district (区县) and street (街道/乡镇) found in its text.

A gazetteer (地名库) of Hangzhou — districts, streets and towns, the short
names people use, landmarks and the names of districts merged in 2021 — read
from ``data/gazetteer.json``. Matching is longest-first, so 下沙街道 wins over
下沙 and 钱塘江 (a river, not 钱塘区) is read as what it is.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GAZETTEER_PATH = Path(__file__).parent / "data" / "gazetteer.json"


@dataclass(frozen=True)
class Place:
    """A district and street, each None when the text does not say."""

    district: str | None = None  # 区县
    street: str | None = None  # 街道、乡镇
    matched: tuple[str, ...] = ()  # the words in the text that said so, in order

    def __bool__(self) -> bool:
        return self.district is not None

    @property
    def label(self) -> str:
        return "".join(part for part in (self.district, self.street) if part)


@dataclass(frozen=True)
class _Name:
    """What one surface form in a text points at."""

    district: str | None
    street: str | None
    explicit_district: bool  # the district itself was named, not inferred


class GazetteerError(ValueError):
    """The gazetteer file is not what the loader expects; the message says where."""


class Gazetteer:
    def __init__(self, data: dict) -> None:
        try:
            self._streets: dict[str, list[str]] = {
                d["name"]: list(d.get("streets", [])) for d in data["districts"]
            }
            names: dict[str, _Name] = {}
            for district in data["districts"]:
                name = district["name"]
                for surface in (name, *district.get("aliases", [])):
                    names[surface] = _Name(name, None, True)
                for street in district.get("streets", []):
                    names[street] = _Name(name, street, False)
                for landmark, street in district.get("landmarks", {}).items():
                    names[landmark] = _Name(name, street, False)
            for surface, district in data.get("former_names", {}).items():
                names[surface] = _Name(district, None, True)
            for short, street in data.get("street_short_names", {}).items():
                district = self._district_of(street)
                names.setdefault(short, _Name(district, street, False))
            for surface in data.get("not_places", []):
                names[surface] = _Name(None, None, False)
        except (KeyError, TypeError, AttributeError) as exc:
            raise GazetteerError(f"gazetteer is malformed near {exc!s}") from exc
        self._data = data
        self._names = names
        # Longest first: an alternation takes the first alternative that matches.
        self._pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Gazetteer:
        if path is None:
            return _default()
        return cls._read(Path(path))

    @classmethod
    def _read(cls, path: Path) -> Gazetteer:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise GazetteerError(f"cannot read gazetteer {path.name}: {exc}") from exc

    def merged(self, extra: dict) -> Gazetteer:
        """This gazetteer with ``extra`` (the same shape as the file) laid over
        it: a district of the same name gains its aliases, streets and
        landmarks, a new one is added. A name ``extra`` gives wins wherever
        this gazetteer used it for something else (another district's alias,
        a word that is no place), so what a city says of its places is what
        the detector reads. Itself when ``extra`` says nothing new."""
        if self._holds(extra):
            return self
        data = copy.deepcopy(self._data)
        try:
            ours = {district["name"]: district for district in data["districts"]}
            theirs = list(extra.get("districts", []))
            said = {surface for d in theirs for surface in (*d.get("aliases", []), *d.get("landmarks", {}))}
            said |= set(extra.get("former_names", {})) | set(extra.get("street_short_names", {}))
            for district in data["districts"]:
                district["aliases"] = [a for a in district.get("aliases", []) if a not in said]
                district["landmarks"] = {k: v for k, v in district.get("landmarks", {}).items() if k not in said}
            for key in ("former_names", "street_short_names"):
                data[key] = {k: v for k, v in data.get(key, {}).items() if k not in said} | extra.get(key, {})
            data["not_places"] = [w for w in data.get("not_places", []) if w not in said]
            for district in theirs:
                entry = ours.get(district["name"])
                if entry is None:
                    entry = ours[district["name"]] = {"name": district["name"], "aliases": [], "streets": []}
                    data["districts"].append(entry)
                entry["aliases"] = list(dict.fromkeys([*entry["aliases"], *district.get("aliases", [])]))
                entry["streets"] = list(dict.fromkeys([*entry.get("streets", []), *district.get("streets", [])]))
                entry["landmarks"] = entry.get("landmarks", {}) | district.get("landmarks", {})
        except (KeyError, TypeError, AttributeError) as exc:
            raise GazetteerError(f"extra gazetteer is malformed near {exc!s}") from exc
        return Gazetteer(data)

    def _holds(self, extra: dict) -> bool:
        """Whether every name ``extra`` gives already points where it says (a
        city's database that only repeats the shipped file, as the demo's does)."""
        if set(extra) - {"districts"}:
            return False
        for district in extra.get("districts", []):
            name = district.get("name")
            if name not in self._streets or not set(district.get("streets", [])) <= set(self._streets[name]):
                return False
            if any(self._names.get(a) != _Name(name, None, True) for a in district.get("aliases", [])):
                return False
            for landmark, street in district.get("landmarks", {}).items():
                if self._names.get(landmark) != _Name(name, street, False):
                    return False
        return True

    def _district_of(self, street: str) -> str:
        for district, streets in self._streets.items():
            if street in streets:
                return district
        raise GazetteerError(f"short name points at {street}, which no district has")

    def districts(self) -> list[str]:
        return list(self._streets)

    def streets(self, district: str) -> list[str]:
        return list(self._streets.get(district, []))

    def words(self) -> list[str]:
        """Every place word, for the tokenizer's dictionary."""
        return [surface for surface, name in self._names.items() if name.district is not None]

    def find(self, text: str) -> Place:
        mentions = [
            (m.group(0), self._names[m.group(0)])
            for m in self._pattern.finditer(text or "")
            if self._names[m.group(0)].district is not None
        ]
        if not mentions:
            return Place()
        named = [name.district for _, name in mentions if name.explicit_district]
        # A district the writer named outranks one inferred from a street:
        # "西湖区的文新街道" and "文新街道" agree, and when a text names a
        # district and a street elsewhere, the street is dropped, not the district.
        district = named[0] if named else mentions[0][1].district
        street = next(
            (name.street for _, name in mentions if name.street and name.district == district),
            None,
        )
        return Place(district, street, tuple(surface for surface, _ in mentions))


@lru_cache(maxsize=1)
def _default() -> Gazetteer:
    return Gazetteer._read(GAZETTEER_PATH)


def find_place(text: str) -> Place:
    """The place in ``text`` by the shipped gazetteer."""
    return _default().find(text)
