"""TINGJIAN_ENV=production refuses the defaults that serve one machine and
one process, and says what to set; development (the default) keeps them."""

from __future__ import annotations

import pytest

from admin import create_app
from admin.settings import SettingsError, from_environment

SETTINGS = ("TINGJIAN_ENV", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "RATELIMIT_SINGLE_PROCESS", "MODEL_DIR",
            "MODEL_DIR_SHARED")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


def test_production_without_a_secret_key_or_a_shared_limit_store_does_not_start(tmp_path, monkeypatch):
    monkeypatch.setenv("TINGJIAN_ENV", "production")
    with pytest.raises(SettingsError) as refused:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'city.db'}"})
    message = str(refused.value)
    assert "SECRET_KEY 未设置" in message and "secrets.token_hex(32)" in message
    assert "RATELIMIT_STORAGE_URI 是 memory://" in message and "redis://" in message
    assert "RATELIMIT_SINGLE_PROCESS=1" in message
    assert not (tmp_path / "secret_key").exists()  # refused before a node-local key is written


def test_each_problem_is_named_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("TINGJIAN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-value")
    with pytest.raises(SettingsError) as refused:
        from_environment(str(tmp_path))
    assert "RATELIMIT_STORAGE_URI" in str(refused.value) and "SECRET_KEY" not in str(refused.value)
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://cache:6379")
    with pytest.raises(SettingsError) as refused:
        from_environment(str(tmp_path))
    assert "SECRET_KEY" in str(refused.value) and "RATELIMIT_STORAGE_URI" not in str(refused.value)


@pytest.mark.parametrize("limits", [{"RATELIMIT_STORAGE_URI": "redis://cache:6379"}, {"RATELIMIT_SINGLE_PROCESS": "1"}])
def test_production_starts_with_a_secret_key_and_a_shared_store_or_one_process(tmp_path, monkeypatch, limits):
    monkeypatch.setenv("TINGJIAN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-value")
    for name, value in limits.items():
        monkeypatch.setenv(name, value)
    settings = from_environment(str(tmp_path))
    assert settings["TINGJIAN_ENV"] == "production" and settings["SECRET_KEY"] == "a-long-random-value"


def test_development_is_the_default_whatever_the_database(tmp_path):
    settings = from_environment(str(tmp_path), {"DATABASE_URL": "postgresql://tingjian@db/tingjian"})
    assert settings["TINGJIAN_ENV"] == "development"
    assert (tmp_path / "secret_key").exists()


def test_a_misspelt_environment_is_refused_rather_than_taken_for_development(tmp_path, monkeypatch):
    monkeypatch.setenv("TINGJIAN_ENV", "prod")
    with pytest.raises(SettingsError, match="TINGJIAN_ENV 应为 development 或 production"):
        from_environment(str(tmp_path))


def test_production_refuses_models_in_a_local_folder_unless_it_is_said_to_be_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("TINGJIAN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-value")
    monkeypatch.setenv("RATELIMIT_SINGLE_PROCESS", "1")
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "models"))
    with pytest.raises(SettingsError) as refused:
        from_environment(str(tmp_path))
    assert "MODEL_DIR 已设置" in str(refused.value) and "MODEL_DIR_SHARED=1" in str(refused.value)

    monkeypatch.setenv("MODEL_DIR_SHARED", "1")
    assert from_environment(str(tmp_path))["MODEL_DIR"] == str(tmp_path / "models")
    monkeypatch.delenv("MODEL_DIR")
    assert from_environment(str(tmp_path))["MODEL_DIR"] == ""  # the shared store
