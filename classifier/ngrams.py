"""Character n-gram TF-IDF that counts a whole batch in numpy.

scikit-learn's TfidfVectorizer looks every n-gram of every text up in a
Python dict: for a 300-character message and n-grams up to three, that is
about 900 lookups, and they were most of the classifier's time. Here each
n-gram of up to three characters is a 63-bit integer made from its code
points, and a batch's n-grams are found in the sorted vocabulary with one
``searchsorted``. Fitting is scikit-learn's own (vocabulary, min_df, IDF); only
the counting at transform time differs, and a test holds the matrices equal.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

# A code point plus one (so that no n-gram's key is a shorter n-gram's) fits
# in 21 bits; three of them in 63.
_BITS = 21
MAX_CHARS = 3


def ngram_keys(codes: np.ndarray, n: int) -> np.ndarray:
    """The integer key of every n-gram of one text's code points (plus one)."""
    count = len(codes) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    key = codes[:count].copy()
    for offset in range(1, n):
        key <<= _BITS
        key |= codes[offset : offset + count]
    return key


def code_points(text: str) -> np.ndarray:
    """A text's code points, each plus one (see ``_BITS``)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64) + 1


def vocabulary_keys(vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """A vocabulary of n-grams of up to three characters as sorted integer
    keys, and their columns; the terms of each length keyed in one pass."""
    keys, columns = [], []
    for n in range(1, MAX_CHARS + 1):
        terms = [term for term in vocabulary if len(term) == n]
        points = code_points("".join(terms)).reshape(-1, n)
        key = points[:, 0].copy()
        for offset in range(1, n):
            key <<= _BITS
            key |= points[:, offset]
        keys.append(key)
        columns.append(np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int64, count=len(terms)))
    if sum(map(len, keys)) != len(vocabulary):
        raise ValueError(f"a vocabulary of n-grams of more than {MAX_CHARS} characters")
    keys_all, columns_all = np.concatenate(keys), np.concatenate(columns)
    order = np.argsort(keys_all)
    return keys_all[order], columns_all[order]


def find_keys(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each key stands in ``sorted_keys``, and which keys are there at all."""
    where = np.searchsorted(sorted_keys, keys)
    where[where == len(sorted_keys)] = 0
    known = sorted_keys[where] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
    return where, known


def _counts(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], dtype) -> sp.csr_matrix:
    """How often each (row, column) pair occurs, with sorted indices, as
    scikit-learn's counting gives it."""
    X = sp.csr_matrix((np.ones(len(rows), dtype=dtype), (rows, columns)), shape=shape, dtype=dtype)
    X.sum_duplicates()
    return X


class CharNgramVectorizer(TfidfVectorizer):
    """``TfidfVectorizer(analyzer="char")``, with a vectorised transform for
    n-grams of at most three characters (otherwise scikit-learn's own)."""

    def __init__(
        self, *, preprocessor=None, ngram_range=(1, 3), sublinear_tf=True, min_df=1, max_df=1.0, dtype=np.float64
    ) -> None:
        super().__init__(
            analyzer="char",
            preprocessor=preprocessor,
            ngram_range=ngram_range,
            sublinear_tf=sublinear_tf,
            min_df=min_df,
            max_df=max_df,
            dtype=dtype,
        )

    def _vocabulary_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary as sorted integer keys and their columns, made once."""
        cached = getattr(self, "_keys_", None)
        if cached is None or cached[2] is not self.vocabulary_:
            cached = (*vocabulary_keys(self.vocabulary_), self.vocabulary_)
            self._keys_ = cached
        return cached[0], cached[1]

    def _count_vocab(self, raw_documents, fixed_vocab):
        min_n, max_n = self.ngram_range
        if not fixed_vocab or max_n > MAX_CHARS or min_n < 1:
            return super()._count_vocab(raw_documents, fixed_vocab)
        sorted_keys, vocabulary_columns = self._vocabulary_keys()
        preprocess, spaces = self.build_preprocessor(), self._white_spaces
        texts = [spaces.sub(" ", preprocess(self.decode(document))) for document in raw_documents]
        n_documents = len(texts)
        # The whole batch as one array of code points, each text followed by
        # one separator position (row -1); an n-gram counts only where all its
        # positions lie in the same text.
        batch = code_points("".join(text + "\x00" for text in texts))
        lengths = np.array([len(text) + 1 for text in texts], dtype=np.int64)
        row = np.repeat(np.arange(n_documents, dtype=np.int64), lengths)
        row[np.cumsum(lengths) - 1] = -1
        keys, rows = [], []
        for n in range(min_n, max_n + 1):
            found = ngram_keys(batch, n)
            start = row[: len(found)]
            inside = start >= 0
            for offset in range(1, n):
                inside &= row[offset : offset + len(found)] == start
            keys.append(found[inside])
            rows.append(start[inside])
        keys_all, rows_all = np.concatenate(keys), np.concatenate(rows)
        where, known = find_keys(sorted_keys, keys_all)
        X = _counts(rows_all[known], vocabulary_columns[where[known]], (n_documents, len(self.vocabulary_)), self.dtype)
        return self.vocabulary_, X


class WordNgramVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` over a tokenizer's words and word pairs, with a
    vectorised transform for unigrams and bigrams.

    Each word is looked up once; a pair is then two vocabulary columns made
    into one integer, found with ``searchsorted`` instead of being joined into
    a string and looked up again. Falls back to scikit-learn's counting for
    longer n-grams, or when a pair in the vocabulary has a word that is not
    (which only pruning by max_df can cause).
    """

    def __init__(
        self,
        *,
        tokenizer=None,
        preprocessor=None,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
        max_df=1.0,
        dtype=np.float64,
    ):
        super().__init__(
            tokenizer=tokenizer,
            preprocessor=preprocessor,
            token_pattern=None,
            lowercase=False,
            ngram_range=ngram_range,
            sublinear_tf=sublinear_tf,
            min_df=min_df,
            max_df=max_df,
            dtype=dtype,
        )

    def _pair_index(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Vocabulary pairs as sorted ``first * width + second`` keys and their
        columns; None when some pair cannot be found from its words."""
        cached = getattr(self, "_pairs_", None)
        if cached is not None and cached[1] is self.vocabulary_:
            return cached[0]
        width = len(self.vocabulary_)
        keys, columns, index = [], [], None
        for term, column in self.vocabulary_.items():
            if " " not in term:
                continue
            parts = term.split(" ")
            if len(parts) != 2 or parts[0] not in self.vocabulary_ or parts[1] not in self.vocabulary_:
                break
            keys.append(self.vocabulary_[parts[0]] * width + self.vocabulary_[parts[1]])
            columns.append(column)
        else:
            keys_array = np.array(keys, dtype=np.int64)
            order = np.argsort(keys_array)
            index = (keys_array[order], np.array(columns, dtype=np.int64)[order])
        self._pairs_ = (index, self.vocabulary_)
        return index

    def _count_vocab(self, raw_documents, fixed_vocab):
        min_n, max_n = self.ngram_range
        pairs = self._pair_index() if fixed_vocab and min_n == 1 and max_n <= 2 and not self.stop_words else None
        if pairs is None:
            return super()._count_vocab(raw_documents, fixed_vocab)
        preprocess, tokenize = self.build_preprocessor(), self.build_tokenizer()
        get = self.vocabulary_.get
        ids: list[int] = []
        lengths: list[int] = []
        for document in raw_documents:
            words = tokenize(preprocess(self.decode(document)))
            ids.extend([get(w, -1) for w in words])
            ids.append(-1)  # no pair across two documents
            lengths.append(len(words) + 1)
        column = np.array(ids, dtype=np.int64)
        row = np.repeat(np.arange(len(lengths)), lengths)
        single = column >= 0
        rows, columns = [row[single]], [column[single]]
        if max_n == 2 and len(pairs[0]):
            first, second = column[:-1], column[1:]
            both = (first >= 0) & (second >= 0)
            keys = first[both] * len(self.vocabulary_) + second[both]
            where, known = find_keys(pairs[0], keys)
            rows.append(row[:-1][both][known])
            columns.append(pairs[1][where[known]])
        X = _counts(np.concatenate(rows), np.concatenate(columns), (len(lengths), len(self.vocabulary_)), self.dtype)
        return self.vocabulary_, X
