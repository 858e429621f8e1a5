"""The lean prediction path (精简预测): a fitted pipeline's arithmetic as plain
arrays, for one message at a time.

Web forms and the WeChat callback classify one message at a time. Through the
scikit-learn Pipeline that costs about 3 ms, nearly all of it input checks
and dispatch that every step repeats on every call; the arithmetic itself —
count a message's terms, weight, normalise, one product with the linear
models' weights, calibrate — is a few dozen microseconds.

``compile_pipeline`` reads a fitted pipeline once and keeps what prediction
needs: each TF-IDF block's vocabulary and IDF, the kept features folded into
one map from block column to weight row, the weights and intercepts of every
linear model the final step holds side by side in one matrix, and how each
turns its scores into probabilities (softmax, temperature, Platt). The
pipeline stays the trained and stored object; this is derived from it and
never stored. Each operation mirrors the scikit-learn code it replaces
(scikit-learn 1.9: ``TfidfTransformer.transform``, ``normalize``,
``LinearClassifierMixin.decision_function``, ``CalibratedClassifierCV``), in
the same dtype, and the tests hold the probabilities equal to
``Pipeline.predict_proba``.

A step it does not know — another vectoriser, transformer or model, even a
subclass of a known one — makes ``compile_pipeline`` return None, and the
caller uses the pipeline itself; so does a lean path that disagrees with the
pipeline on a few probe texts, as it would if a known step's code changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sklearn.pipeline import FeatureUnion, Pipeline

from ..estimators import KeepBestFeatures, pipeline_proba
from .features import Features, Unsupported, blocks_of, kept_columns
from .scores import LinearScores, probabilities_of

log = logging.getLogger(__name__)


# Compiling checks the lean path against the pipeline on a few texts made of
# this many terms of each vocabulary, to this relative tolerance (the tests
# hold the two far closer; this is to catch a step that changed its meaning).
PROBE_TERMS = 40
PROBE_TOLERANCE = 1e-6
# Up to this many texts at once, the lean path (one text at a time, no input
# checks) is faster than the pipeline's vectorised batch; above, slower
# (bench/classifier_speed.py).
LEAN_BATCH = 64


class LeanPipeline:
    """A fitted pipeline's prediction as plain arrays (see the module's docstring)."""

    def __init__(self, features: Features, scores: LinearScores, probabilities, descending: bool) -> None:
        self.features = features
        self.dtypes = scores.dtypes
        self.matrices = scores.matrices()
        self.probabilities = probabilities
        # The order of a row's features in the pipeline's CSR matrix: each
        # KeepBestFeatures' sparse product turns it around.
        self.descending = descending

    def scores(self, text: str) -> list[np.ndarray]:
        """Every linear model's decision function on one text, a row per dtype."""
        rows, values = self.features(text)
        scores = []
        for dtype, (weights, intercepts) in zip(self.dtypes, self.matrices):
            if dtype == np.float64:
                scores.append(values.astype(np.float64) @ weights[rows] + intercepts)
                continue
            order = slice(None, None, -1 if self.descending else 1)
            terms = values[order, np.newaxis] * weights[rows[order]]
            sums = terms.cumsum(axis=0)[-1] if len(terms) else np.zeros(len(intercepts), dtype=dtype)
            scores.append(sums + intercepts)
        return scores

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("a sequence of texts, not one text")
        if len(texts) == 1:
            return self.probabilities([row[np.newaxis, :] for row in self.scores(texts[0])])
        rows = [self.scores(text) for text in texts]
        return self.probabilities(
            [
                np.vstack([row[group] for row in rows]) if rows else np.zeros((0, len(intercepts)), dtype=dtype)
                for group, (dtype, (_, intercepts)) in enumerate(zip(self.dtypes, self.matrices))
            ]
        )


def compile_pipeline(pipeline: Pipeline) -> LeanPipeline | None:
    """The lean path of a fitted ``Pipeline``, or None when it has a step the
    lean path does not know, or when it disagrees with the pipeline on a few
    probe texts (the caller then asks the pipeline)."""
    try:
        lean = _compile(pipeline)
    except Unsupported as reason:
        log.info("classifying through the scikit-learn pipeline: the lean path does not know %s", reason)
        return None
    probes = _probes(pipeline)
    expected = pipeline.predict_proba(probes)
    if not np.allclose(lean.predict_proba(probes), expected, rtol=PROBE_TOLERANCE, atol=1e-12):
        # A step whose code changed under the same name, or another
        # scikit-learn: better slow than wrong.
        log.warning("the lean path disagrees with the scikit-learn pipeline; classifying through the pipeline")
        return None
    return lean


def _probes(pipeline: Pipeline) -> list[str]:
    """Texts that touch every block: nothing, a sentence, other scripts, and
    the first terms of each vectoriser's vocabulary run together."""
    first = pipeline.steps[0][1]
    parts = [part for _, part in first.transformer_list] if type(first) is FeatureUnion else [first]
    terms = [term for part in parts for term in list(getattr(part, "vocabulary_", {}))[:PROBE_TERMS]]
    return ["", "小区物业乱收停车费，工厂晚上排放废气", "hello 123 😀", "".join(terms), " ".join(terms)]


def _compile(pipeline: Pipeline) -> LeanPipeline:
    if type(pipeline) is not Pipeline or len(pipeline.steps) < 2:
        raise Unsupported("anything but a pipeline of features, selections and a model")
    first, *between, model = (step for _, step in pipeline.steps)
    blocks = blocks_of(first)
    if not blocks:
        raise Unsupported("a feature union without features")
    # Where each column of the union ends up after the selections.
    width = sum(block.width for block in blocks)
    rows = np.arange(width, dtype=np.int64)
    descending = False
    for step in between:
        if step is None or isinstance(step, str) and step == "passthrough":
            continue
        kept, width = kept_columns(step, width)
        rows = np.where(rows >= 0, kept[rows], -1)
        descending ^= type(step) is KeepBestFeatures
    features = Features(blocks, rows)
    scores = LinearScores(features.dtype)
    probabilities = probabilities_of(model, scores)
    for weights, _ in scores.matrices():
        if weights.shape[0] != width:
            raise Unsupported(f"a model of {weights.shape[0]} features after {width}")
    return LeanPipeline(features, scores, probabilities, descending)


def lean_proba(pipeline: Pipeline, lean: LeanPipeline | None, texts: Sequence[str]) -> np.ndarray:
    """The pipeline's probabilities: through its lean path, when it has one,
    for a message or a small batch; a large batch is counted faster in one
    pass by the pipeline's own vectorised steps."""
    if lean is not None and len(texts) <= LEAN_BATCH:
        return lean.predict_proba(texts)
    return pipeline_proba(pipeline, texts)
