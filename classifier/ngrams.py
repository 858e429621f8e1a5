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
_MAX_N = 3


def _keys(codes: np.ndarray, n: int) -> np.ndarray:
    """The integer key of every n-gram of one text's code points (plus one)."""
    count = len(codes) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    key = codes[:count].copy()
    for offset in range(1, n):
        key <<= _BITS
        key |= codes[offset : offset + count]
    return key


class CharNgramVectorizer(TfidfVectorizer):
    """``TfidfVectorizer(analyzer="char")``, with a vectorised transform for
    n-grams of at most three characters (otherwise scikit-learn's own)."""

    def __init__(self, *, ngram_range=(1, 3), sublinear_tf=True, min_df=1, max_df=1.0, dtype=np.float64) -> None:
        super().__init__(
            analyzer="char", ngram_range=ngram_range, sublinear_tf=sublinear_tf, min_df=min_df, max_df=max_df, dtype=dtype
        )

    def _vocabulary_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary as sorted integer keys and their columns, made once."""
        cached = getattr(self, "_keys_", None)
        if cached is None or cached[2] is not self.vocabulary_:
            terms = list(self.vocabulary_)
            columns = np.fromiter(self.vocabulary_.values(), dtype=np.int64, count=len(terms))
            keys = np.array([int(_keys(self._codes(t), len(t))[0]) for t in terms], dtype=np.int64)
            order = np.argsort(keys)
            cached = (keys[order], columns[order], self.vocabulary_)
            self._keys_ = cached
        return cached[0], cached[1]

    @staticmethod
    def _codes(text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64) + 1

    def _count_vocab(self, raw_documents, fixed_vocab):
        min_n, max_n = self.ngram_range
        if not fixed_vocab or max_n > _MAX_N or min_n < 1:
            return super()._count_vocab(raw_documents, fixed_vocab)
        vocabulary_keys, vocabulary_columns = self._vocabulary_keys()
        preprocess = self.build_preprocessor()
        rows, keys = [], []
        n_documents = 0
        for row, document in enumerate(raw_documents):
            text = self._white_spaces.sub(" ", preprocess(self.decode(document)))
            codes = self._codes(text)
            for n in range(min_n, max_n + 1):
                found = _keys(codes, n)
                keys.append(found)
                rows.append(np.full(len(found), row, dtype=np.int64))
            n_documents = row + 1
        keys_all = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
        rows_all = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        where = np.searchsorted(vocabulary_keys, keys_all)
        where[where == len(vocabulary_keys)] = 0
        known = vocabulary_keys[where] == keys_all if len(vocabulary_keys) else np.zeros(len(keys_all), bool)
        X = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=self.dtype), (rows_all[known], vocabulary_columns[where[known]])),
            shape=(n_documents, len(self.vocabulary_)),
            dtype=self.dtype,
        )
        X.sum_duplicates()  # also sorts the indices, as scikit-learn's counting does
        return self.vocabulary_, X
