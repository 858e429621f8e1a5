"""Texts that raise the same matter: duplicates (重复件) and hot issues (热点).

jieba words of two or more characters (so 米市巷街道 is one word) and
character pairs, hashed — no vocabulary to fit or keep — and weighted by IDF
over the texts being compared, so that 小区 and 反映 count for little and
米市巷街道 or 路灯 count for a lot. Cosine similarity on those: the same
matter retold shares its names and nouns, not its phrasing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csgraph, hstack
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from .text import normalise, tokenize

# On hand-made examples a retold matter scores 0.18–0.5 and a different one
# under 0.1; not yet calibrated on real resubmissions. A suggestion for the
# dispatcher to look at, not a decision.
SIMILAR = 0.15
# Tickets in one hot issue: each is this close to at least one other in it.
HOT = 0.15

def _words(text: str) -> list[str]:
    # One-character words are mostly 的, 了, 很, 请: they link unrelated matters.
    return [word for word in tokenize(text) if len(word) > 1]


_hashing = HashingVectorizer(
    tokenizer=_words,
    token_pattern=None,
    lowercase=False,
    preprocessor=normalise,
    n_features=2**20,
    alternate_sign=False,
    norm=None,
)


_bigrams = HashingVectorizer(
    analyzer="char", ngram_range=(2, 2), preprocessor=normalise, n_features=2**20, alternate_sign=False, norm=None
)


def _weighted(texts: Sequence[str]):
    # Words carry the names and nouns; character pairs catch what jieba cut
    # differently in two retellings (路灯不亮 / 路灯 不亮).
    parts = [TfidfTransformer(sublinear_tf=True).fit_transform(v.transform(texts)) for v in (_hashing, _bigrams)]
    return normalize(hstack(parts).tocsr())


def most_similar(
    text: str, candidates: Sequence[str], *, top: int = 5, threshold: float = SIMILAR
) -> list[tuple[int, float]]:
    """(index into ``candidates``, similarity), most similar first."""
    if not candidates or not text.strip():
        return []
    matrix = _weighted([*candidates, text])
    scores = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    order = np.argsort(-scores)[:top]
    return [(int(i), float(scores[i])) for i in order if scores[i] >= threshold]


def hot_groups(texts: Sequence[str], *, threshold: float = HOT, min_size: int = 3) -> list[list[int]]:
    """Groups of at least ``min_size`` texts about one matter, largest first
    (indices into ``texts``)."""
    if len(texts) < min_size:
        return []
    matrix = _weighted(texts)
    similar = matrix @ matrix.T
    similar.data[similar.data < threshold] = 0
    similar.eliminate_zeros()
    count, labels = csgraph.connected_components(similar, directed=False)
    groups = [np.flatnonzero(labels == g).tolist() for g in range(count)]
    return sorted((g for g in groups if len(g) >= min_size), key=len, reverse=True)
