"""Texts about the same matter are found; texts about other matters are not."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from classifier.similar import (
    FINGERPRINT_TERMS,
    fingerprint_matrix,
    fingerprints,
    hot_groups_of,
    most_similar,
    vectors,
)

STREETLIGHT = [
    "拱墅区米市巷街道大关路的路灯坏了一个星期，晚上很黑",
    "米市巷街道大关路上路灯不亮了，好几天了，请尽快修",
    "大关路路灯一到晚上就不亮，米市巷街道的居民出行不便",
]
OTHERS = ["西湖区文新街道某小区物业乱收停车费", "公司拖欠工资三个月", "滨江区长河街道工地夜间施工噪音扰民"]


def test_the_same_matter_retold_is_found_and_other_matters_are_not():
    candidates = [OTHERS[0], STREETLIGHT[0], OTHERS[1], STREETLIGHT[1], OTHERS[2]]
    found = most_similar("拱墅区大关路路灯坏了没人修，米市巷街道", candidates)
    assert [i for i, _ in found] == [1, 3]
    assert all(0 < score <= 1 for _, score in found)
    assert most_similar("我想问问社保怎么交", candidates) == []
    assert most_similar("", candidates) == [] and most_similar("路灯坏了", []) == []


def test_a_matter_many_residents_raise_is_a_hot_issue():
    texts = [OTHERS[0], *STREETLIGHT, OTHERS[1], "文新街道小区物业停车费涨价太离谱"]
    assert hot_groups_of(fingerprints(texts)) == [[1, 2, 3]]
    assert hot_groups_of(fingerprints(texts), min_size=4) == []


def test_a_fingerprint_is_the_heaviest_terms_at_unit_length_the_same_in_every_process():
    long_text = "，".join([*STREETLIGHT, *OTHERS])
    (fingerprint,) = fingerprints([long_text])
    weights = [weight for _, weight in fingerprint]
    assert len(fingerprint) == FINGERPRINT_TERMS and weights == sorted(weights, reverse=True)
    assert abs(sum(w * w for w in weights) - 1) < 1e-4
    assert len({term for term, _ in fingerprint}) == FINGERPRINT_TERMS
    # Stored in the index, it must not depend on the process (Python salts str hashes per process).
    script = "import sys, json; from classifier.similar import fingerprints; print(json.dumps(fingerprints([sys.argv[1]])))"
    other = subprocess.run(
        [sys.executable, "-c", script, long_text], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert [tuple(pair) for pair in json.loads(other.stdout)[0]] == [tuple(pair) for pair in fingerprint]
    assert fingerprints(["", "  "]) == [(), ()] and fingerprints([]) == []


def test_fingerprints_stand_in_for_the_texts():
    texts = [*STREETLIGHT, *OTHERS]
    prints = fingerprint_matrix(fingerprints(texts))
    whole = vectors(texts)
    # Short texts keep all or nearly all their terms: the fingerprints' cosine is nearly the texts'.
    assert abs((prints @ prints.T).toarray() - (whole @ whole.T).toarray()).max() < 0.01
    assert hot_groups_of(fingerprints([OTHERS[0], *STREETLIGHT, OTHERS[1]])) == [[1, 2, 3]]


def test_a_hot_issue_is_a_star_around_one_ticket_not_a_chain():
    # Five tickets, each close to the next only: 0–1–2–3–4.
    chain = [((0, 1.0),), ((0, 0.6), (1, 0.8)), ((1, 0.6), (2, 0.8)), ((2, 0.6), (3, 0.8)), ((3, 1.0),)]
    groups = hot_groups_of(chain, threshold=0.4, min_size=3)
    assert groups == [[1, 0, 2]]  # the centre first; 3 and 4 are too few to make another
    assert hot_groups_of(chain, threshold=0.4, min_size=2) == [[1, 0, 2], [3, 4]]
    assert hot_groups_of(chain[:2], min_size=3) == []
