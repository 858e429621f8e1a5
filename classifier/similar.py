"""Texts that raise the same matter: duplicates (重复件) and hot issues (热点).

jieba words of two or more characters (so 米市巷街道 is one word) and
character pairs, hashed — no vocabulary to fit or keep — and weighted by an
IDF read once from the project's own corpus, so that 小区 and 反映 count for
little and 米市巷街道 or 路灯 count for a lot (a term the corpus never saw,
a street's or an estate's name, counts most). Cosine similarity on those: the
same matter retold shares its names and nouns, not its phrasing.

The IDF is fixed, not fitted on the texts being compared, so that a text's
weights are the same whenever they are computed: a ticket's **fingerprint**
(its ``FINGERPRINT_TERMS`` heaviest terms, weighted to unit length) can be
stored once and searched in an index. The cosine of two fingerprints stands
in for the texts' own: on the real government messages, resubmitted ones
score 0.68 or more on their fingerprints (0.84 or more on their texts) and
999 in 1,000 pairs of different messages on one topic score under 0.26
(bench/matters_scale.py). Duplicates found by fingerprint are scored again
on their whole texts; hot issues are grouped on fingerprints alone.

Hot issues are stars, not chains: each group is a ticket and the tickets
close to it. Linking every close pair and taking connected components
chained half of the 9,210 real messages into one group at 0.15 (each link
plausible, the chain about everything); stars keep every member close to
the group's centre.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from .text import normalise, tokenize

# Whole texts. Hand-made retellings of one matter by different residents
# score 0.29–0.53, different matters under 0.1; resubmitted real messages
# 0.84 or more, and 1 in 6,700 pairs of different real messages on one topic
# 0.25 or more (bench/matters_scale.py). Against a year of 200,000 open
# tickets, 16 % of new tickets got a suggestion at 0.25, 53 % at 0.15 — the
# same topic and place, mostly another matter. A suggestion for the
# dispatcher to look at, not a decision.
SIMILAR = 0.25
# Tickets in one hot issue: each this close to the group's centre (cosine of
# fingerprints). Hand-made retellings of one matter by different residents
# score 0.27–0.36; of pairs of different real messages on one topic, 1 in
# 1,100 scores 0.25 or more. The 9,210 real messages (years of a province,
# far denser than a fortnight of a city) grouped at once: members share the
# centre's topic 78 % of the time at 0.25, 84 % at 0.3, 92 % at 0.35.
HOT = 0.25
# Terms kept of a text for the index: a message of 150–450 characters has
# 150–400 distinct terms, and its 32 heaviest carry most of its names and nouns.
FINGERPRINT_TERMS = 32
# Each block hashes into its own range, so a term id says which block it is in.
BLOCK = 2**20
TERM_IDS = 2 * BLOCK

# (term id, weight) pairs, heaviest first: what the index stores of a text.
Fingerprint = tuple[tuple[int, float], ...]


def _words(text: str) -> list[str]:
    # One-character words are mostly 的, 了, 很, 请: they link unrelated matters.
    return [word for word in tokenize(text) if len(word) > 1]


_words_hashed = HashingVectorizer(
    tokenizer=_words,
    token_pattern=None,
    lowercase=False,
    preprocessor=None,
    n_features=BLOCK,
    alternate_sign=False,
    norm=None,
)
# Fibonacci hashing of a character pair's two code points: stable across
# processes and Python versions (the index outlives them), and computed for a
# whole batch in a few array operations rather than a Python loop per pair.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(64 - 20)


def _bigram_counts(texts: Sequence[str]) -> sp.csr_matrix:
    rows, ids = [], []
    for row, text in enumerate(texts):
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        if len(points) < 2:
            continue
        pairs = (points[:-1] << np.uint64(21)) | points[1:]
        ids.append((pairs * _GOLDEN) >> _SHIFT)
        rows.append(np.full(len(pairs), row, dtype=np.int32))
    if not ids:
        return sp.csr_matrix((len(texts), TERM_IDS), dtype=np.float64)
    columns = np.concatenate(ids).astype(np.int64) + BLOCK
    counts = sp.csr_matrix(
        (np.ones(len(columns)), (np.concatenate(rows), columns)), shape=(len(texts), TERM_IDS)
    )
    counts.sum_duplicates()
    return counts


def term_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Counts of each text's words and character pairs, by term id."""
    # Words carry the names and nouns; character pairs catch what jieba cut
    # differently in two retellings (路灯不亮 / 路灯 不亮).
    if not texts:
        return sp.csr_matrix((0, TERM_IDS), dtype=np.float64)
    texts = [normalise(text) for text in texts]
    words = _words_hashed.transform(texts)
    words.resize((len(texts), TERM_IDS))
    return (words + _bigram_counts(texts)).tocsr()


@lru_cache(maxsize=1)
def reference_idf() -> np.ndarray:
    """IDF per term id, from the shipped corpus (read once per process)."""
    from .dataset import shipped_corpus

    counts = term_counts(shipped_corpus().texts)
    return TfidfTransformer(smooth_idf=True).fit(counts).idf_.astype(np.float32)


def vectors(texts: Sequence[str]) -> sp.csr_matrix:
    """Unit-length rows of sublinear term frequency × the reference IDF."""
    if not texts:
        return sp.csr_matrix((0, TERM_IDS), dtype=np.float32)
    weighted = term_counts(texts).astype(np.float32)
    np.log1p(weighted.data, out=weighted.data)
    weighted.data *= reference_idf()[weighted.indices]
    return normalize(weighted, copy=False)


def key_words(text: str, n: int = 3) -> list[str]:
    """The text's ``n`` weightiest words (by the reference IDF), in the order
    they come: names and nouns a dispatcher can start a rule's keywords from."""
    words = list(dict.fromkeys(_words(normalise(text))))
    if not words:
        return []
    # One word per row: each row's hashed ids are that word's.
    rows = _words_hashed.transform(words)
    idf = reference_idf()
    weight = [float(idf[rows.indices[rows.indptr[i]:rows.indptr[i + 1]]].max(initial=0.0)) for i in range(len(words))]
    heaviest = set(sorted(range(len(words)), key=lambda i: -weight[i])[:n])
    return [word for i, word in enumerate(words) if i in heaviest]


def fingerprints(texts: Sequence[str], terms: int = FINGERPRINT_TERMS) -> list[Fingerprint]:
    """Each text's heaviest terms, weighted to unit length among themselves
    (a text with no terms has an empty fingerprint)."""
    matrix = vectors(texts)
    found = []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        ids, weights = matrix.indices[start:end], matrix.data[start:end].astype(np.float64)
        heaviest = np.argsort(-weights, kind="stable")[:terms]
        kept = weights[heaviest]
        kept /= np.linalg.norm(kept) or 1.0
        found.append(tuple((int(ids[i]), round(float(w), 6)) for i, w in zip(heaviest, kept, strict=True)))
    return found


def fingerprint(text: str) -> Fingerprint:
    return fingerprints([text])[0]


def fingerprint_matrix(prints: Sequence[Fingerprint]) -> sp.csr_matrix:
    """Fingerprints as the rows of a sparse matrix (term ids as columns)."""
    ids = [term for fp in prints for term, _ in fp]
    weights = [weight for fp in prints for _, weight in fp]
    indptr = np.cumsum([0, *(len(fp) for fp in prints)])
    return sp.csr_matrix((np.asarray(weights, dtype=np.float32), ids, indptr), shape=(len(prints), TERM_IDS))


def most_similar(
    text: str, candidates: Sequence[str], *, top: int = 5, threshold: float = SIMILAR
) -> list[tuple[int, float]]:
    """(index into ``candidates``, similarity of the whole texts), most similar first."""
    if not candidates or not text.strip():
        return []
    matrix = vectors([*candidates, text])
    scores = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    order = np.argsort(-scores, kind="stable")[:top]
    return [(int(i), float(scores[i])) for i in order if scores[i] >= threshold]


def hot_groups_of(
    prints: Sequence[Fingerprint],
    *,
    residents: Sequence[Hashable] | None = None,
    threshold: float = HOT,
    min_size: int = 3,
) -> list[list[int]]:
    """Groups of fingerprints about one matter that at least ``min_size``
    residents raised, most residents first (indices into ``prints``; the one
    the others are close to first). ``residents[i]`` is whoever raised
    ``prints[i]`` — one resident's several tickets on a matter make it no
    more raised by many; without it, each print is a resident of its own.
    No text is read again: a fortnight of tickets is grouped in one sparse product."""
    if len(prints) < min_size:
        return []
    who = _codes(residents if residents is not None else range(len(prints)))
    return _groups(fingerprint_matrix(prints), who, threshold, min_size)


def _codes(residents: Sequence[Hashable] | range) -> np.ndarray:
    """Each resident as a small number, the same for the same resident."""
    index: dict[Hashable, int] = {}
    return np.asarray([index.setdefault(r, len(index)) for r in residents], dtype=np.int64)


def _groups(matrix: sp.csr_matrix, who: np.ndarray, threshold: float, min_size: int) -> list[list[int]]:
    """Star groups: the row whose close rows not yet grouped come from the
    most residents, first, then them; again, while a group of ``min_size``
    residents is left."""
    close = (matrix @ matrix.T).tocsr()
    close.setdiag(1.0)  # a row is its own star's member, whatever its norm
    close.data[close.data < threshold] = 0
    close.eliminate_zeros()
    free = np.ones(matrix.shape[0], dtype=bool)

    def residents(members: np.ndarray) -> int:
        return len(np.unique(who[members]))

    def star(row: int) -> np.ndarray:
        return close.indices[close.indptr[row] : close.indptr[row + 1]]

    # Largest first; a star whose rows were taken meanwhile goes back, smaller.
    # Fewer rows than min_size cannot come from min_size residents: not counted.
    sizes = np.diff(close.indptr)
    heap = [(-n, row) for row in np.flatnonzero(sizes >= min_size).tolist() if (n := residents(star(row))) >= min_size]
    heapq.heapify(heap)
    groups = []
    while heap:
        size, row = heapq.heappop(heap)
        if not free[row]:
            continue
        members = star(row)
        members = members[free[members]]
        n = residents(members)
        if n < -size:
            if n >= min_size:
                heapq.heappush(heap, (-n, row))
            continue
        groups.append([row, *sorted(m for m in members.tolist() if m != row)])
        free[members] = False
    return groups
