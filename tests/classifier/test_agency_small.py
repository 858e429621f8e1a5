"""The agency model on a city's first weeks (小样本): ten examples per agency."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifier import AgencyModel, Dataset, ModelStore, TopicModel
from classifier import agency as agency_module
from classifier.estimators import build_features
from classifier.text import normalise

from .test_learning import CORPUS

WAGES = [
    "公司拖欠工资三个月不发", "老板欠薪跑路了", "工地包工头不给农民工结工资", "单位一直不给交社保",
    "社保断缴了怎么补缴", "加班费公司从来不算", "被辞退了不给经济补偿金", "入职半年不签劳动合同", "试用期工资被克扣",
    "年底工资拖着不发",
]
BUSES = [
    "公交车太少要等半小时", "公交司机开车太猛乘客摔倒", "公交站牌上的字看不清", "公交线路绕得太远",
    "晚上九点以后没有公交车", "公交车经常过站不停", "公交卡充值点要排长队", "早高峰公交车挤不上去",
    "希望增开一条到地铁站的公交线", "公交车空调坏了很闷",
]
NOISE = [
    "工地晚上打桩太吵", "夜里工地施工噪音大", "工地凌晨还在施工", "施工噪音吵得睡不着", "工厂排放黑烟气味刺鼻",
    "河道里有工厂偷排污水", "饭店油烟直排进小区", "垃圾焚烧的烟飘过来", "工地扬尘太大没人洒水",
    "化工厂晚上偷偷排放废气",
]
FOOD = [
    "超市卖过期的牛奶", "饭店后厨卫生太差有老鼠", "买到的猪肉注水了", "菜市场的秤缺斤短两", "网上买的奶粉是假货",
    "药店卖的口罩是三无产品", "餐馆用地沟油", "商家虚假宣传不给退款", "蛋糕店的面包发霉了还在卖", "小卖部卖假烟",
]
AGENCIES = ["市人社局", "市交通运输局", "市生态环境局", "市市场监管局"]
TEN_EACH = Dataset(WAGES + BUSES + NOISE + FOOD, [a for a in AGENCIES for _ in range(10)])

# Said otherwise than any training text.
UNSEEN = {
    "厂里欠了我们两个月的工资": "市人社局",
    "等了四十分钟公交车都没来": "市交通运输局",
    "隔壁工地半夜施工太吵了": "市生态环境局",
    "超市里的酸奶过期了还在卖": "市市场监管局",
}


def test_ten_examples_per_agency_are_enough_to_name_the_agency_of_a_new_message():
    model = AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels, source="first weeks")
    assert model.agencies == sorted(AGENCIES)
    assert model.metadata["agency_counts"] == {agency: 10 for agency in AGENCIES}
    predicted, confidence = model.predict(list(UNSEEN))
    assert predicted == list(UNSEEN.values())
    assert all(1 / len(AGENCIES) < c <= 1 for c in confidence)


def test_probabilities_sum_to_one_and_come_from_one_svm_fitted_on_every_example():
    model = AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels)
    texts = [*UNSEEN, "随便说一句和谁都无关的话", ""]
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), len(AGENCIES))
    assert np.allclose(proba.sum(axis=1), 1.0) and (proba >= 0).all()
    # One SVM fitted on every example, its scores calibrated by sigmoid.
    calibrated = model.pipeline.named_steps["model"]
    assert len(calibrated.calibrated_classifiers_) == 1 and calibrated.method == "sigmoid"
    svm = calibrated.calibrated_classifiers_[0].estimator
    scores = svm.decision_function(model.pipeline.named_steps["features"].transform([normalise(t) for t in UNSEEN]))
    # Where the SVM is clear, the probabilities agree with it.
    assert (scores.argmax(axis=1) == proba[: len(UNSEEN)].argmax(axis=1)).all()


def test_the_one_message_path_gives_the_pipelines_probabilities():
    model = AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels)
    assert model.lean is not None
    texts = [normalise(t) for t in UNSEEN]
    assert np.allclose(model.lean.predict_proba(texts), model.pipeline.predict_proba(texts), rtol=1e-9, atol=1e-12)


def test_the_same_examples_and_seed_give_the_same_model():
    first = AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels, seed=7)
    again = AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels, seed=7)
    assert np.array_equal(first.predict_proba(list(UNSEEN)), again.predict_proba(list(UNSEEN)))


def test_small_data_keeps_every_term_and_large_data_drops_terms_seen_once(monkeypatch):
    def min_dfs(model: AgencyModel) -> set[int]:
        return {part.min_df for _, part in model.pipeline.named_steps["features"].transformer_list}

    assert min_dfs(AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels)) == {1}
    monkeypatch.setattr(agency_module, "PRUNE_FROM", len(TEN_EACH))
    assert min_dfs(AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels)) == {2}


def topic_model_with(agency: AgencyModel) -> TopicModel:
    topic = TopicModel.train(CORPUS.texts, CORPUS.labels, routing_folds=0)
    topic.agency = agency
    return topic


def test_the_agency_model_loads_from_the_store_with_its_answers(tmp_path):
    agency = AgencyModel.train(TEN_EACH.texts, TEN_EACH.labels)
    store = ModelStore(tmp_path)
    version = store.save(topic_model_with(agency))
    loaded = store.load_version(version).agency
    assert loaded is not None and loaded.lean is not None
    assert loaded.agencies == agency.agencies
    assert np.array_equal(loaded.predict_proba(list(UNSEEN)), agency.predict_proba(list(UNSEEN)))


def test_an_agency_model_stored_before_the_small_data_learner_still_loads_and_answers(tmp_path):
    """Versions trained before: the topic model's features (sublinear counts)
    and a sigmoid-calibrated logistic regression."""
    old = Pipeline(
        [
            ("features", build_features(1)),
            (
                "model",
                CalibratedClassifierCV(
                    LogisticRegression(C=10.0, class_weight="balanced", max_iter=500, tol=1e-3), method="sigmoid", cv=5
                ),
            ),
        ]
    ).fit([normalise(t) for t in TEN_EACH.texts], TEN_EACH.labels)
    store = ModelStore(tmp_path)
    version = store.save(topic_model_with(AgencyModel(old, {"agencies": sorted(AGENCIES)})))
    loaded = store.load_version(version).agency
    assert loaded is not None and loaded.lean is not None
    proba = loaded.predict_proba(list(UNSEEN))
    assert np.allclose(proba, old.predict_proba([normalise(t) for t in UNSEEN]))
    assert np.allclose(proba.sum(axis=1), 1.0)
