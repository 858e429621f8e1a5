"""From a city's history to a learned agency, on the command line."""

from __future__ import annotations

import csv
import shutil

import pytest
from sqlalchemy import func, select

from classifier import ModelStore
from routing.store.tickets import HistoricalTicket

PLACES = ("西湖区", "拱墅区", "滨江区")
TEMPLATES = {
    "市人社局": ("公司拖欠工资三个月不发", "老板欠薪跑路了", "单位不给缴社保", "加班费一直不给算",
                "辞退员工不给补偿金", "不签劳动合同就上岗"),
    "市交通运输局": ("公交车太少要等半小时", "公交司机开车太猛", "公交线路绕得太远", "夜里没有公交车",
                   "公交车经常不停站", "出租车拒载还绕路"),
    "市城管局": ("流动摊贩占道经营", "店铺把货摆到人行道上", "路边烧烤油烟扰民", "违章搭建的棚子没人拆",
                "广告牌挂得乱七八糟", "垃圾桶满了没人清"),
}


@pytest.fixture
def app_config(model_dir, tmp_path):
    # A store of this test's own: training must not change the model other tests use.
    store = tmp_path / "models"
    shutil.copytree(model_dir, store)
    return {"MODEL_DIR": str(store)}


def history_file(path, agencies=TEMPLATES):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "agency", "created"])
        for agency, texts in agencies.items():
            for place in PLACES:
                for text in texts:
                    writer.writerow([f"{place}{text}，希望尽快处理", agency, "2025-06-01"])
    return path


def test_imported_history_teaches_the_agency_model(app, runner, demo, tmp_path):
    path = history_file(tmp_path / "history.csv")
    imported = runner.invoke(args=["classifier", "import-history", "--data", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "新导入 54 条，已有 0 条" in imported.output
    again = runner.invoke(args=["classifier", "import-history", "--data", str(path)])
    assert "新导入 0 条，已有 54 条" in again.output
    assert demo.scalar(select(func.count()).select_from(HistoricalTicket)) == 54

    store = ModelStore(app.config["MODEL_DIR"])
    trained = runner.invoke(args=["classifier", "train"])
    assert trained.exit_code == 0, trained.output
    assert "承办单位样本 54 条：已办结工单 0，历史工单 54，调度员纠错 0" in trained.output
    assert "训练承办单位模型：3 个单位" in trained.output and "已启用" in trained.output
    active = store.manifest()["versions"][store.active_version()]
    assert active["agency"]["agencies"] == sorted(TEMPLATES)
    assert active["agency"]["evaluation"]["held_out_examples"] > 0

    listed = runner.invoke(args=["classifier", "versions"])
    assert "承办单位模型 3 个单位" in listed.output and "无承办单位模型" in listed.output

    live = app.extensions["tingjian"].classifier
    live.active.check_every = 0
    prediction = live.current().predict("上城区有家公司拖欠工资半年了")
    assert prediction.agency == "市人社局" and prediction.model_version == store.active_version()


def test_too_little_history_keeps_routing_by_rules(app, runner, demo, tmp_path):
    path = history_file(tmp_path / "few.csv", {"市人社局": TEMPLATES["市人社局"][:1]})
    assert runner.invoke(args=["classifier", "import-history", "--data", str(path)]).exit_code == 0
    trained = runner.invoke(args=["classifier", "train"])
    assert trained.exit_code == 0, trained.output
    assert "承办单位样本不足" in trained.output and "派单仍只按规则" in trained.output


def test_a_bad_file_or_an_unknown_agency_imports_nothing_and_says_what_to_do(runner, demo, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,agency\n公司拖欠工资,市人社局\n,市人社局\n", encoding="utf-8")
    failed = runner.invoke(args=["classifier", "import-history", "--data", str(bad)])
    assert failed.exit_code != 0
    assert "第 3 行 text 列为空" in failed.output and "未导入任何数据" in failed.output

    unknown = tmp_path / "unknown.csv"
    unknown.write_text("text,agency\n公司拖欠工资,市人社局\n井盖丢了,市城市管理局\n", encoding="utf-8")
    failed = runner.invoke(args=["classifier", "import-history", "--data", str(unknown)])
    assert failed.exit_code != 0
    assert "“市城市管理局”：1 行（第 3 行）" in failed.output and "--skip-unknown" in failed.output
    assert demo.scalar(select(func.count()).select_from(HistoricalTicket)) == 0

    skipped = runner.invoke(args=["classifier", "import-history", "--data", str(unknown), "--skip-unknown"])
    assert skipped.exit_code == 0, skipped.output
    assert "新导入 1 条" in skipped.output and "跳过未知承办单位 1 行（市城市管理局）" in skipped.output
