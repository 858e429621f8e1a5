"""The vectorised character n-grams give scikit-learn's own TF-IDF matrix."""

import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.ngrams import CharNgramVectorizer, WordNgramVectorizer

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
UNSEEN = ["", "路", "路灯", "𠀀𠀁 路灯  坏了\t\n了", "ＡＢＣ abc 公交", "完全没见过的字", "路\x00灯"]


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


def test_an_empty_batch_is_refused_as_scikit_learn_refuses_it():
    ours = CharNgramVectorizer().fit(TRAIN)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(TRAIN)
    for vectorizer in (ours, theirs):
        with pytest.raises(ValueError, match="0 sample"):
            vectorizer.transform([])


def test_longer_ngrams_fall_back_to_scikit_learns_counting():
    ours = CharNgramVectorizer(ngram_range=(2, 4)).fit(TRAIN)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True).fit(TRAIN)
    assert np.allclose(ours.transform(UNSEEN).toarray(), theirs.transform(UNSEEN).toarray())


def test_a_pickled_vectorizer_transforms_the_same():
    ours = CharNgramVectorizer().fit(TRAIN)
    before = ours.transform(UNSEEN).toarray()
    assert np.array_equal(pickle.loads(pickle.dumps(ours)).transform(UNSEEN).toarray(), before)


WORDS_TRAIN = [
    "小区 门口 路灯 坏 了",
    "路灯 不亮 晚上 走路 危险",
    "饭店 油烟 太大 窗户 不敢 开",
    "饭店 油烟 直排 邻居 意见 大",
    "路灯 坏 了 一个月",
]
WORDS_UNSEEN = ["", "路灯", "路灯 坏 了 饭店 油烟", "完全 陌生 的 词", "油烟 油烟 油烟"]


def split(text):
    return text.split()


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3)])
@pytest.mark.parametrize("min_df", [1, 2])
def test_word_pairs_give_scikit_learns_matrix(ngram_range, min_df):
    ours = WordNgramVectorizer(tokenizer=split, ngram_range=ngram_range, min_df=min_df).fit(WORDS_TRAIN)
    theirs = TfidfVectorizer(
        tokenizer=split, token_pattern=None, lowercase=False, ngram_range=ngram_range, sublinear_tf=True, min_df=min_df
    ).fit(WORDS_TRAIN)
    assert ours.vocabulary_ == theirs.vocabulary_
    for batch in (WORDS_TRAIN + WORDS_UNSEEN, WORDS_UNSEEN[2:3]):
        mine, expected = ours.transform(batch), theirs.transform(batch)
        assert np.array_equal(mine.indices, expected.indices) and np.array_equal(mine.indptr, expected.indptr)
        assert np.allclose(mine.data, expected.data)


def test_a_pair_whose_word_was_pruned_falls_back_to_scikit_learns_counting():
    # max_df drops 路灯 (in most texts) but keeps 路灯 坏: the pair cannot be found from its words.
    ours = WordNgramVectorizer(tokenizer=split, max_df=0.5).fit(WORDS_TRAIN)
    theirs = TfidfVectorizer(tokenizer=split, token_pattern=None, lowercase=False, ngram_range=(1, 2), sublinear_tf=True, max_df=0.5).fit(WORDS_TRAIN)
    assert "路灯" not in ours.vocabulary_ and "路灯 坏" in ours.vocabulary_
    assert ours._pair_index() is None
    assert np.allclose(ours.transform(WORDS_UNSEEN).toarray(), theirs.transform(WORDS_UNSEEN).toarray())
