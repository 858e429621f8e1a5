"""The lean prediction path gives the pipeline's own probabilities, and steps
it does not know leave the answer to the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from classifier import AgencyModel, Classifier, ModelStore, TopicModel, shipped_corpus
from classifier.lean import LeanPipeline, compile_pipeline
from classifier.estimators import KeepBestFeatures, SvmWithNaiveBayes, TwoLevelClassifier, build_features
from classifier.text import normalise

from .test_agency import TOY
from .test_model import TRAINING

# Beside ordinary messages: nothing, one character, words the model never
# saw, other scripts, numbers and phone numbers, emoji, a long message.
ODD = [
    "",
    " ",
    "啊",
    "物",
    "ok",
    "Hello, the street light outside building 3 has been broken for a week.",
    "Привет",
    "12345 67890",
    "电话13812345678",
    "😀😀😀",
    "！！！？？？",
    "物业" * 200,
    "城管\n\t执法  乱收费",
]


def messages() -> list[str]:
    corpus = shipped_corpus()
    return corpus.texts[::15] + [text for text, _ in TRAINING] + ODD


def assert_same_probabilities(pipeline: Pipeline, lean: LeanPipeline, texts: list[str]) -> None:
    """In one batch, and one text at a time as a web form classifies."""
    normalised = [normalise(t) for t in texts]
    expected = pipeline.predict_proba(normalised)
    np.testing.assert_allclose(lean.predict_proba(normalised), expected, rtol=1e-9, atol=1e-12)
    alone = np.vstack([lean.predict_proba([text]) for text in normalised])
    np.testing.assert_allclose(alone, np.vstack([pipeline.predict_proba([t]) for t in normalised]), rtol=1e-9, atol=1e-12)


def more_training(copies: int = 2) -> tuple[list[str], list[str]]:
    """At least five examples of each label, so that both levels are calibrated SVMs."""
    texts, labels = zip(*TRAINING, strict=True)
    suffixes = ("请尽快处理", "谢谢", "麻烦管一管", "已经好几次了")[:copies]
    more = [f"{t}，{suffix}" for t in texts for suffix in suffixes]
    return list(texts) + more, list(labels) * (copies + 1)


def test_the_shipped_model_gives_the_pipelines_probabilities(model_dir):
    store = ModelStore(model_dir)
    model = store.load_version(store.active_version())
    levels = model.pipeline.named_steps["model"]
    # The topic level: a calibrated SVM with a naive Bayes's vote.
    assert isinstance(levels.topic_model_, SvmWithNaiveBayes) and levels.topic_model_.nb_weight > 0
    assert levels.topic_model_.svm_.method == "temperature"
    # It would still classify, through the pipeline, but ten times slower.
    assert model.lean is not None, "build_pipeline has a step classifier/lean.py does not know yet"
    # The shipped corpus has more features than the model keeps: dropped ones
    # must still count in their block's norm.
    assert (model.lean.features.rows < 0).any()
    assert_same_probabilities(model.pipeline, model.lean, messages())


def test_topic_model_classifies_one_message_as_the_pipeline_would(model_dir):
    store = ModelStore(model_dir)
    model = store.load_version(store.active_version())
    texts = messages()[:40]
    expected = model.pipeline.predict_proba([normalise(t) for t in texts])
    alone = np.vstack([model.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(alone, expected, rtol=1e-9, atol=1e-12)
    classifier = Classifier(model)
    assert [classifier.predict(t).as_dict() for t in texts[:10]] == [p.as_dict() for p in classifier.predict_many(texts[:10])]


@pytest.mark.parametrize("copies", [0, 2], ids=["logistic levels", "calibrated svm levels"])
def test_two_levels_whether_logistic_or_calibrated(copies):
    texts, labels = more_training(copies)
    model = TopicModel.train(texts, labels)
    expected = LogisticRegression if copies == 0 else CalibratedClassifierCV
    assert isinstance(model.pipeline.named_steps["model"].label_model_, expected)
    assert_same_probabilities(model.pipeline, model.lean, messages())


@pytest.mark.parametrize("model", [TwoLevelClassifier, LogisticRegression], ids=["calibrated svm", "float32 logistic"])
def test_one_level_labels_and_features_dropped_by_the_selection(model):
    texts, labels = more_training()
    flat = [label.split("/")[1] for label in labels]
    pipeline = Pipeline(
        [("features", build_features(min_df=1)), ("select", KeepBestFeatures(k=40)), ("model", model())]
    ).fit([normalise(t) for t in texts], flat)
    lean = compile_pipeline(pipeline)
    assert (lean.features.rows < 0).sum() > 40
    assert_same_probabilities(pipeline, lean, messages())


def test_two_labels_use_the_binary_formulas():
    texts, labels = more_training()
    topics = [label.split("/")[0] for label in labels]
    keep = [i for i, topic in enumerate(topics) if topic in ("城乡建设", "交通运输")]
    pipeline = Pipeline([("features", build_features(min_df=1)), ("model", TwoLevelClassifier())])
    pipeline.fit([normalise(texts[i]) for i in keep], [topics[i] for i in keep])
    assert_same_probabilities(pipeline, compile_pipeline(pipeline), messages())
    logistic = Pipeline([("features", build_features(min_df=1)), ("model", LogisticRegression())])
    logistic.fit([normalise(texts[i]) for i in keep], [topics[i] for i in keep])
    assert_same_probabilities(logistic, compile_pipeline(logistic), messages())


def test_sklearns_own_vectoriser_and_selector_and_settings_the_project_does_not_use():
    texts, labels = more_training()
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=False, norm="l1")),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 2), binary=True, use_idf=False)),
            ("off", "drop"),
        ],
        transformer_weights={"words": 2, "chars": 0.7},
    )
    svm = CalibratedClassifierCV(LinearSVC(), method="temperature", cv=3, ensemble=True)
    pipeline = Pipeline([("features", features), ("select", SelectKBest(chi2, k=50)), ("model", svm)])
    pipeline.fit([normalise(t) for t in texts], labels)
    assert_same_probabilities(pipeline, compile_pipeline(pipeline), messages())


def test_the_agency_model_platt_scaled_folds():
    model = AgencyModel.train(TOY.texts, TOY.labels)
    assert model.lean is not None
    assert_same_probabilities(model.pipeline, model.lean, messages())
    two = AgencyModel.train(TOY.texts[:16], TOY.labels[:16])
    assert_same_probabilities(two.pipeline, two.lean, messages())


class ScoredVectorizer(TfidfVectorizer):
    """A vectoriser the lean path has never seen (it may count differently)."""


@pytest.mark.parametrize(
    "steps",
    [
        lambda: [("features", build_features(min_df=1)), ("scale", MaxAbsScaler()), ("model", TwoLevelClassifier())],
        lambda: [
            ("features", FeatureUnion([("words", build_features(min_df=1)), ("hashed", HashingVectorizer(n_features=64))])),
            ("model", TwoLevelClassifier()),
        ],
        lambda: [("features", ScoredVectorizer(analyzer="char")), ("model", LogisticRegression())],
        lambda: [
            ("features", build_features(min_df=1)),
            ("model", CalibratedClassifierCV(LinearSVC(), method="isotonic", cv=2)),
        ],
    ],
    ids=["a scaler between", "an unknown block", "a vectoriser subclass", "isotonic calibration"],
)
def test_a_step_the_lean_path_does_not_know_leaves_the_answer_to_the_pipeline(steps):
    texts, labels = more_training()
    model = TopicModel.train(texts, labels, pipeline=Pipeline(steps()))
    assert model.lean is None
    batch = messages()
    expected = model.pipeline.predict_proba([normalise(t) for t in batch])
    assert np.allclose(model.predict_proba(batch), expected)
    assert np.allclose(model.predict_proba(batch[:1]), expected[:1])
    assert Classifier(model).predict("物业又乱收停车费了").subtopic is not None


def test_no_texts_give_no_rows():
    texts, labels = more_training()
    model = TopicModel.train(texts, labels)
    assert model.lean.predict_proba([]).shape == (0, len(model.labels))
    with pytest.raises(TypeError):
        model.lean.predict_proba("一条留言")


def test_a_lean_path_that_disagrees_with_the_pipeline_is_not_used(monkeypatch):
    texts, labels = more_training()
    model = TopicModel.train(texts, labels)
    assert compile_pipeline(model.pipeline) is not None

    def uniform(self, X):
        return np.full((X.shape[0], len(self.classes_)), 1 / len(self.classes_))

    # Say a later version of the step computes its probabilities otherwise.
    monkeypatch.setattr(TwoLevelClassifier, "predict_proba", uniform)
    assert compile_pipeline(model.pipeline) is None
    retrained = TopicModel.train(texts, labels)
    assert retrained.lean is None
    assert np.allclose(retrained.predict_proba(["物业又乱收停车费了"]), 1 / len(retrained.labels))
