"""Stored files every machine sees: in the database, or in an S3-compatible
object store (a moto server stands in for MinIO or S3); and the model store
on top of them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from admin import create_app
from classifier import LiveClassifier, ModelStore, UntrustedModel
from classifier.store import FolderFiles
from routing.store.blobs import DatabaseBlobs, S3Blobs, SharedModelFiles
from routing.store.db import Database


@pytest.fixture
def database_blobs(app) -> DatabaseBlobs:
    return DatabaseBlobs(app.extensions["tingjian"].db)


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="tingjian")
    yield endpoint
    server.stop()


@pytest.fixture(params=["database", "s3"])
def blobs(request: pytest.FixtureRequest):
    if request.param == "database":
        return request.getfixturevalue("database_blobs")
    # The moto server keeps its buckets for the whole run: each test a prefix of its own.
    return S3Blobs(f"s3://tingjian/{uuid.uuid4().hex}", request.getfixturevalue("s3_endpoint"))


def test_a_stored_file_reads_back_as_written_until_deleted(blobs):
    blobs.put("models/manifest.json", b'{"active": null}', "application/json")
    blobs.put("models/versions/a.joblib", b"\x00\x01model")

    assert blobs.get("models/manifest.json") == b'{"active": null}'
    assert blobs.keys("models/versions/") == ["models/versions/a.joblib"]
    blobs.delete("models/versions/a.joblib")
    assert blobs.get("models/versions/a.joblib") is None
    assert blobs.keys("models/") == ["models/manifest.json"]


def test_writing_a_key_again_replaces_its_bytes(blobs):
    blobs.put("report.txt", b"first")
    blobs.put("report.txt", b"second")

    assert blobs.get("report.txt") == b"second"
    assert blobs.get("missing.txt") is None


def test_the_object_store_url_must_name_a_bucket():
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        S3Blobs("https://example.com/bucket")


def test_a_model_trained_into_the_shared_store_is_the_one_another_process_loads(blobs, model_dir: Path):
    trained = ModelStore(model_dir)
    shared = ModelStore(SharedModelFiles(blobs))

    copied = shared.import_from(trained)

    elsewhere = LiveClassifier(ModelStore(SharedModelFiles(blobs))).current()
    assert elsewhere.version == trained.active_version() == copied[-1]
    assert elsewhere.model.predict("小区楼道的路灯坏了，晚上一片漆黑")


def test_a_shared_model_whose_bytes_changed_is_refused(database_blobs, model_dir: Path):
    shared = ModelStore(SharedModelFiles(database_blobs))
    version = shared.import_from(ModelStore(model_dir))[-1]
    name = shared.manifest()["versions"][version]["file"]
    database_blobs.put("models/" + name, b"not the trained model")

    with pytest.raises(UntrustedModel, match="has changed"):
        shared.load_version(version)


def test_without_model_dir_the_app_keeps_its_models_in_the_database(
    app, database_url: str, model_dir: Path, tmp_path: Path
):
    shared_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": database_url,
            "JOBS_IN_PROCESS": False,
            "TINGJIAN_ENV": "development",
            "MODEL_DIR": "",
        }
    )
    try:
        result = shared_app.test_cli_runner().invoke(args=["classifier", "import-models", str(model_dir)])

        assert result.exit_code == 0, result.output
        assert "已导入 1 个模型版本" in result.output
        assert DatabaseBlobs(app.extensions["tingjian"].db).keys("models/versions/")
    finally:
        shared_app.extensions["tingjian"].db.dispose()


class Interleaved:
    """A process's model files that, right after it first reads the manifest,
    let another process change the manifest: the two read-change-writes cross."""

    def __init__(self, files, meanwhile) -> None:
        self.files, self.meanwhile = files, meanwhile

    def read(self, name: str) -> bytes | None:
        data = self.files.read(name)
        if name == "manifest.json" and self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return data

    def __getattr__(self, name: str):
        return getattr(self.files, name)


@pytest.fixture(params=["folder", "database", "s3"])
def two_processes_files(request: pytest.FixtureRequest, tmp_path: Path, database_url: str):
    """The same model store seen by two processes, each with its own connection."""
    if request.param == "folder":
        yield FolderFiles(tmp_path / "models"), FolderFiles(tmp_path / "models")
        return
    prefix = f"models-{uuid.uuid4().hex}/"
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        yield tuple(SharedModelFiles(S3Blobs(f"s3://tingjian/{prefix}", endpoint)) for _ in range(2))
        return
    request.getfixturevalue("app")  # the schema
    databases = [Database(database_url), Database(database_url)]
    yield tuple(SharedModelFiles(DatabaseBlobs(db), prefix) for db in databases)
    for db in databases:
        db.dispose()


def test_two_processes_training_at_once_both_keep_their_version(two_processes_files, model_dir: Path):
    trained = ModelStore(model_dir)
    model = trained.load_version(trained.active_version())
    first_files, second_files = two_processes_files
    second = ModelStore(second_files)
    theirs = []
    first = ModelStore(Interleaved(first_files, lambda: theirs.append(second.save(model))))

    mine = first.save(model)

    versions = ModelStore(second_files).manifest()["versions"]
    assert sorted(versions) == sorted([mine, *theirs])  # neither write lost the other's version
    assert ModelStore(second_files).active_version() == mine


def test_a_version_trained_while_another_process_activates_one_stays_in_the_manifest(two_processes_files, model_dir):
    trained = ModelStore(model_dir)
    model = trained.load_version(trained.active_version())
    first_files, second_files = two_processes_files
    older = ModelStore(first_files).save(model)
    second = ModelStore(second_files)
    theirs = []
    first = ModelStore(Interleaved(first_files, lambda: theirs.append(second.save(model, activate=False))))

    first.activate(older)

    assert set(ModelStore(second_files).manifest()["versions"]) == {older, *theirs}
    assert ModelStore(second_files).active_version() == older
