"""The model store: versions of the topic model (each with its agency model,
when one was trained), which one is active, and a manifest of every model
file this installation wrote.

A pickle is code. A model file is loaded only if its SHA-256 is in this
store's manifest, that is, only if this installation trained it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
from joblib.numpy_pickle import NumpyUnpickler
from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

from . import estimators
from . import model as model_module
from .agency import AgencyModel
from .model import TopicModel


class _StoredModel(NumpyUnpickler):
    """joblib's unpickler, knowing where the model's building blocks lived
    when older versions were stored: they moved from ``classifier.model`` to
    ``classifier.estimators``, and a city's trained model must still load."""

    def find_class(self, module: str, name: str) -> Any:
        if module == model_module.__name__ and not hasattr(model_module, name) and hasattr(estimators, name):
            module = estimators.__name__
        return super().find_class(module, name)


def _read(path: Path) -> Any:
    """``joblib.load(path)``, through ``_StoredModel``."""
    with open(path, "rb") as raw, _validate_fileobject_and_memmap(raw, str(path), None) as (stream, _):
        return _StoredModel(str(path), stream, ensure_native_byte_order=True).load()


def _agency_part(model: TopicModel) -> dict[str, Any] | None:
    if model.agency is None:
        return None
    return {"pipeline": model.agency.pipeline, "metadata": model.agency.metadata}


class UntrustedModel(Exception):
    """The file was not written by this installation's trainer."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ModelStore:
    """A folder: ``versions/<version>.joblib`` and ``manifest.json``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / "manifest.json"
        self._lock = threading.Lock()

    # -- manifest ---------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        try:
            return json.loads(self.manifest_path.read_text("utf-8"))
        except FileNotFoundError:
            return {"active": None, "versions": {}, "files": {}}

    def _save_manifest(self, manifest: dict[str, Any]) -> None:
        _write_atomically(self.manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2).encode())

    # -- writing ----------------------------------------------------------
    def save(self, model: TopicModel, *, activate: bool = True, path: Path | None = None) -> str:
        """Store ``model`` as a new version (or at ``path``), trusted from now on."""
        version = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = Path(path) if path else self.root / "versions" / f"{version}.joblib"
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(fd)
        try:
            joblib.dump(
                {"pipeline": model.pipeline, "metadata": model.metadata, "agency": _agency_part(model)},
                tmp,
                compress=3,
            )
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._lock:
            manifest = self.manifest()
            digest = _sha256(target)
            manifest["files"][str(target.resolve())] = digest
            if path is None:
                manifest["versions"][version] = {
                    "file": f"versions/{target.name}",
                    "sha256": digest,
                    "metadata": model.metadata,
                    "agency": model.agency.metadata if model.agency is not None else None,
                }
                if activate:
                    manifest["active"] = version
            self._save_manifest(manifest)
        return version

    def activate(self, version: str) -> None:
        with self._lock:
            manifest = self.manifest()
            if version not in manifest["versions"]:
                raise KeyError(f"no model version {version!r} in the store")
            manifest["active"] = version
            self._save_manifest(manifest)

    # -- reading ----------------------------------------------------------
    def active_version(self) -> str | None:
        return self.manifest().get("active")

    def load_version(self, version: str) -> TopicModel:
        entry = self.manifest()["versions"].get(version)
        if entry is None:
            raise KeyError(f"no model version {version!r} in the store")
        return self._load(self.root / entry["file"], entry["sha256"])

    def load_file(self, path: str | os.PathLike[str]) -> TopicModel:
        """Load a model file this installation wrote (e.g. by ``train --out``)."""
        resolved = Path(path).resolve()
        expected = self.manifest()["files"].get(str(resolved))
        if expected is None:
            raise UntrustedModel(
                f"{path} was not written by this installation's trainer; "
                "train it with `flask --app admin classifier train` first"
            )
        return self._load(resolved, expected)

    def _load(self, path: Path, expected_sha256: str) -> TopicModel:
        if _sha256(path) != expected_sha256:
            raise UntrustedModel(f"{path} has changed since it was trained; refusing to load it")
        stored = _read(path)
        agency = stored.get("agency")
        model = TopicModel(
            stored["pipeline"],
            stored["metadata"],
            AgencyModel(agency["pipeline"], agency["metadata"]) if agency else None,
        )
        model.metadata.setdefault("file", str(path))
        model.compile_lean()
        return model


class ActiveModel:
    """The store's active model for a long-running process.

    It looks at the manifest at most every ``check_every`` seconds and loads a
    newly activated version, so retraining or rolling back needs no restart.
    """

    def __init__(self, store: ModelStore, check_every: float = 5.0) -> None:
        self.store = store
        self.check_every = check_every
        self._lock = threading.Lock()
        self._version: str | None = None
        self._model: TopicModel | None = None
        self._checked = 0.0

    def get(self) -> tuple[str | None, TopicModel | None]:
        now = time.monotonic()
        if self._model is not None and now - self._checked < self.check_every:
            return self._version, self._model
        with self._lock:
            self._checked = now
            version = self.store.active_version()
            if version != self._version or self._model is None:
                self._model = self.store.load_version(version) if version else None
                self._version = version
            return self._version, self._model
