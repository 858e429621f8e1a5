"""The vectorised character n-grams give scikit-learn's own TF-IDF matrix."""

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.ngrams import CharNgramVectorizer

TRAIN = [
    "小区门口的路灯坏了一个月",
    "路灯不亮，晚上走路很危险",
    "楼下饭店油烟太大，窗户都不敢开",
    "饭店油烟直排，邻居意见很大",
    "公交车站台被占用，等车不便",
    "Ａ区公交 3路 班次太少",
]
# Unseen characters, an astral-plane character, tabs and runs of spaces,
# full-width letters, and texts shorter than the longest n-gram.
UNSEEN = ["", "路", "路灯", "𠀀𠀁 路灯  坏了\t\n了", "ＡＢＣ abc 公交", "完全没见过的字"]


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3), (2, 3)])
@pytest.mark.parametrize("min_df", [1, 2])
def test_the_matrix_is_scikit_learns(ngram_range, min_df):
    ours = CharNgramVectorizer(ngram_range=ngram_range, min_df=min_df).fit(TRAIN)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=ngram_range, sublinear_tf=True, min_df=min_df).fit(TRAIN)
    assert ours.vocabulary_ == theirs.vocabulary_
    for batch in (TRAIN + UNSEEN, UNSEEN[3:4]):
        mine, expected = ours.transform(batch), theirs.transform(batch)
        assert mine.shape == expected.shape
        assert mine.has_sorted_indices
        assert np.array_equal(mine.indices, expected.indices) and np.array_equal(mine.indptr, expected.indptr)
        assert np.allclose(mine.data, expected.data)


def test_longer_ngrams_fall_back_to_scikit_learns_counting():
    ours = CharNgramVectorizer(ngram_range=(2, 4)).fit(TRAIN)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True).fit(TRAIN)
    assert np.allclose(ours.transform(UNSEEN).toarray(), theirs.transform(UNSEEN).toarray())


def test_a_pickled_vectorizer_transforms_the_same():
    ours = CharNgramVectorizer().fit(TRAIN)
    before = ours.transform(UNSEEN).toarray()
    assert np.array_equal(pickle.loads(pickle.dumps(ours)).transform(UNSEEN).toarray(), before)
