"""Urgency (紧急程度): an explainable rule, not a guess.

A message that speaks of danger to people or property gets the shortest
deadline and alerts the dispatcher at once; the words that triggered it are
reported, so a dispatcher can see why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words of immediate danger. Kept short and concrete: every false alarm costs
# a dispatcher's attention, every miss can cost much more.
DANGER_WORDS = (
    "煤气泄漏", "燃气泄漏", "天然气泄漏", "漏气", "闻到煤气", "闻到燃气",
    "着火", "起火", "火灾", "冒烟", "爆炸",
    "有人被困", "被困", "溺水", "落水", "昏倒", "晕倒", "生命危险", "救命",
    "高空坠物", "坠落", "随时倒塌", "倒塌", "塌陷", "塌方", "山体滑坡",
    "漏电", "电线裸露", "触电",
    "内涝", "淹水", "积水倒灌", "水管爆裂", "爆管",
    "井盖丢失", "井盖缺失",
)

# No water, power, gas or heating (水电气热): not a danger, but a day's matter
# (Beijing answers these within 24 hours), not weeks.
UTILITY_WORDS = (
    "停水", "断水", "水压低", "停电", "断电", "停气", "没有燃气",
    "停暖", "暖气不热", "没有暖气", "供暖中断",
)


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, words), key=len, reverse=True)))


_PATTERN = _pattern(DANGER_WORDS)
_UTILITY = _pattern(UTILITY_WORDS)


@dataclass(frozen=True)
class Urgency:
    urgent: bool
    words: tuple[str, ...]
    utility_words: tuple[str, ...] = ()


def assess_urgency(text: str) -> Urgency:
    words = tuple(dict.fromkeys(_PATTERN.findall(text)))
    return Urgency(urgent=bool(words), words=words, utility_words=tuple(dict.fromkeys(_UTILITY.findall(text))))
