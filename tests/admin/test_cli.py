"""The command line: demo, training and evaluation."""

from __future__ import annotations

import csv
import json

from sqlalchemy import func, select

from routing.store.areas import District, Station, Street
from routing.store.configuration import RoutingRule
from routing.store.people import Agency, User
from routing.store.tickets import HistoricalTicket, Ticket

HANGZHOU = {"上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区", "桐庐县", "淳安县", "建德市"}


def counts(session):
    session.expire_all()
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in (District, Street, Agency, Station, RoutingRule, User, Ticket)}


def test_demo_loads_hangzhou_and_is_idempotent(runner, session):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "演示数据已就绪" in result.output
    first = counts(session)
    assert set(session.scalars(select(District.name))) == HANGZHOU
    assert first["Street"] >= 60 and first["Agency"] >= 20 and first["Station"] >= 5 and first["Ticket"] >= 5
    assert {u.role.value for u in session.scalars(select(User))} == {"admin", "dispatcher", "agency", "deputy"}

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "没有缺少的数据" in again.output
    assert counts(session) == first


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


ROWS = [
    ("市人社局", "拖欠工资三个月不发"), ("市人社局", "社保断缴怎么补交"), ("市人社局", "公司不签劳动合同"),
    ("市交通运输局", "公交车太少等很久"), ("市交通运输局", "出租车拒载绕路"), ("市交通运输局", "网约车乱收费"),
]


def test_train_learns_whatever_the_label_column_holds_and_evaluate_prints_json(runner, tmp_path):
    data = tmp_path / "agencies.csv"
    write_csv(data, [(text, label) for label, text in ROWS])
    model = tmp_path / "agency-model.joblib"

    trained = runner.invoke(args=["classifier", "train", "--data", str(data), "--out", str(model)])
    assert trained.exit_code == 0, trained.output
    assert model.exists()

    evaluated = runner.invoke(args=["classifier", "evaluate", "--data", str(data), "--model", str(model)])
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.stdout)
    assert set(result["per_class"]) == {"市人社局", "市交通运输局"}
    assert result["accuracy"] == 1.0 and result["macro_f1"] == 1.0
    assert result["confusion_matrix"]["matrix"] == [[3, 0], [0, 3]]
    # Intake's decision at ROUTING_PRECISION, beside the per-threshold table.
    assert result["production_path"]["routing_precision"] == 0.95
    assert result["production_path"]["routed"] + result["production_path"]["to_triage"] == 6
    assert result["coverage_accuracy"]


def test_evaluate_reports_the_production_path_at_the_precision_asked_for(runner, tmp_path):
    data = tmp_path / "agencies.csv"
    write_csv(data, [(text, label) for label, text in ROWS])
    model = tmp_path / "agency-model.joblib"
    assert runner.invoke(args=["classifier", "train", "--data", str(data), "--out", str(model)]).exit_code == 0
    evaluated = runner.invoke(
        args=["classifier", "evaluate", "--data", str(data), "--model", str(model), "--precision", "0.8"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["production_path"]["routing_precision"] == 0.8
    refused = runner.invoke(args=["classifier", "evaluate", "--data", str(data), "--precision", "95"])
    assert refused.exit_code != 0


def test_evaluate_refuses_a_model_file_it_did_not_write(runner, tmp_path):
    data = tmp_path / "data.csv"
    write_csv(data, [(text, label) for label, text in ROWS])
    planted = tmp_path / "planted.joblib"
    planted.write_bytes(b"not ours")
    result = runner.invoke(args=["classifier", "evaluate", "--data", str(data), "--model", str(planted)])
    assert result.exit_code != 0
    assert "not written by this installation" in result.output


def test_train_explains_a_bad_file(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("content,category\n物业,城乡建设\n", encoding="utf-8")
    result = runner.invoke(args=["classifier", "train", "--data", str(bad)])
    assert result.exit_code != 0
    assert "text" in result.output and "label" in result.output


def test_an_administrator_enters_next_years_holidays_and_deadlines_follow(runner, session):
    from datetime import datetime

    from routing.flow.deadlines import compute_deadlines
    from routing.store.tickets import Kind, Urgency

    before = runner.invoke(args=["calendar", "show", "2027"])
    assert before.exit_code == 0 and "暂按周一至周五" in before.output
    # Thursday 31 December 2026, one working day to accept: Friday 1 January 2027 …
    start = datetime(2026, 12, 31, 10, 0)
    assert compute_deadlines(session, Kind.COMPLAINT, Urgency.NORMAL, start).accept_by == datetime(2027, 1, 1, 17, 30)

    entered = runner.invoke(args=["calendar", "holiday", "2027-01-01", "2027-01-03", "--note", "元旦"])
    assert entered.exit_code == 0, entered.output
    assert "已录入 3 天放假" in entered.output
    session.expire_all()
    # … unless it is New Year's Day: then Monday the 4th.
    assert compute_deadlines(session, Kind.COMPLAINT, Urgency.NORMAL, start).accept_by == datetime(2027, 1, 4, 17, 30)
    shown = runner.invoke(args=["calendar", "show", "2027"])
    assert "2027-01-01  放假  元旦" in shown.output

    bad = runner.invoke(args=["calendar", "workday", "2027-13-01"])
    assert bad.exit_code != 0 and "2027-02-06" in bad.output


def test_an_administrator_sets_who_supervises_an_agency(runner, demo):
    result = runner.invoke(args=["agency", "supervisor", "市住房公积金管理中心", "市住建局"])
    assert result.exit_code == 0, result.output
    assert "今后送市住建局" in result.output
    demo.expire_all()
    fund = demo.scalar(select(Agency).where(Agency.name == "市住房公积金管理中心"))
    assert fund.supervisor.name == "市住建局"
    # A circle of supervisors is refused: the housing bureau cannot sit under the fund it supervises.
    refused = runner.invoke(args=["agency", "supervisor", "市住建局", "市住房公积金管理中心"])
    assert refused.exit_code != 0 and "不能再督办" in refused.output
    assert runner.invoke(args=["agency", "supervisor", "没有这个局"]).exit_code != 0
    # Without a supervisor, notices go to the dispatcher centre.
    assert runner.invoke(args=["agency", "supervisor", "市住房公积金管理中心"]).exit_code == 0
    demo.expire_all()
    assert demo.get(Agency, fund.id).supervisor_id is None


def test_import_history_reports_a_bad_date_and_an_unknown_agency_in_one_run(runner, session, tmp_path):
    session.add(Agency(name="市人社局"))
    session.commit()
    path = tmp_path / "hotline.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["text", "agency", "created"], ["公司拖欠工资", "市人社局", "去年"],
                                 ["井盖丢了", "市城市管理局", "2024-05-01"]])
    result = runner.invoke(args=["classifier", "import-history", "--data", str(path)])
    assert result.exit_code == 1
    assert "第 2 行 created 列“去年”不是日期" in result.output and "“市城市管理局”：1 行（第 3 行）" in result.output
    assert "1 处错误，1 个承办单位不在系统中，未导入任何数据" in result.output
    assert session.scalar(select(func.count()).select_from(HistoricalTicket)) == 0
