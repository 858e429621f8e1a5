"""Normalising and segmenting a message before the model reads it."""

from classifier.text import normalise, read_user_dict, tokenize


def test_place_names_from_the_projects_dictionary_stay_whole():
    # 米市巷街道 is not in jieba's own dictionary; the project's user dictionary keeps it one word.
    assert "米市巷街道" in tokenize(normalise("米市巷街道的路灯坏了，请尽快修复"))


def test_segmentation_drops_spaces_and_keeps_words():
    assert tokenize("三墩镇  路灯 坏了") == ["三墩镇", "路灯", "坏", "了"]


def test_phone_numbers_and_long_numbers_are_placeholders():
    text = normalise("电话：13812345678，门牌 12345 号，３楼")
    assert "13812345678" not in text and "12345" not in text
    assert "电话" in text and " 0 " in text
    assert "3楼" in text  # full width to half width; short numbers kept


def test_the_user_dictionary_reads_jiebas_format(tmp_path):
    path = tmp_path / "userdict.txt"
    path.write_text("物业费 1000 n\n\n加装电梯\n老小区 ns\n", encoding="utf-8")
    assert read_user_dict(path) == [("物业费", 1000, "n"), ("加装电梯", None, None), ("老小区", None, "ns")]


def test_a_missing_user_dictionary_is_empty(tmp_path):
    assert read_user_dict(tmp_path / "none.txt") == []
