"""Urgency and kind: explainable rules that say which words decided."""

from __future__ import annotations

from classifier.kind import guess_kind
from classifier.text import normalise
from classifier.urgency import assess_urgency


def test_danger_is_urgent_and_says_why():
    urgency = assess_urgency("楼道里闻到很浓的煤气味，好像煤气泄漏了，快来人！")
    assert urgency.urgent and "煤气泄漏" in urgency.words
    assert not assess_urgency("小区路灯坏了一个星期").urgent


def test_an_outage_of_water_power_gas_or_heating_is_a_days_matter_not_danger():
    urgency = assess_urgency("小区从昨天起停水，到现在还没来水，也没有通知。")
    assert not urgency.urgent and urgency.utility_words == ("停水",)
    assert assess_urgency("暖气不热，家里只有十度").utility_words == ("暖气不热",)
    assert assess_urgency("小区路灯坏了一个星期").utility_words == ()


def test_kind_follows_the_wording():
    assert guess_kind("请问社保断缴了怎么补？").kind == "consultation"
    assert guess_kind("建议在路口增设红绿灯").kind == "suggestion"
    assert guess_kind("举报工地夜间违规施工").kind == "complaint"
    assert guess_kind("路灯坏了").kind == "complaint"
    assert guess_kind("请问社保断缴了怎么补？").words == ("请问",)


def test_normalise_hides_phone_numbers_and_long_numbers():
    text = normalise("我的电话１３８００００００００，房号１２０３，欠薪５０００元")
    assert "13800000000" not in text and "电话" in text
    assert "5000" not in text
