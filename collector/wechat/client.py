"""WeChat's API as the city's account uses it: a wechatpy client whose access
token lives in the database, shared by every worker process."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import requests
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from routing.store.configuration import SharedValue
from routing.store.db import Database

DEFAULT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"


class DatabaseStorage(SessionStorage):
    """wechatpy's storage interface over the ``shared_value`` table.

    With a per-process store every worker fetches its own token, and each
    fetch invalidates the others' (errcode 40001); one row shared by all
    avoids that.
    """

    def __init__(self, database: Database, clock: Callable[[], datetime] = datetime.now) -> None:
        self.database = database
        self.clock = clock

    def get(self, key, default=None):
        with self.database.Session() as session:
            row = session.get(SharedValue, key)
            if row is None or (row.expires_at is not None and row.expires_at <= self.clock()):
                return default
            return row.value

    def set(self, key, value, ttl=None):
        # Refresh a little early: a token used in its last seconds may expire in flight.
        expires_at = self.clock() + timedelta(seconds=max(int(ttl) - 60, 1)) if ttl else None
        values = {"key": key, "value": str(value), "expires_at": expires_at}
        with self.database.Session() as session:
            dialect = session.bind.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(SharedValue).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=[SharedValue.key], set_={"value": values["value"], "expires_at": expires_at}
            )
            session.execute(statement)
            session.commit()

    def delete(self, key):
        with self.database.Session() as session:
            session.execute(delete(SharedValue).where(SharedValue.key == key))
            session.commit()

    def keys(self) -> list[str]:
        with self.database.Session() as session:
            return list(session.scalars(select(SharedValue.key)))


class CityWeChatClient(WeChatClient):
    """A client whose every call — the token fetch included — goes to
    ``api_base_url`` with a timeout (wechatpy's own token fetch uses a fixed
    URL and waits forever)."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        storage: SessionStorage,
        api_base_url: str = DEFAULT_API_BASE,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(appid, secret, session=storage, timeout=timeout)
        self.API_BASE_URL = api_base_url if api_base_url.endswith("/") else api_base_url + "/"

    def fetch_access_token(self):
        try:
            res = self._http.get(
                self.API_BASE_URL + "token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                timeout=self.timeout,
            )
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, f"token fetch failed: {exc}", client=self) from exc
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=res)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    @property
    def access_token(self):
        # The shared store decides: another worker may have refreshed it.
        token = self.session.get(self.access_token_key)
        if token:
            return token
        self.fetch_access_token()
        return self.session.get(self.access_token_key)
