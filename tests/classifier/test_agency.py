"""The agency model: text → the agency that answers such texts, stored with the topic model."""

from __future__ import annotations

import numpy as np
import pytest

from classifier import AgencyModel, Classifier, Dataset, ModelStore
from classifier.agency import enough_to_learn
from classifier.learning import retrain, split_examples

from .test_learning import CORPUS

WAGES = ["公司拖欠工资三个月", "老板欠薪不还", "工资一直拖着不发", "单位不给交社保", "社保断缴怎么补", "加班费不给算",
         "辞退不给补偿金", "劳动合同不签"]
BUSES = ["公交车太少要等半小时", "公交司机开车太猛", "公交站牌看不清", "公交线路绕得太远", "夜里没有公交车",
         "公交车经常不停站", "公交卡充值排队", "公交车太挤"]
NOISE = ["工地晚上打桩太吵", "夜里工地施工噪音大", "工地凌晨还在施工", "施工噪音吵得睡不着", "工地机器轰鸣扰民",
         "工地噪音投诉没人管", "施工噪音从早到晚", "工地半夜运渣土太吵"]
TOY = Dataset(WAGES + BUSES + NOISE, ["市人社局"] * 8 + ["市交通运输局"] * 8 + ["市生态环境局"] * 8)


def test_learns_a_separable_set_with_probabilities_that_sum_to_one():
    model = AgencyModel.train(TOY.texts, TOY.labels, source="toy")
    assert model.agencies == ["市交通运输局", "市人社局", "市生态环境局"]
    predicted, confidence = model.predict(["欠了两个月工资不发", "等公交车等了很久", "工地施工噪音太大"])
    assert predicted == ["市人社局", "市交通运输局", "市生态环境局"]
    assert all(c > 1 / 3 for c in confidence)
    proba = model.predict_proba(["欠了两个月工资不发", "随便说一句话"])
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.accuracy(TOY.texts, TOY.labels) == 1.0


def test_an_agency_with_too_few_examples_is_left_to_the_rules():
    texts = TOY.texts + ["小区物业乱收费", "物业不修电梯"]
    labels = TOY.labels + ["市住建局"] * 2
    model = AgencyModel.train(texts, labels)
    assert "市住建局" not in model.agencies
    assert model.metadata["left_out"] == ["市住建局"]

    assert not enough_to_learn(["市人社局"] * 20 + ["市住建局"] * 4)
    assert enough_to_learn(["市人社局"] * 5 + ["市住建局"] * 5)
    with pytest.raises(ValueError, match="at least 2 agencies"):
        AgencyModel.train(WAGES, ["市人社局"] * len(WAGES))


def many(dataset: Dataset, times: int = 4) -> Dataset:
    """Enough examples that the hash holds some out of every agency."""
    texts = [f"{text}，第{i}次反映" for i in range(times) for text in dataset.texts]
    return Dataset(texts, dataset.labels * times)


def test_one_version_holds_both_models_and_predictions_carry_the_agency(tmp_path):
    store = ModelStore(tmp_path)
    outcome = retrain(store, CORPUS, Dataset([], []), agencies=many(TOY))
    assert outcome.activated and outcome.agency.trained
    assert outcome.agency.held_out > 0 and outcome.agency.accuracy is not None
    entry = store.manifest()["versions"][outcome.version]
    assert entry["agency"]["agencies"] == ["市交通运输局", "市人社局", "市生态环境局"]
    assert entry["agency"]["evaluation"]["held_out_examples"] == outcome.agency.held_out

    loaded = store.load_version(outcome.version)
    assert loaded.agency is not None
    prediction = Classifier(loaded, version=outcome.version).predict("公司拖欠工资好几个月了")
    assert prediction.agency == "市人社局"
    assert 0 < prediction.agency_confidence <= 1
    assert prediction.as_dict()["agency"] == "市人社局"


def test_without_enough_agency_data_the_version_has_no_agency_model(tmp_path):
    store = ModelStore(tmp_path)
    outcome = retrain(store, CORPUS, Dataset([], []), agencies=Dataset(WAGES[:3], ["市人社局"] * 3))
    assert outcome.activated and not outcome.agency.trained
    assert "样本不足" in outcome.reason and "只按规则" in outcome.reason
    assert store.load_version(outcome.version).agency is None
    assert Classifier(store.load_version(outcome.version)).predict("拖欠工资").agency is None


def test_a_worse_agency_model_is_stored_but_not_activated(tmp_path):
    store = ModelStore(tmp_path)
    good = retrain(store, CORPUS, Dataset([], []), agencies=many(TOY))
    # Trained on swapped agencies, judged on the true ones: the new version is worse.
    train, held_out = split_examples(many(TOY))
    swap = {"市人社局": "市交通运输局", "市交通运输局": "市人社局", "市生态环境局": "市生态环境局"}
    mixed = Dataset(train.texts + held_out.texts, [swap[a] for a in train.labels] + held_out.labels)
    outcome = retrain(store, CORPUS, Dataset([], []), agencies=mixed)
    assert outcome.agency.accuracy < outcome.agency.active_accuracy
    assert not outcome.activated and store.active_version() == good.version
    assert "低于" in outcome.agency.reason
