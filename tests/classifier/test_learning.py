"""Retraining from corrections: held-out examples decide whether a new model is used."""

from __future__ import annotations

import pytest

from classifier import Dataset, ModelStore
from classifier.learning import is_held_out, retrain, split_examples

CORPUS = Dataset(
    [
        "小区物业乱收停车费", "物业公司不作为，电梯坏了没人修", "物业费年年涨，服务越来越差",
        "工厂排放黑烟，空气很臭", "化工厂废气刺鼻，晚上排放", "烧垃圾的黑烟飘进小区",
        "公交车司机开车太猛", "公交线路太少，等车要半小时", "建议增开公交夜班车",
    ],
    ["城乡建设/物业管理"] * 3 + ["环境保护/大气污染"] * 3 + ["交通运输/公交"] * 3,
)


def corrections(label: str, n: int = 60) -> Dataset:
    texts = [f"第{i}号楼的物业管理混乱，物业费收了不办事" for i in range(n)]
    return Dataset(texts, [label] * n)


def test_held_out_examples_are_chosen_by_text_and_never_change():
    texts = [f"反映第{i}件事" for i in range(1000)]
    held = [t for t in texts if is_held_out(t)]
    assert 150 <= len(held) <= 250
    assert held == [t for t in texts if is_held_out(t)]
    train, held_out = split_examples(Dataset(texts, ["其他/咨询"] * 1000))
    assert len(train) + len(held_out) == 1000 and set(held_out.texts) == set(held)


def test_a_model_that_does_as_well_on_held_out_corrections_is_activated(tmp_path):
    store = ModelStore(tmp_path)
    first = retrain(store, CORPUS, Dataset([], []))
    assert first.activated and first.held_out == 0

    second = retrain(store, CORPUS, corrections("城乡建设/物业管理"))
    assert second.held_out > 0 and second.corrections_trained > 0
    assert second.accuracy == pytest.approx(1.0)
    assert second.activated and store.active_version() == second.version
    assert "不低于" in second.reason
    evaluation = store.manifest()["versions"][second.version]["metadata"]["evaluation"]
    assert evaluation["compared_with"] == first.version


def test_a_model_that_does_worse_is_stored_but_not_activated(tmp_path):
    store = ModelStore(tmp_path)
    good = retrain(store, CORPUS, Dataset([], []))
    # Wrong corrections to train on, right ones held out: the new model learns the mistake.
    bad = corrections("交通运输/公交")
    train, held_out = split_examples(bad)
    mixed = Dataset(train.texts + held_out.texts, train.labels + ["城乡建设/物业管理"] * len(held_out))
    outcome = retrain(store, CORPUS, mixed)
    assert outcome.accuracy < outcome.active_accuracy
    assert not outcome.activated
    assert store.active_version() == good.version
    assert outcome.version in store.manifest()["versions"]  # kept, for an administrator to look at
    assert "低于" in outcome.reason


def test_closed_tickets_are_trained_on_in_full_and_never_judge(tmp_path):
    store = ModelStore(tmp_path)
    outcome = retrain(store, CORPUS, Dataset([], []), closed=corrections("城乡建设/物业管理", 10))
    assert outcome.closed_trained == 10 and outcome.held_out == 0
    assert outcome.trained_on == len(CORPUS) + 10
    assert "10 closed tickets" in store.manifest()["versions"][outcome.version]["metadata"]["source"]
