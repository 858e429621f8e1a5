"""The learning loop from the command line: corrections → a new version → roll back."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from classifier import ModelStore
from classifier.learning import is_held_out
from routing.store.tickets import Correction

from ..conftest import post_form
from .test_flow import submit_on_the_station_page


@pytest.fixture
def app_config(model_dir, tmp_path):
    # A store of this test's own: retraining must not change the model other tests use.
    store = tmp_path / "models"
    shutil.copytree(model_dir, store)
    return {"MODEL_DIR": str(store)}


def a_text_to_train_on() -> str:
    text = "窗口工作人员让我来回跑了三趟，每次都说材料不全"
    while is_held_out(text):
        text += "。"
    return text


def test_a_correction_is_learned_and_a_version_can_be_rolled_back(app, client, auth, runner, demo):
    store = ModelStore(app.config["MODEL_DIR"])
    shipped = store.active_version()
    number, _ = submit_on_the_station_page(client, demo, a_text_to_train_on())
    auth.login("dispatcher")
    post_form(client, f"/desk/tickets/{number}/correct", {"topic": "政务服务/证照办理", "reason": "其实是办证"},
              page=f"/desk/tickets/{number}")
    assert demo.scalar(select(Correction.label).where(Correction.field == "topic")) == "政务服务/证照办理"

    trained = runner.invoke(args=["classifier", "train"])
    assert trained.exit_code == 0, trained.output
    assert "纠错样本 1 条" in trained.output and "已启用" in trained.output
    new = store.active_version()
    assert new != shipped
    assert store.manifest()["versions"][new]["metadata"]["source"] == "shipped corpus + 1 corrections"

    listed = runner.invoke(args=["classifier", "versions"])
    assert f"* {new}" in listed.output and f"  {shipped}" in listed.output

    live = app.extensions["tingjian"].classifier
    live.active.check_every = 0
    assert live.current().version == new
    rolled_back = runner.invoke(args=["classifier", "activate", shipped])
    assert rolled_back.exit_code == 0, rolled_back.output
    assert live.current().version == shipped  # picked up without a restart

    unknown = runner.invoke(args=["classifier", "activate", "no-such-version"])
    assert unknown.exit_code != 0 and "classifier versions" in unknown.output
