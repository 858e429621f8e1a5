"""Texts about the same matter are found; texts about other matters are not."""

from __future__ import annotations

from classifier.similar import hot_groups, most_similar

STREETLIGHT = [
    "拱墅区米市巷街道大关路的路灯坏了一个星期，晚上很黑",
    "米市巷街道大关路上路灯不亮了，好几天了，请尽快修",
    "大关路路灯一到晚上就不亮，米市巷街道的居民出行不便",
]
OTHERS = ["西湖区文新街道某小区物业乱收停车费", "公司拖欠工资三个月", "滨江区长河街道工地夜间施工噪音扰民"]


def test_the_same_matter_retold_is_found_and_other_matters_are_not():
    candidates = [OTHERS[0], STREETLIGHT[0], OTHERS[1], STREETLIGHT[1], OTHERS[2]]
    found = most_similar("拱墅区大关路路灯坏了没人修，米市巷街道", candidates)
    assert [i for i, _ in found] == [1, 3]
    assert all(0 < score <= 1 for _, score in found)
    assert most_similar("我想问问社保怎么交", candidates) == []
    assert most_similar("", candidates) == [] and most_similar("路灯坏了", []) == []


def test_a_matter_many_residents_raise_is_a_hot_issue():
    texts = [OTHERS[0], *STREETLIGHT, OTHERS[1], "文新街道小区物业停车费涨价太离谱"]
    assert hot_groups(texts) == [[1, 2, 3]]
    assert hot_groups(texts, min_size=4) == []
