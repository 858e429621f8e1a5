"""The classifier learns the city on its own: a retraining is due on a
schedule or after enough new examples, trains one at a time, activates only
what passes the hold-out gate, and the learning page shows it, rolls it back
and settles contradicting corrections."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from admin.learning import (
    RETRAIN,
    RETRAIN_CHECK,
    RUN_KEY,
    Schedule,
    request_retraining,
    retrain_from_city,
    schedule_check,
)
from classifier import Dataset, ModelStore
from classifier.learning import is_held_out
from routing.dispatch.corrections import topic_examples
from routing.flow import workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.configuration import ConfigChange
from routing.store.jobs import QUEUED, Job
from routing.store.people import Role, User
from routing.store.retraining import ACTIVATED, COUNT, MANUAL, REFUSED, SCHEDULE, Retraining
from routing.store.workers import run_pending

from ..conftest import post_form
from ..helpers import ticket
from .test_flow import submit_on_the_station_page

NOW = datetime(2026, 10, 12, 3, 0)
# The learning tests' small corpus: training on it takes a moment, not the shipped corpus's minute.
CORPUS = Dataset(
    [
        "小区物业乱收停车费", "物业公司不作为，电梯坏了没人修", "物业费年年涨，服务越来越差",
        "工厂排放黑烟，空气很臭", "化工厂废气刺鼻，晚上排放", "烧垃圾的黑烟飘进小区",
        "公交车司机开车太猛", "公交线路太少，等车要半小时", "建议增开公交夜班车",
    ],
    ["城乡建设/物业管理"] * 3 + ["环境保护/大气污染"] * 3 + ["交通运输/公交"] * 3,
)
PROPERTY, BUS = "城乡建设/物业管理", "交通运输/公交"


@pytest.fixture
def app_config(model_dir, tmp_path):
    # A store of this test's own: retraining must not change the model other tests use.
    store = tmp_path / "models"
    shutil.copytree(model_dir, store)
    return {"MODEL_DIR": str(store)}


@pytest.fixture
def learning(app):
    state = app.extensions["tingjian.learning"]
    state.corpus = lambda: CORPUS
    return state


def dispatcher(session) -> User:
    return session.scalar(select(User).where(User.username == "dispatcher"))


def corrected(session, text: str, label: str, at: datetime = NOW):
    t = open_ticket(session, Inbound(channel="api", text=text), Labels(topic="其他", confidence=0.9), at)
    topic, subtopic = label.split("/")
    workflow.correct(session, t, dispatcher(session), at, topic=topic, subtopic=subtopic)
    session.commit()
    return t


def property_texts(n: int, held_out: bool) -> list[str]:
    texts = (f"第{i}号楼的物业管理混乱，物业费收了不办事" for i in range(1000))
    return [t for t in texts if is_held_out(t) == held_out][:n]


def teach(session, train_label: str, held_out_label: str = PROPERTY, at: datetime = NOW) -> None:
    """Six corrections to train on labelled ``train_label``, three held out labelled ``held_out_label``."""
    for text in property_texts(6, held_out=False):
        corrected(session, text, train_label, at)
    for text in property_texts(3, held_out=True):
        corrected(session, text, held_out_label, at)


def run_jobs(app, at: datetime) -> int:
    services = app.extensions["tingjian"]
    return run_pending(services.db, services.jobs, lambda: at)


# -- when a retraining is due -----------------------------------------------------


def test_a_retraining_is_due_a_week_after_the_last_and_only_with_something_new(demo):
    weekly = Schedule(every_days=7, after_examples=0)
    assert weekly.due(demo, NOW + timedelta(days=30)) is None  # nothing to learn from
    corrected(demo, "电梯坏了一个月没人修", PROPERTY, NOW)
    assert weekly.due(demo, NOW + timedelta(days=6, hours=23)) is None
    assert weekly.due(demo, NOW + timedelta(days=7)) == SCHEDULE

    demo.add(Retraining(started_at=NOW + timedelta(days=7), trigger=SCHEDULE, outcome=ACTIVATED))
    demo.commit()
    assert weekly.due(demo, NOW + timedelta(days=20)) is None  # nothing new since that one
    corrected(demo, "楼道堆满杂物，物业不清理", PROPERTY, NOW + timedelta(days=8))
    assert weekly.due(demo, NOW + timedelta(days=13)) is None
    assert weekly.due(demo, NOW + timedelta(days=14)) == SCHEDULE
    assert Schedule(every_days=0, after_examples=0).due(demo, NOW + timedelta(days=365)) is None


def test_a_retraining_is_due_as_soon_as_enough_new_examples_came_in(demo):
    counted = Schedule(every_days=0, after_examples=3)
    demo.add(Retraining(started_at=NOW, trigger=MANUAL, outcome=REFUSED))
    corrected(demo, "电梯坏了一个月没人修", PROPERTY, NOW - timedelta(hours=1))  # learnt from already
    corrected(demo, "楼道堆满杂物，物业不清理", PROPERTY, NOW + timedelta(hours=1))
    corrected(demo, "物业不修路灯", PROPERTY, NOW + timedelta(hours=2))
    assert counted.due(demo, NOW + timedelta(hours=3)) is None
    corrected(demo, "小区门口的垃圾没人清", PROPERTY, NOW + timedelta(hours=3))
    assert counted.due(demo, NOW + timedelta(hours=3)) == COUNT


def test_the_hourly_check_enqueues_the_retraining_when_due(app, demo, learning):
    learning.schedule = Schedule(every_days=0, after_examples=2)
    teach(demo, PROPERTY)
    run_jobs(app, NOW)  # whatever the demo queued; a test starts no chain of checks by itself
    schedule_check(demo, NOW)
    demo.commit()
    assert run_jobs(app, NOW + timedelta(hours=1)) >= 2  # the check, then the retraining it asked for
    [run] = demo.scalars(select(Retraining)).all()
    assert run.trigger == COUNT and run.started_at == NOW + timedelta(hours=1)
    assert demo.scalar(select(Job).where(Job.kind == RETRAIN_CHECK, Job.status == QUEUED)) is not None


# -- the gate ---------------------------------------------------------------------


def test_the_job_activates_a_model_that_does_as_well_on_held_out_corrections(app, demo, learning):
    before = learning.store.active_version()
    teach(demo, PROPERTY)
    assert request_retraining(demo, NOW, MANUAL, dispatcher(demo))
    demo.commit()
    run_jobs(app, NOW)
    run = demo.scalar(select(Retraining))
    assert run.outcome == ACTIVATED and run.trigger == MANUAL and run.requested_by_id == dispatcher(demo).id
    assert run.version_before == before and run.version_after == learning.store.active_version() != before
    assert run.held_out == 3 and run.corrections == 6
    assert run.accuracy_after == pytest.approx(1.0) and run.accuracy_after >= run.accuracy_before
    assert run.examples == len(CORPUS) + 6
    change = demo.scalar(select(ConfigChange).where(ConfigChange.subject == "model"))
    assert change.before == {"version": before} and change.after == {"version": run.version_after}


def test_the_job_refuses_a_model_that_learnt_wrong_labels(app, demo, learning):
    before = learning.store.active_version()
    teach(demo, BUS)  # trained on wrong labels, judged on right ones
    request_retraining(demo, NOW, MANUAL)
    demo.commit()
    run_jobs(app, NOW)
    run = demo.scalar(select(Retraining))
    assert run.outcome == REFUSED and run.accuracy_after < run.accuracy_before
    assert learning.store.active_version() == before
    assert run.version_after in learning.store.manifest()["versions"]  # kept, to be looked at


def test_only_one_retraining_waits_or_runs_at_a_time(app, demo, learning):
    assert request_retraining(demo, NOW, MANUAL)
    demo.commit()
    assert not request_retraining(demo, NOW, COUNT)
    demo.commit()
    assert demo.scalars(select(Job).where(Job.kind == RETRAIN)).all()[0].key == RUN_KEY
    assert len(demo.scalars(select(Job).where(Job.kind == RETRAIN)).all()) == 1
    teach(demo, PROPERTY)
    run_jobs(app, NOW)
    assert request_retraining(demo, NOW + timedelta(hours=1), MANUAL)  # done: the next may come
    demo.commit()


# -- the learning page -------------------------------------------------------------


def test_the_page_shows_the_figures_and_rolls_back_for_new_tickets(app, client, auth, demo, learning):
    shipped = learning.store.active_version()
    teach(demo, PROPERTY)
    retrain_from_city(demo, learning, NOW, MANUAL)
    demo.commit()
    new = learning.store.active_version()
    assert new != shipped

    auth.login("dispatcher")
    page = client.get("/desk/learning/").get_data(as_text=True)
    assert "模型学习" in page and f'id="active-version">{new}<' in page
    assert "100.0%" in page and "留出 3 条" in page and "纠错 6 条" in page
    assert f"回滚到上一版本 {shipped}" in page

    live = app.extensions["tingjian"].classifier
    live.active.check_every = 0
    post_form(client, "/desk/learning/activate", {"version": shipped}, page="/desk/learning/")
    assert learning.store.active_version() == shipped
    change = demo.scalars(select(ConfigChange).where(ConfigChange.subject == "model")
                          .order_by(ConfigChange.id.desc())).first()
    assert change.actor_id == dispatcher(demo).id and change.after == {"version": shipped}
    auth.logout()
    number, _ = submit_on_the_station_page(client, demo, "小区物业乱收停车费，业主意见很大")
    assert ticket(demo, number).prediction["model_version"] == shipped


def test_an_unknown_version_is_refused_and_nothing_changes(client, auth, demo, learning):
    before = learning.store.active_version()
    auth.login("dispatcher")
    answer = post_form(client, "/desk/learning/activate", {"version": "no-such-version"}, page="/desk/learning/",
                       follow_redirects=True)
    assert "没有模型版本 no-such-version" in answer.get_data(as_text=True)
    assert learning.store.active_version() == before
    assert demo.scalar(select(ConfigChange).where(ConfigChange.subject == "model")) is None


def test_retrain_now_enqueues_the_job_once(client, auth, demo, learning):
    auth.login("dispatcher")
    first = post_form(client, "/desk/learning/retrain", {}, page="/desk/learning/", follow_redirects=True)
    assert "已安排重新训练" in first.get_data(as_text=True)
    again = post_form(client, "/desk/learning/retrain", {}, page="/desk/learning/", follow_redirects=True)
    assert "已有一次重新训练在排队或进行中" in again.get_data(as_text=True)
    jobs = demo.scalars(select(Job).where(Job.kind == RETRAIN)).all()
    assert len(jobs) == 1 and jobs[0].payload == {"trigger": MANUAL, "by": dispatcher(demo).id}


def test_a_contradicted_pair_is_not_learnt_is_listed_and_is_learnt_once_settled(app, client, auth, demo, learning):
    corrected(demo, "小区物业乱收停车费，一个月要三百元", PROPERTY)
    other = corrected(demo, "小区物业乱收停车费，一个月要三百元！", BUS)
    run = retrain_from_city(demo, learning, NOW, MANUAL)
    demo.commit()
    assert run.withheld == 2 and run.corrections == 0

    auth.login("dispatcher")
    page = client.get("/desk/learning/").get_data(as_text=True)
    assert "互相矛盾的纠错（1）" in page and other.number in page
    handle = re.search(r'name="correction" value="(\d+)"', page).group(1)
    post_form(client, "/desk/learning/settle", {"correction": handle, "label": PROPERTY}, page="/desk/learning/")
    assert ("小区物业乱收停车费，一个月要三百元", PROPERTY) in topic_examples(demo)
    assert "没有互相矛盾的纠错。" in client.get("/desk/learning/").get_data(as_text=True)
    later = retrain_from_city(demo, learning, NOW + timedelta(days=1), MANUAL)
    assert later.withheld == 0 and later.corrections + later.held_out == 1


# -- who may, in which language -----------------------------------------------------


@pytest.mark.parametrize("login", ["zhujian", "deputy"])
def test_agency_staff_and_deputies_are_refused(client, auth, demo, learning, login):
    before = learning.store.active_version()
    auth.login(login)
    assert client.get("/desk/learning/").status_code == 403
    assert post_form(client, "/desk/learning/activate", {"version": before}, page="/").status_code == 403
    assert post_form(client, "/desk/learning/retrain", {}, page="/").status_code == 403
    assert demo.scalar(select(Job).where(Job.kind == RETRAIN)) is None


def test_residents_are_sent_to_the_login(client, demo):
    answer = client.get("/desk/learning/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_page_reads_in_english_and_in_chinese(client, auth, demo, learning):
    auth.login("dispatcher")
    post_form(client, "/locale", {"locale": "en", "next": "/desk/learning/"}, page="/")
    english = client.get("/desk/learning/").get_data(as_text=True)
    assert "Model learning" in english and "Retrain now" in english and "模型学习" not in english
    post_form(client, "/locale", {"locale": "zh", "next": "/desk/learning/"}, page="/")
    chinese = client.get("/desk/learning/").get_data(as_text=True)
    assert "模型学习" in chinese and "立即重新训练" in chinese


def test_activating_from_the_command_line_is_in_the_change_log_too(runner, demo, learning):
    shipped = learning.store.active_version()
    teach(demo, PROPERTY)
    retrain_from_city(demo, learning, NOW, MANUAL)
    demo.commit()
    rolled_back = runner.invoke(args=["classifier", "activate", shipped])
    assert rolled_back.exit_code == 0, rolled_back.output
    change = demo.scalars(select(ConfigChange).where(ConfigChange.subject == "model")
                          .order_by(ConfigChange.id.desc())).first()
    assert change.actor == "系统" and change.after == {"version": shipped}
