"""Stored files (存储文件): bytes every process on every machine sees, by key.

``DatabaseBlobs`` keeps them in the ``stored_file`` table of the one
database; ``S3Blobs`` in an S3-compatible object store (``OBJECT_STORE_URL``).
``SharedModelFiles`` is the classifier's model store on either, so that a
model trained through one machine is the one every machine loads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import DateTime, Integer, LargeBinary, String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from routing.clock import now
from routing.store.db import Base, Database


class StoredFile(Base):
    """A file of the installation's own (a model, its manifest), in the database."""

    __tablename__ = "stored_file"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Blobs(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def replace(
        self, key: str, expected: bytes | None, data: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        """Compare and set: store ``data`` only if the key still holds ``expected``
        (None: only if it is new); False, storing nothing, when another process was first."""

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str = "") -> list[str]: ...

    def where(self, key: str) -> str: ...


class DatabaseBlobs:
    """Files in the ``stored_file`` table; each call its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        values = {"data": data, "size": len(data), "content_type": content_type, "created_at": now()}
        # Replace in one statement; a new key is inserted, and when another
        # process inserted it first, its row is replaced after all.
        for _ in range(2):
            try:
                with self.db.Session.begin() as session:
                    replaced = session.execute(update(StoredFile).where(StoredFile.key == key).values(**values))
                    if replaced.rowcount == 0:
                        session.execute(insert(StoredFile).values(key=key, **values))
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not store {key}")

    def get(self, key: str) -> bytes | None:
        with self.db.Session() as session:
            return session.scalar(select(StoredFile.data).where(StoredFile.key == key))

    def replace(
        self, key: str, expected: bytes | None, data: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        values = {"data": data, "size": len(data), "content_type": content_type, "created_at": now()}
        try:
            with self.db.Session.begin() as session:
                if expected is None:
                    session.execute(insert(StoredFile).values(key=key, **values))
                    return True
                # The row still holds what the caller read, or nothing is written: one statement,
                # so two processes' read-change-write cannot both win.
                changed = session.execute(
                    update(StoredFile).where(StoredFile.key == key, StoredFile.data == expected).values(**values)
                )
                return changed.rowcount == 1
        except IntegrityError:  # another process stored the new key first
            return False

    def delete(self, key: str) -> None:
        with self.db.Session.begin() as session:
            row = session.get(StoredFile, key)
            if row is not None:
                session.delete(row)

    def keys(self, prefix: str = "") -> list[str]:
        with self.db.Session() as session:
            return list(
                session.scalars(
                    select(StoredFile.key)
                    .where(StoredFile.key.startswith(prefix, autoescape=True))
                    .order_by(StoredFile.key)
                )
            )

    def where(self, key: str) -> str:
        return f"stored_file:{key}"


class S3Blobs:
    """Files in an S3-compatible bucket: ``s3://bucket/prefix``. Credentials
    come from boto3's usual places (AWS_ACCESS_KEY_ID, an instance role…)."""

    def __init__(self, url: str, endpoint: str | None = None, region: str | None = None) -> None:
        import boto3  # only installations with an object store need it loaded

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"OBJECT_STORE_URL 应形如 s3://bucket/prefix，不是“{url}”。")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def replace(
        self, key: str, expected: bytes | None, data: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        # S3's conditional write: If-None-Match for a new key, else If-Match on the ETag of what was read.
        condition = {"IfNoneMatch": "*"}
        if expected is not None:
            try:
                current = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            except self.client.exceptions.NoSuchKey:
                return False
            if current["Body"].read() != expected:
                return False
            condition = {"IfMatch": current["ETag"]}
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type, **condition
            )
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def keys(self, prefix: str = "") -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        ):
            found += [item["Key"][len(self.prefix) :] for item in page.get("Contents", [])]
        return sorted(found)

    def where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


def blobs_for(db: Database, object_store_url: str = "", endpoint: str = "", region: str = "") -> Blobs:
    """The object store when ``OBJECT_STORE_URL`` names one, else the database."""
    if object_store_url:
        return S3Blobs(object_store_url, endpoint, region)
    return DatabaseBlobs(db)


class SharedModelFiles:
    """The classifier's ``ModelFiles`` on shared blobs, under ``models/``."""

    def __init__(self, blobs: Blobs, prefix: str = "models/") -> None:
        self.blobs = blobs
        self.prefix = prefix

    def read(self, name: str) -> bytes | None:
        return self.blobs.get(self.prefix + name)

    def write(self, name: str, data: bytes) -> None:
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        self.blobs.put(self.prefix + name, data, kind)

    def replace(self, name: str, expected: bytes | None, data: bytes) -> bool:
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        return self.blobs.replace(self.prefix + name, expected, data, kind)

    def describe(self, name: str) -> str:
        return self.blobs.where(self.prefix + name)
