"""Finding the district and street a message is about."""

from __future__ import annotations

import json

import pytest

from classifier.place import Gazetteer, GazetteerError, Place, find_place
from classifier.text import USER_DICT

HANGZHOU_DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区",
                      "钱塘区", "富阳区", "临安区", "桐庐县", "淳安县", "建德市"]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


def test_the_gazetteer_knows_all_thirteen_districts_and_their_streets(gazetteer):
    assert gazetteer.districts() == HANGZHOU_DISTRICTS
    assert "文新街道" in gazetteer.streets("西湖区")
    assert "千岛湖镇" in gazetteer.streets("淳安县")
    assert sum(len(gazetteer.streets(d)) for d in HANGZHOU_DISTRICTS) >= 60
    assert gazetteer.streets("不存在区") == []


@pytest.mark.parametrize(
    "text, district, street",
    [
        ("西湖区文新街道某小区物业乱收费", "西湖区", "文新街道"),
        ("米市巷街道的路灯坏了", "拱墅区", "米市巷街道"),  # the street says which district
        ("我住在文新这边", "西湖区", "文新街道"),  # a short name people use
        ("萧山的工厂半夜排废气", "萧山区", None),
        ("原江干区九堡那边", "上城区", "九堡街道"),  # a district merged in 2021
        ("下沙街道的工地", "钱塘区", "下沙街道"),  # longest match: not just 下沙
        ("千岛湖的民宿乱涨价", "淳安县", None),  # a landmark
    ],
)
def test_place_is_found_from_what_residents_write(gazetteer, text, district, street):
    place = gazetteer.find(text)
    assert (place.district, place.street) == (district, street)
    assert place.matched


@pytest.mark.parametrize("text", ["钱塘江边的步道没有路灯", "西湖边游客太多", "请重新登记一下", "", "路灯坏了"])
def test_words_that_only_look_like_places_give_no_place(gazetteer, text):
    assert gazetteer.find(text) == Place()
    assert not gazetteer.find(text)


def test_a_named_district_outranks_a_street_of_another_district(gazetteer):
    place = gazetteer.find("上城区的文新街道")
    assert place.district == "上城区"
    assert place.street is None
    assert place.matched == ("上城区", "文新街道")


def test_the_module_function_uses_the_shipped_gazetteer():
    assert find_place("滨江区长河街道").label == "滨江区长河街道"


def test_every_place_word_is_in_the_tokenizers_dictionary(gazetteer):
    # So jieba keeps 米市巷街道 in one piece and the model sees it as one word.
    words = {line.split()[0] for line in USER_DICT.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert set(gazetteer.words()) <= words


def test_a_broken_gazetteer_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "gazetteer.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(GazetteerError, match="gazetteer.json"):
        Gazetteer.load(path)
    path.write_text(json.dumps({"districts": [{"streets": []}]}), encoding="utf-8")
    with pytest.raises(GazetteerError, match="malformed"):
        Gazetteer.load(path)


# -- a city's own places, laid over the shipped file --------------------------


def test_a_merged_gazetteer_reads_the_aliases_and_streets_it_is_given(gazetteer):
    city = gazetteer.merged({"districts": [
        {"name": "西湖区", "aliases": ["西湖风景区"], "streets": ["转塘街道"], "landmarks": {"龙坞茶村": "转塘街道"}},
        {"name": "新城区", "aliases": ["新城"], "streets": ["新街街道"], "landmarks": {}},
    ]})
    assert city.find("龙坞茶村的路灯坏了") == Place("西湖区", "转塘街道", ("龙坞茶村",))
    assert city.find("新城这边井盖丢了").district == "新城区"
    assert city.streets("新城区") == ["新街街道"] and city.streets("西湖区") == gazetteer.streets("西湖区")
    assert gazetteer.find("龙坞茶村的路灯坏了") == Place()  # the shipped gazetteer is left as it was


def test_a_name_the_city_gives_wins_over_the_shipped_file(gazetteer):
    assert gazetteer.find("钱塘江边的垃圾").district is None  # a river, by the shipped file
    city = gazetteer.merged({"districts": [{"name": "钱塘区", "aliases": ["钱塘江"]}]})
    assert city.find("钱塘江边的垃圾").district == "钱塘区"


def test_a_malformed_extra_says_so(gazetteer):
    with pytest.raises(GazetteerError, match="malformed"):
        gazetteer.merged({"districts": [{"aliases": ["x"]}]})


def test_an_extra_that_repeats_the_shipped_file_changes_nothing(gazetteer):
    same = {"districts": [{"name": "上城区", "aliases": ["上城"], "streets": ["湖滨街道"], "landmarks": {}}]}
    assert gazetteer.merged(same) is gazetteer
    assert gazetteer.merged({"districts": [{"name": "上城区", "streets": ["新街道"]}]}) is not gazetteer
