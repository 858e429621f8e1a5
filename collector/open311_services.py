"""Open311 service types (服务类型): the classifier's topics as GeoReport v2 services.

Each topic the classifier knows (一级/二级, e.g. 城乡建设/物业管理) is one
service, in the group of its first level. Its code is the first ten hex
digits of the SHA-256 of the label, so that the same topic has the same code
on every installation and after every retraining, with no table to keep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

LEVEL_SEPARATOR = "/"
# Tickets no one has classified yet (a dispatcher decides): a code of their own,
# so that a client can ask for them; no one can raise a request of this type.
UNCLASSIFIED_CODE = "unclassified"
UNCLASSIFIED_NAME = "未确定"
# Type "realtime": the request's id (the ticket number) is in the answer to its
# POST; "batch" would answer with a token to exchange later for the id.
SERVICE_TYPE = "realtime"


def code_of(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Service:
    """One service type: a topic and, mostly, its second level."""

    code: str
    topic: str | None
    subtopic: str | None = None

    @classmethod
    def of(cls, topic: str | None, subtopic: str | None = None) -> Service:
        if topic is None:
            return UNCLASSIFIED
        label = f"{topic}{LEVEL_SEPARATOR}{subtopic}" if subtopic else topic
        return cls(code_of(label), topic, subtopic)

    @property
    def name(self) -> str:
        if self.topic is None:
            return UNCLASSIFIED_NAME
        return f"{self.topic} / {self.subtopic}" if self.subtopic else self.topic

    def as_dict(self) -> dict[str, Any]:
        """The service as GET services lists it."""
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": f"反映{self.topic}方面（{self.subtopic or '其他'}）的问题、意见或建议。",
            # No attributes: the description, the place and the contact say everything.
            "metadata": False,
            "type": SERVICE_TYPE,
            "keywords": ", ".join(word for word in (self.topic, self.subtopic) if word),
            "group": self.topic,
        }

    def definition(self) -> dict[str, Any]:
        """GET services/{code}: the service's attributes (none)."""
        return {"service_code": self.code, "attributes": []}


UNCLASSIFIED = Service(UNCLASSIFIED_CODE, None)


@dataclass(frozen=True)
class Catalogue:
    """The services on offer, from the labels the active model knows."""

    services: tuple[Service, ...]

    @classmethod
    def of(cls, labels: Iterable[str]) -> Catalogue:
        services = {Service.of(*_levels(label)) for label in labels if label.strip()}
        return cls(tuple(sorted(services, key=lambda s: (s.topic or "", s.subtopic or ""))))

    def find(self, code: str | None) -> Service | None:
        """The service with this code; None when no service has it."""
        return next((s for s in self.services if s.code == code), None)

    def wanted(self, code: str | None) -> Service | None:
        """The service a query asks for: one on offer, or the unclassified tickets."""
        return UNCLASSIFIED if code == UNCLASSIFIED_CODE else self.find(code)


def _levels(label: str) -> tuple[str, str | None]:
    topic, _, subtopic = label.strip().partition(LEVEL_SEPARATOR)
    return topic, subtopic or None
