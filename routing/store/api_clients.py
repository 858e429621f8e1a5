"""API clients (接口调用方) and their keys.

A key is random (256 bits), so a plain SHA-256 of it is enough to find it and
useless to whoever reads the table; the key itself is shown once, when issued.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.people import ApiClient

KEY_PREFIX = "tj_"  # recognisable in a leaked file or a log


class ApiClientError(ValueError):
    pass


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_key(session: Session, name: str, now: datetime) -> tuple[ApiClient, str]:
    """A new client, or a new key for an existing one (the old key stops working)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ApiClientError("调用方名称应为 1–64 个字符。")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        client = ApiClient(name=name, created_at=now)
        session.add(client)
    client.key_hash, client.active = key_hash(key), True
    session.flush()
    return client, key


def revoke(session: Session, name: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise ApiClientError(f"没有名为“{name}”的调用方。")
    client.active = False
    return client


def find_client(session: Session, key: str) -> ApiClient | None:
    """The active client this key belongs to, if any."""
    return session.scalar(select(ApiClient).where(ApiClient.key_hash == key_hash(key), ApiClient.active.is_(True)))


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name)))
