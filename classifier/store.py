"""The model store: versions of the topic model (each with its agency model,
when one was trained), which one is active, and a manifest of every model
file this installation wrote.

The store keeps its files in a ``ModelFiles``: a local folder here, or a
store every machine shares (routing's database or object store), so that a
model trained on one machine is the one every other machine uses.

A pickle is code. A model file is loaded only if its SHA-256 is in this
store's manifest, that is, only if this installation trained it.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

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


def _read(data: bytes, name: str) -> Any:
    """``joblib.load`` of a file's bytes, through ``_StoredModel``."""
    with _validate_fileobject_and_memmap(io.BytesIO(data), name, None) as (stream, _):
        return _StoredModel(name, stream, ensure_native_byte_order=True).load()


def _agency_part(model: TopicModel) -> dict[str, Any] | None:
    if model.agency is None:
        return None
    return {"pipeline": model.agency.pipeline, "metadata": model.agency.metadata}


class UntrustedModel(Exception):
    """The file was not written by this installation's trainer."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


class ModelFiles(Protocol):
    """Where a model store keeps its files, by relative name
    (``manifest.json``, ``versions/<version>.joblib``)."""

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when there is no such file."""

    def write(self, name: str, data: bytes) -> None:
        """Replace the file at once: a reader sees the old bytes or the new."""

    def describe(self, name: str) -> str:
        """Where the file is, for a person reading a model's metadata."""

    def replace(self, name: str, expected: bytes | None, data: bytes) -> bool:
        """Compare and set: write ``data`` only if the file still holds
        ``expected`` (None: only if there is no such file); False when another
        writer changed it first, and nothing was written."""


class FolderFiles:
    """Model files in a local folder (``MODEL_DIR``): development and tests."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def read(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        _write_atomically(self.root / name, data)

    def describe(self, name: str) -> str:
        return str(self.root / name)

    def replace(self, name: str, expected: bytes | None, data: bytes) -> bool:
        # Processes sharing the folder take turns through a lock file beside it.
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{Path(name).name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.read(name) != expected:
                return False
            self.write(name, data)
            return True


MANIFEST = "manifest.json"
MANIFEST_ATTEMPTS = 50  # writers that keep changing the manifest first; each attempt is one read and one write


def _parse_manifest(data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {"active": None, "versions": {}, "files": {}}
    return json.loads(data.decode("utf-8"))


class ModelStore:
    """``versions/<version>.joblib`` and ``manifest.json`` in a folder or in
    any other ``ModelFiles``."""

    def __init__(self, files: str | os.PathLike[str] | ModelFiles) -> None:
        self.files: ModelFiles = FolderFiles(files) if isinstance(files, (str, os.PathLike)) else files
        self._lock = threading.Lock()

    # -- manifest ---------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return _parse_manifest(self.files.read(MANIFEST))

    def _change_manifest(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to the manifest as it is now. Several processes
        (on several machines) change it: read, change, then write only if
        nobody wrote in between (compare and set), else read again — so a
        version trained or activated through one is never lost to another's write."""
        with self._lock:
            for _ in range(MANIFEST_ATTEMPTS):
                before = self.files.read(MANIFEST)
                manifest = _parse_manifest(before)
                change(manifest)
                if self.files.replace(MANIFEST, before, json.dumps(manifest, ensure_ascii=False, indent=2).encode()):
                    return
            raise RuntimeError(f"{self.files.describe(MANIFEST)} kept changing; the model store was not updated")

    # -- writing ----------------------------------------------------------
    def save(self, model: TopicModel, *, activate: bool = True, path: Path | None = None) -> str:
        """Store ``model`` as a new version (or in the local file ``path``), trusted from now on."""
        version = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        buffer = io.BytesIO()
        joblib.dump(
            {"pipeline": model.pipeline, "metadata": model.metadata, "agency": _agency_part(model)}, buffer, compress=3
        )
        data = buffer.getvalue()
        digest = _sha256(data)
        name = f"versions/{version}.joblib"
        if path is not None:
            _write_atomically(Path(path), data)
        else:
            self.files.write(name, data)

        def add(manifest: dict[str, Any]) -> None:
            if path is not None:
                manifest["files"][str(Path(path).resolve())] = digest
                return
            manifest["versions"][version] = {
                "file": name,
                "sha256": digest,
                "metadata": model.metadata,
                "agency": model.agency.metadata if model.agency is not None else None,
            }
            if activate:
                manifest["active"] = version

        self._change_manifest(add)
        return version

    def import_from(self, other: ModelStore) -> list[str]:
        """Copy every version of ``other`` (and which one is active) into this
        store, checking each file against ``other``'s manifest; the versions copied."""
        theirs = other.manifest()
        copied = []
        for version, entry in sorted(theirs["versions"].items()):
            data = other.files.read(entry["file"])
            if data is None or _sha256(data) != entry["sha256"]:
                raise UntrustedModel(f"{other.files.describe(entry['file'])} is missing or has changed since it was trained")
            self.files.write(entry["file"], data)
            copied.append(version)

        def add(manifest: dict[str, Any]) -> None:
            manifest["versions"].update({version: theirs["versions"][version] for version in copied})
            if theirs.get("active") in manifest["versions"]:
                manifest["active"] = theirs["active"]

        self._change_manifest(add)
        return copied

    def activate(self, version: str) -> None:
        def choose(manifest: dict[str, Any]) -> None:
            if version not in manifest["versions"]:
                raise KeyError(f"no model version {version!r} in the store")
            manifest["active"] = version

        self._change_manifest(choose)

    # -- reading ----------------------------------------------------------
    def active_version(self) -> str | None:
        return self.manifest().get("active")

    def load_version(self, version: str) -> TopicModel:
        entry = self.manifest()["versions"].get(version)
        if entry is None:
            raise KeyError(f"no model version {version!r} in the store")
        where = self.files.describe(entry["file"])
        data = self.files.read(entry["file"])
        if data is None:
            raise UntrustedModel(f"{where} is missing from the model store")
        return self._load(data, where, entry["sha256"])

    def load_file(self, path: str | os.PathLike[str]) -> TopicModel:
        """Load a model file this installation wrote (e.g. by ``train --out``)."""
        resolved = Path(path).resolve()
        expected = self.manifest()["files"].get(str(resolved))
        if expected is None:
            raise UntrustedModel(
                f"{path} was not written by this installation's trainer; "
                "train it with `flask --app admin classifier train` first"
            )
        return self._load(resolved.read_bytes(), str(resolved), expected)

    def _load(self, data: bytes, where: str, expected_sha256: str) -> TopicModel:
        if _sha256(data) != expected_sha256:
            raise UntrustedModel(f"{where} has changed since it was trained; refusing to load it")
        stored = _read(data, where)
        agency = stored.get("agency")
        model = TopicModel(
            stored["pipeline"],
            stored["metadata"],
            AgencyModel(agency["pipeline"], agency["metadata"]) if agency else None,
        )
        model.metadata.setdefault("file", where)
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
