"""The topic model, its store and its evaluation, on small data made here."""

from __future__ import annotations

import csv
import json

import joblib
import numpy as np
import pytest
from openpyxl import Workbook

from classifier import Classifier, DatasetError, ModelStore, TopicModel, UntrustedModel, read_dataset
from classifier.evaluate import evaluate
from classifier.estimators import pipeline_proba
from classifier.store import ActiveModel
from classifier.text import normalise

TRAINING = [
    ("小区物业乱收停车费", "城乡建设/物业管理"),
    ("物业公司不作为，电梯坏了没人修", "城乡建设/物业管理"),
    ("物业费年年涨，服务越来越差", "城乡建设/物业管理"),
    ("楼顶违章搭建阳光房", "城乡建设/违章建筑"),
    ("邻居在屋顶违建，影响采光", "城乡建设/违章建筑"),
    ("违章建筑占用消防通道", "城乡建设/违章建筑"),
    ("工厂排放黑烟，空气很臭", "环境保护/大气污染"),
    ("化工厂废气刺鼻，晚上排放", "环境保护/大气污染"),
    ("烧垃圾的黑烟飘进小区", "环境保护/大气污染"),
    ("公交车司机开车太猛", "交通运输/公交"),
    ("公交线路太少，等车要半小时", "交通运输/公交"),
    ("建议增开公交夜班车", "交通运输/公交"),
]


@pytest.fixture(scope="module")
def model() -> TopicModel:
    texts, labels = zip(*TRAINING, strict=True)
    return TopicModel.train(list(texts), list(labels), source="test")


def test_two_level_labels_give_both_levels_with_consistent_confidence(model):
    prediction = Classifier(model).predict("物业又乱收停车费了")
    assert prediction.topic == "城乡建设"
    assert prediction.subtopic == "物业管理"
    assert 0 < prediction.subtopic_confidence <= prediction.confidence <= 1
    top_labels = [label for label, _ in prediction.alternatives]
    assert top_labels[0] == "城乡建设/物业管理"


def test_several_texts_at_once_read_as_each_would_alone(model):
    texts = ["物业又乱收停车费了", "西湖区文新街道化工厂晚上排放废气", "建议增开公交夜班车，煤气泄漏了"]
    classifier = Classifier(model)
    together = classifier.predict_many(texts)
    alone = [classifier.predict(text) for text in texts]
    assert [p.as_dict() for p in together] == [p.as_dict() for p in alone]
    assert together[1].place.district == "西湖区" and together[2].urgent
    assert Classifier(None).predict_many(texts)[0].topic is None


def test_first_level_probability_is_the_sum_of_its_second_levels(model):
    proba = model.predict_proba(["公交车太少"])
    tops, top_proba = model.first_level_proba(proba)
    assert tops == ["交通运输", "城乡建设", "环境保护"]
    assert top_proba.sum() == pytest.approx(1.0)
    index = model.labels.index
    assert top_proba[0][1] == pytest.approx(proba[0][index("城乡建设/物业管理")] + proba[0][index("城乡建设/违章建筑")])


def test_predictions_can_be_restricted_to_the_datas_labels(model):
    labels, confidence = model.predict(["公交车太少"], level="topic", restrict_to=["城乡建设", "环境保护"])
    assert labels[0] in {"城乡建设", "环境保护"}
    with pytest.raises(ValueError):
        model.predict(["x"], level="topic", restrict_to=["教育文体"])


def test_training_needs_two_labels():
    with pytest.raises(ValueError):
        TopicModel.train(["一", "二"], ["甲", "甲"])


def test_the_store_loads_only_what_this_installation_wrote(tmp_path, model):
    store = ModelStore(tmp_path / "store")
    version = store.save(model)
    assert store.active_version() == version
    assert store.load_version(version).labels == model.labels

    outside = tmp_path / "elsewhere.joblib"
    store.save(model, path=outside)
    assert store.load_file(outside).labels == model.labels

    stranger = tmp_path / "stranger.joblib"
    stranger.write_bytes(outside.read_bytes())
    with pytest.raises(UntrustedModel):
        store.load_file(stranger)
    outside.write_bytes(outside.read_bytes() + b"tampered")
    with pytest.raises(UntrustedModel):
        store.load_file(outside)


def test_a_model_stored_before_its_building_blocks_moved_still_loads(tmp_path, model, monkeypatch):
    """Older versions pickled the estimators as ``classifier.model.…``: a
    city's trained model must load after the move to ``classifier.estimators``."""
    import classifier.model
    from classifier import estimators

    moved = ("TwoLevelClassifier", "SvmWithNaiveBayes", "KeepBestFeatures")
    with monkeypatch.context() as old_layout:
        for name in moved:
            old_layout.setattr(getattr(estimators, name), "__module__", "classifier.model")
            old_layout.setattr(classifier.model, name, getattr(estimators, name), raising=False)
        store = ModelStore(tmp_path)
        version = store.save(model)
    with pytest.raises(AttributeError, match="classifier.model"):  # as plain joblib sees the file now
        joblib.load(tmp_path / "versions" / f"{version}.joblib")
    loaded = store.load_version(version)
    texts = ["小区物业乱收停车费", "工厂晚上排放废气"]
    assert loaded.predict(texts)[0] == model.predict(texts)[0]
    assert type(loaded.pipeline.named_steps["model"]) is estimators.TwoLevelClassifier


def test_a_running_process_picks_up_a_newly_activated_model(tmp_path, model):
    store = ModelStore(tmp_path)
    first = store.save(model)
    active = ActiveModel(store, check_every=0)
    assert active.get()[0] == first
    second = store.save(model)
    assert active.get()[0] == second
    store.activate(first)  # roll back
    assert active.get()[0] == first


def test_evaluation_reports_the_figures_the_cli_prints(model):
    from classifier import Dataset

    data = Dataset(["物业乱收费", "工厂排黑烟", "公交车太少", "违章搭建"], ["城乡建设", "环境保护", "交通运输", "城乡建设"])
    result = evaluate(model, data)
    assert result["level"] == "topic"
    assert set(result) >= {"accuracy", "macro_f1", "per_class", "confusion_matrix", "coverage_accuracy", "messages_per_second"}
    assert 0 <= result["macro_f1"] <= 1 and result["n"] == 4
    matrix = result["confusion_matrix"]
    assert sum(map(sum, matrix["matrix"])) == 4
    assert result["coverage_accuracy"][0] == {"threshold": 0.0, "coverage": 1.0, "accuracy": result["accuracy"], "to_triage": 0}
    json.dumps(result)  # printable as JSON


def test_choosing_among_the_datas_labels_leaves_the_triage_figures_as_intake_sees_them(model):
    """Renormalised over two labels, every confidence is at least 0.5: the
    share above the threshold must be of the model's own confidence, the one
    intake compares with the threshold, not of the renormalised one."""
    from classifier import Dataset

    data = Dataset(
        ["物业乱收费", "工厂排黑烟", "你好，请问这里可以反映什么问题？", "我想咨询一下", "违章搭建", "排放黑烟"],
        ["城乡建设", "环境保护", "城乡建设", "环境保护", "城乡建设", "环境保护"],
    )
    own = evaluate(model, data)
    restricted = evaluate(model, data, labels_from_data=True)
    assert restricted["coverage_accuracy"] == own["coverage_accuracy"]
    # The data has messages intake would send to a dispatcher at some threshold.
    assert any(row["to_triage"] for row in own["coverage_accuracy"])
    assert restricted["labels_from_data"] and set(restricted["per_class"]) == {"城乡建设", "环境保护"}


def test_datasets_read_from_csv_and_xlsx(tmp_path):
    path = tmp_path / "data.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "label"])
        writer.writerows([[1, "物业乱收费", "城乡建设"], [2, "", "城乡建设"], [3, "排黑烟", "环境保护"]])
    data = read_dataset(path)
    assert data.texts == ["物业乱收费", "排黑烟"] and data.labels == ["城乡建设", "环境保护"]

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["text", "label"])
    sheet.append(["公交车太少", "交通运输"])
    workbook.save(tmp_path / "data.xlsx")
    assert read_dataset(tmp_path / "data.xlsx").labels == ["交通运输"]


def test_unreadable_datasets_say_why(tmp_path):
    with pytest.raises(DatasetError, match="不存在"):
        read_dataset(tmp_path / "missing.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("content,category\n物业,城乡建设\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="text"):
        read_dataset(wrong)
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(DatasetError, match="CSV"):
        read_dataset(tmp_path / "data.json")


def test_the_lean_prediction_path_gives_the_pipelines_own_probabilities(model):
    texts = [normalise(t) for t in ["小区门口的路灯坏了一个月", "孩子上学的校车太挤", "医院挂号排队太久"]]
    for batch in (texts, texts[:1]):
        assert np.allclose(pipeline_proba(model.pipeline, batch), model.pipeline.predict_proba(batch))


def test_the_lean_path_applies_the_steps_between_features_and_model(model):
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from classifier.estimators import build_features

    texts, labels = zip(*TRAINING, strict=True)
    pipeline = Pipeline(
        [("features", build_features(min_df=1)), ("select", SelectKBest(chi2, k=20)), ("model", LogisticRegression())]
    ).fit([normalise(t) for t in texts], labels)
    batch = [normalise("物业乱收停车费"), normalise("公交车太少")]
    assert np.allclose(pipeline_proba(pipeline, batch), pipeline.predict_proba(batch))


def test_keeping_the_best_features_keeps_chi_squares_choice_and_all_when_there_are_few():
    from sklearn.feature_selection import SelectKBest, chi2

    from classifier.estimators import KeepBestFeatures, build_features

    texts, labels = zip(*TRAINING, strict=True)
    X = build_features(min_df=1).fit_transform([normalise(t) for t in texts])
    kept = KeepBestFeatures(k=15).fit(X, labels).transform(X).toarray()
    assert np.array_equal(kept, SelectKBest(chi2, k=15).fit(X, labels).transform(X).toarray())
    assert KeepBestFeatures(k=X.shape[1] + 1).fit(X, labels).transform(X).shape == X.shape


def test_with_five_examples_of_every_label_both_levels_are_calibrated_svms_and_stay_consistent():
    from sklearn.calibration import CalibratedClassifierCV

    from classifier.estimators import SvmWithNaiveBayes

    texts, labels = zip(*TRAINING, strict=True)
    more = [f"{t}，{suffix}" for t in texts for suffix in ("请尽快处理", "谢谢")]
    model = TopicModel.train(list(texts) + more, list(labels) * 3)
    levels = model.pipeline.named_steps["model"]
    # the topic's SVM has a naive Bayes beside it; the labels within a topic an SVM alone
    assert isinstance(levels.topic_model_, SvmWithNaiveBayes) and levels.topic_model_.nb_weight > 0
    assert isinstance(levels.label_model_, CalibratedClassifierCV)
    proba = model.predict_proba(["物业又乱收停车费了", "工厂晚上偷排废气"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    topics, topic_proba = model.first_level_proba(proba)
    assert np.allclose(topic_proba, levels.topic_model_.predict_proba(model.pipeline[:-1].transform(
        [normalise("物业又乱收停车费了"), normalise("工厂晚上偷排废气")])))
    assert topics[int(topic_proba[0].argmax())] == "城乡建设"


def test_a_level_with_fewer_than_five_examples_of_a_label_is_a_logistic_regression(model):
    from sklearn.linear_model import LogisticRegression

    levels = model.pipeline.named_steps["model"]  # three examples of each label
    assert isinstance(levels.label_model_, LogisticRegression)


def test_the_naive_bayes_beside_the_svm_gives_scikit_learns_calibrated_probabilities_blended_by_weight():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.naive_bayes import ComplementNB

    from classifier.estimators import NAIVE_BAYES_ALPHA, KeepBestFeatures, SvmWithNaiveBayes, build_features

    texts, labels = zip(*TRAINING, strict=True)
    texts = [normalise(t) for t in texts] + [normalise(f"{t}，请尽快处理") for t in texts]
    topics = [label.split("/")[0] for label in labels] * 2
    features = build_features(min_df=1).fit(texts)
    X = KeepBestFeatures().fit(features.transform(texts), topics).transform(features.transform(texts))
    unseen = KeepBestFeatures().fit(features.transform(texts), topics).transform(
        features.transform([normalise("物业又乱收停车费了"), normalise("工厂晚上偷排废气")])
    )
    blend = SvmWithNaiveBayes(nb_weight=0.5).fit(X, topics)
    nb = CalibratedClassifierCV(ComplementNB(alpha=NAIVE_BAYES_ALPHA), method="temperature", cv=5, ensemble=False)
    nb_proba = nb.fit(X, topics).predict_proba(unseen)
    assert np.allclose(blend.naive_bayes_proba(unseen), nb_proba, atol=1e-4)
    assert np.allclose(blend.predict_proba(unseen), (blend.svm_.predict_proba(unseen) + 0.5 * nb_proba) / 1.5, atol=1e-4)
    alone = SvmWithNaiveBayes(nb_weight=0.0).fit(X, topics)
    assert np.allclose(alone.predict_proba(unseen), alone.svm_.predict_proba(unseen))
    assert list(blend.predict(unseen)) == ["城乡建设", "环境保护"]
