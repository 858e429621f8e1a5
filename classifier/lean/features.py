"""The lean path's first half: a text to the pipeline's feature row, as the
fitted vectorisers and selections would make it (see ``classifier.lean``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest, SelectPercentile
from sklearn.pipeline import FeatureUnion

from ..estimators import KeepBestFeatures
from ..ngrams import (
    MAX_CHARS,
    CharNgramVectorizer,
    WordNgramVectorizer,
    code_points,
    find_keys,
    ngram_keys,
    vocabulary_keys,
)

# Exact types: a subclass may count or score differently.
VECTORISERS = (TfidfVectorizer, CharNgramVectorizer, WordNgramVectorizer)
SELECTORS = (SelectKBest, SelectPercentile)


class Unsupported(Exception):
    """A step the lean path does not know; the pipeline answers instead."""


# -- text to features ---------------------------------------------------------


class CharColumns:
    """Columns of a text's character n-grams of up to three characters,
    one per occurrence: each n-gram an integer made from its code points,
    found in the sorted vocabulary with one ``searchsorted`` (as
    ``CharNgramVectorizer`` counts a batch). The same n-grams as
    scikit-learn's ``_char_ngrams``."""

    def __init__(self, vectoriser: TfidfVectorizer) -> None:
        self.preprocess, self.spaces = vectoriser.build_preprocessor(), vectoriser._white_spaces
        self.decode = vectoriser.decode
        self.lengths = range(vectoriser.ngram_range[0], vectoriser.ngram_range[1] + 1)
        try:
            self.keys, self.columns = vocabulary_keys(vectoriser.vocabulary_)
        except ValueError as error:  # a vocabulary given, with longer terms
            raise Unsupported(str(error)) from error

    def __call__(self, document: str) -> np.ndarray:
        points = code_points(self.spaces.sub(" ", self.preprocess(self.decode(document))))
        keys = np.concatenate([ngram_keys(points, n) for n in self.lengths])
        keys.sort()  # sorted needles make searchsorted's walks short
        where, known = find_keys(self.keys, keys)
        return self.columns[where[known]]


class TermColumns:
    """Columns of a text's terms as the vectoriser's own analyser makes them
    (words, word pairs…), one per occurrence."""

    def __init__(self, vectoriser: TfidfVectorizer) -> None:
        self.analyse = vectoriser.build_analyzer()
        self.vocabulary = vectoriser.vocabulary_

    def __call__(self, document: str) -> np.ndarray:
        terms = self.analyse(document)
        columns = np.fromiter(map(self.vocabulary.get, terms, repeat(-1)), dtype=np.int64, count=len(terms))
        return columns[columns >= 0]


@dataclass(frozen=True)
class Block:
    """One TF-IDF vectoriser of the feature union: how it counts and weights."""

    columns: Callable[[str], np.ndarray]
    width: int
    dtype: type
    binary: bool
    sublinear_tf: bool
    idf: np.ndarray | None
    norm: str | None
    weight: float | None

    @classmethod
    def of(cls, vectoriser, weight) -> Block:
        if type(vectoriser) not in VECTORISERS:
            raise Unsupported(f"vectoriser {type(vectoriser).__name__}")
        if vectoriser.norm not in ("l1", "l2", None):
            raise Unsupported(f"norm {vectoriser.norm!r}")
        if vectoriser.use_idf and vectoriser.idf_.dtype != vectoriser.dtype:
            raise Unsupported("IDF of another dtype than the counts")
        # A Python number is cast to the features' dtype; a NumPy float64
        # would make the union's matrix float64.
        if weight is not None and type(weight) not in (int, float):
            raise Unsupported(f"a transformer weight of type {type(weight).__name__}")
        low, high = vectoriser.ngram_range
        short_chars = vectoriser.analyzer == "char" and 1 <= low <= high <= MAX_CHARS
        return cls(
            columns=CharColumns(vectoriser) if short_chars else TermColumns(vectoriser),
            width=len(vectoriser.vocabulary_),
            dtype=vectoriser.dtype,
            binary=vectoriser.binary,
            sublinear_tf=vectoriser.sublinear_tf,
            idf=vectoriser.idf_ if vectoriser.use_idf else None,
            norm=vectoriser.norm,
            weight=weight,
        )


def blocks_of(features) -> list[Block]:
    if type(features) is not FeatureUnion:
        return [Block.of(features, None)]
    weights = features.transformer_weights or {}
    blocks = []
    for name, part in features.transformer_list:
        if isinstance(part, str) and part == "drop" or part is None:
            continue
        blocks.append(Block.of(part, weights.get(name)))
    return blocks


class Features:
    """The union's features of one text, all blocks in one pass over the
    union's columns: a column's block decides its IDF, weight and norm.

    Mirrors ``CountVectorizer.transform``, ``TfidfTransformer.transform``
    (with ``normalize``'s sums in double precision, term by term) and
    ``FeatureUnion``'s weighting on a one-row CSR matrix: the same operations
    in the same dtype over the columns in the same order. Multiplying by an
    IDF or weight of one, for blocks without, changes nothing."""

    def __init__(self, blocks: list[Block], rows: np.ndarray) -> None:
        dtypes = {np.dtype(block.dtype) for block in blocks}
        if len(dtypes) != 1:
            raise Unsupported("blocks of different dtypes")
        self.dtype = dtypes.pop()
        self.blocks = blocks
        self.offsets = np.cumsum([0] + [block.width for block in blocks])
        self.counters = [(block.columns, int(offset)) for block, offset in zip(blocks, self.offsets)]
        self.idf = self._per_column(lambda b: b.idf if b.idf is not None else np.ones(b.width))
        self.weight = self._per_column(lambda b: np.full(b.width, 1 if b.weight is None else b.weight))
        self.binary = self._mask(lambda b: b.binary)
        self.sublinear = self._mask(lambda b: b.sublinear_tf)
        self.normed = [(i, block.norm) for i, block in enumerate(blocks) if block.norm is not None]
        # Union column → row of the weight matrix; −1 for a feature not kept
        # (it still counts in its block's norm, as in the pipeline).
        self.rows = rows

    def _per_column(self, values) -> np.ndarray:
        return np.concatenate([np.asarray(values(b)).astype(self.dtype) for b in self.blocks])

    def _mask(self, flag) -> bool | np.ndarray:
        """True or False when all blocks agree, else a mask of the columns."""
        flags = {bool(flag(b)) for b in self.blocks}
        if len(flags) == 1:
            return flags.pop()
        return np.concatenate([np.full(b.width, bool(flag(b))) for b in self.blocks])

    def __call__(self, document: str) -> tuple[np.ndarray, np.ndarray]:
        """The weight rows and values of one text's kept features."""
        columns = np.concatenate([count(document) + offset for count, offset in self.counters])
        columns.sort()
        first = np.empty(len(columns), dtype=bool)
        first[:1] = True
        np.not_equal(columns[1:], columns[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        values = np.empty(len(starts), dtype=self.dtype)  # how often each column occurs
        values[:-1] = starts[1:] - starts[:-1]
        values[-1:] = len(columns) - starts[-1:]
        columns = columns[starts]
        self._binary(values, columns)
        self._sublinear(values, columns)
        values *= self.idf[columns]
        self._normalise(values, columns)
        values *= self.weight[columns]
        rows = self.rows[columns]
        kept = rows >= 0
        return rows[kept], values[kept]

    def _binary(self, values: np.ndarray, columns: np.ndarray) -> None:
        if self.binary is True:
            values.fill(1)
        elif self.binary is not False:
            values[self.binary[columns]] = 1

    def _sublinear(self, values: np.ndarray, columns: np.ndarray) -> None:
        if self.sublinear is True:
            np.log(values, values)
            values += 1.0
        elif self.sublinear is not False:
            mask = self.sublinear[columns]
            values[mask] = np.log(values[mask]) + 1.0

    def _normalise(self, values: np.ndarray, columns: np.ndarray) -> None:
        if not self.normed:
            return
        bounds = np.searchsorted(columns, self.offsets).tolist()
        squares = values * values
        for block, norm in self.normed:
            start, end = bounds[block], bounds[block + 1]
            if start == end:
                continue
            terms = squares[start:end] if norm == "l2" else np.abs(values[start:end])
            total = terms.cumsum(dtype=np.float64)[-1]  # np.float64: the division below is in double
            if total != 0.0:
                values[start:end] = values[start:end] / (np.sqrt(total) if norm == "l2" else total)


def kept_columns(step, n_columns: int) -> tuple[np.ndarray, int]:
    """For each input column of a selection step, its output column or −1;
    and how many columns it puts out."""
    if type(step) is KeepBestFeatures:
        projection = step.projection_.tocoo()
        if (
            projection.shape[0] != n_columns
            or not np.all(projection.data == 1)
            or np.bincount(projection.row).max(initial=0) > 1
            or np.bincount(projection.col).max(initial=0) > 1
        ):
            raise Unsupported("a projection that does more than keep columns")
        kept = np.full(n_columns, -1, dtype=np.int64)
        kept[projection.row] = projection.col
        return kept, projection.shape[1]
    if type(step) in SELECTORS:
        support = step.get_support()
        if len(support) != n_columns:
            raise Unsupported("a selector fitted on other features")
        kept = np.full(n_columns, -1, dtype=np.int64)
        kept[support] = np.arange(int(support.sum()))
        return kept, int(support.sum())
    raise Unsupported(f"step {type(step).__name__}")

