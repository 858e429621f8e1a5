"""The timeline as staff read it: an event's detail under names, times as
times, codes as their labels, and who took the step with their role in the
reader's language — never the stored JSON or a code."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale

from admin.badges import actor_name
from admin.timeline import detail_lines, when

EXTENDED = {"until": "2026-12-24T17:30:00", "answer_by_before": "2026-12-04T17:30:00"}
DISPUTED = {
    "agency": "西湖区人民政府",
    "reason_class": "not_our_duty",
    "reason_label": "非本单位职责",
    "proposed_id": 7,
    "ruling_by": "2026-12-03T12:30:00",
}


def test_an_extensions_detail_reads_as_dates_under_their_names(app):
    with app.test_request_context():
        assert detail_lines(EXTENDED) == [("延期至", "2026-12-24 17:30"), ("原答复时限", "2026-12-04 17:30")]
        with force_locale("en"):
            assert detail_lines(EXTENDED) == [("Extend to", "2026-12-24 17:30"), ("Answer by, before", "2026-12-04 17:30")]


def test_codes_and_record_ids_are_not_shown(app):
    with app.test_request_context():
        lines = dict(detail_lines(DISPUTED))
    assert lines == {"承办单位": "西湖区人民政府", "理由": "非本单位职责", "裁定时限": "2026-12-03 12:30"}
    assert "not_our_duty" not in " ".join(lines.values())
    with app.test_request_context(), force_locale("en"):
        assert dict(detail_lines(DISPUTED))["Reason"] == "Not our duty"


def test_coded_values_are_shown_by_their_labels(app):
    detail = {"channel": "wechat", "deadline": "answer", "reached": False, "ruling": "upheld"}
    with app.test_request_context(), force_locale("en"):
        assert dict(detail_lines(detail)) == {
            "Channel": "WeChat official account", "Deadline": "Answer by", "Reached": "no", "Ruling": "Dispute upheld",
        }


def test_the_classifiers_reading_is_one_line(app):
    prediction = {"topic": "城乡建设", "subtopic": "市政设施", "confidence": 0.834, "alternatives": [["交通运输", 0.1]]}
    with app.test_request_context():
        assert detail_lines({"prediction": prediction}) == [("自动分类", "城乡建设 / 市政设施（把握 83%）")]


def test_a_time_is_a_time_element_and_nothing_is_a_dash():
    moment = datetime(2026, 12, 4, 17, 30)
    assert str(when(moment)) == '<time datetime="2026-12-04T17:30:00">2026-12-04 17:30</time>'
    assert str(when(moment, "%m-%d")) == '<time datetime="2026-12-04T17:30:00">12-04</time>'
    assert str(when(None)) == "—"


def test_the_actors_role_is_said_in_the_readers_language(app):
    with app.test_request_context(), force_locale("en"):
        assert actor_name("市住建局承办员（承办单位）") == "市住建局承办员 (Agency)"
        assert actor_name("分拨中心值班员（分拨员）") == "分拨中心值班员 (Dispatcher)"
        assert actor_name("张三") == "张三"
    with app.test_request_context(), force_locale("zh"):
        assert actor_name("市住建局承办员（承办单位）") == "市住建局承办员（承办单位）"
