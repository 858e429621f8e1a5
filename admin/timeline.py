"""The timeline's details (处理记录的详情) and its times, as a person reads them.

An event keeps what the step knew in a JSON ``detail``; the ticket page shows
each part under its name, dates as dates and codes as their labels, never the
JSON itself: staff read ``答复时限 2026-12-04 17:30``, not
``"answer_by": "2026-12-04T17:30:00"``. Parts that only link records
(a rule's or an agency's id) or repeat what the row already says are left out.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import gettext
from markupsafe import Markup

from routing.flow.ratings import RATINGS
from routing.reports.stats import CHANNEL_LABELS
from routing.store.tickets import KIND_LABELS, Kind
from routing.texts import N_

DETAIL_LABELS = {
    "agency": N_("承办单位"),
    "to": N_("接收单位"),
    "assisting": N_("协办单位"),
    "channel": N_("渠道"),
    "prediction": N_("自动分类"),
    "accept_by": N_("签收时限"),
    "answer_by": N_("答复时限"),
    "answer_by_before": N_("原答复时限"),
    "until": N_("延期至"),
    "due_at": N_("到期时间"),
    "deadline": N_("时限"),
    "ruling_by": N_("裁定时限"),
    "disputed_at": N_("申请时间"),
    "waited_working_hours": N_("等待（工作小时）"),
    "paused_working_days": N_("暂停（工作日）"),
    "ruling": N_("裁定"),
    "dispute": N_("派单争议"),
    "reason_label": N_("理由"),
    "basis": N_("依据"),
    "proposed": N_("建议的责任单位"),
    "answer": N_("答复"),
    "previous_answer": N_("原答复"),
    "grade": N_("办理结果"),
    "citation": N_("依据"),
    "signed_by": N_("签发人"),
    "label": N_("评价"),
    "reached": N_("联系上"),
    "solved": N_("已解决"),
    "satisfied": N_("满意"),
    "try": N_("第几次回访"),
    "attempts": N_("已尝试次数"),
    "callback": N_("回访"),
    "ticket": N_("相关工单"),
    "into": N_("并入工单"),
    "from": N_("原工单"),
    "answered_with": N_("随同答复的工单"),
    "redo": N_("重办"),
    "title": N_("文章标题"),
    "article_agency": N_("文章所属单位"),
    "district": N_("区县"),
    "street": N_("街道"),
    "keywords": N_("关键词"),
    "held_on": N_("日期"),
    "way": N_("方式"),
    "station": N_("联络站"),
    "constituents": N_("群众人数"),
    "kind": N_("诉求类型"),
}

# Codes stored as values, by the key they are stored under.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "channel": CHANNEL_LABELS,
    "deadline": {"accept": N_("签收时限"), "answer": N_("答复时限")},
    "ruling": {"upheld": N_("争议成立"), "rejected": N_("争议不成立")},
    "dispute": {"upheld": N_("争议成立"), "rejected": N_("争议不成立")},
    "callback": {"unreached": N_("未联系上")},
    "rating": RATINGS,
    "kind": {kind.value: KIND_LABELS[kind] for kind in Kind},
}

# Values stored as a label of the interface (a dispute's or a return's reason, a rating, a consultation's way).
LABELLED = {"reason_label", "label", "way"}

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def when(value: datetime | date | None, pattern: str = "%Y-%m-%d %H:%M") -> Markup:
    """A time as a ``<time>`` element: it never breaks at its hyphens (app.css)."""
    if value is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), value.strftime(pattern))


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, list):
        return "、".join(_value(key, v) for v in value)
    if isinstance(value, str) and ISO_TIME.match(value):
        return value[:16].replace("T", " ")
    if isinstance(value, str) and value in VALUE_LABELS.get(key, {}):
        return gettext(VALUE_LABELS[key][value])
    if isinstance(value, str) and key in LABELLED:
        return gettext(value)
    return str(value)


def _prediction(value: dict) -> str:
    topic = " / ".join(part for part in (value.get("topic"), value.get("subtopic")) if part) or gettext("未确定")
    shown = gettext("%(topic)s（把握 %(share)s%%）", topic=topic, share=round(100 * (value.get("confidence") or 0)))
    if value.get("agency"):
        shown += " · " + value["agency"]
    return shown


def detail_lines(detail: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The parts of an event's detail a person reads: (label, value), in the order stored."""
    lines = []
    for key, value in (detail or {}).items():
        if key not in DETAIL_LABELS or value is None or value == "" or value == []:
            continue
        shown = _prediction(value) if key == "prediction" and isinstance(value, dict) else _value(key, value)
        lines.append((gettext(DETAIL_LABELS[key]), shown))
    return lines


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["detail_lines"] = detail_lines

