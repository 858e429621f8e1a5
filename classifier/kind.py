"""Kind of request (诉求类型): consultation, help, suggestion or complaint.

A transparent rule on the wording: the kind sets the deadline, and a
dispatcher must be able to see why a ticket got the one it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("complaint", ("投诉", "举报", "曝光", "强烈要求", "严重", "违规", "违法")),
    ("help", ("求助", "求救", "帮帮", "帮忙", "救助")),
    ("suggestion", ("建议", "希望能", "提议", "可否", "能否")),
    ("consultation", ("咨询", "请问", "问一下", "想了解", "怎么办理", "如何办理", "是否可以", "需要什么材料")),
)
_PATTERNS = [(kind, re.compile("|".join(map(re.escape, words)))) for kind, words in _RULES]


@dataclass(frozen=True)
class KindGuess:
    kind: str
    words: tuple[str, ...]


def guess_kind(text: str) -> KindGuess:
    """The first rule whose words occur decides; a plain statement of a problem
    is a complaint, the kind with the longest deadline."""
    for kind, pattern in _PATTERNS:
        found = tuple(dict.fromkeys(pattern.findall(text)))
        if found:
            return KindGuess(kind, found)
    return KindGuess("complaint", ())
