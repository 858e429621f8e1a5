"""WeChat's slow work, as jobs: downloading media (messages go by the
registry's channel, ``collector.outbound.wechat``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from routing.store.tickets import Attachment, Message

from .. import transcription

MAX_MEDIA_BYTES = 20 * 1024 * 1024


def make_download_media(client: Callable[[], WeChatClient]) -> Callable[[Session, dict[str, Any], datetime], None]:
    def download_media(session: Session, payload: dict[str, Any], now: datetime) -> None:
        attachment = session.get(Attachment, payload["attachment_id"])
        if attachment is None or attachment.downloaded_at is not None:
            return  # gone, or a repeated run after a crash: nothing to do
        response = client().media.download(attachment.media_id)
        content_type = response.headers.get("Content-Type", "")
        if "json" in content_type or "text/plain" in content_type:
            # WeChat answers errors (expired media, bad token) as JSON.
            raise WeChatClientException(None, response.text[:200], client=client())
        data = response.content
        if len(data) > MAX_MEDIA_BYTES:
            raise ValueError(f"media {attachment.media_id} is {len(data)} bytes, over the limit")
        attachment.data, attachment.size = data, len(data)
        attachment.content_type = content_type or None
        attachment.downloaded_at = now
        if attachment.kind == "voice" and not _recognised(session, attachment):
            # WeChat gave no text with it: transcribe the audio now that we have it.
            transcription.request(session, attachment, now)
        session.commit()

    return download_media


def _recognised(session: Session, attachment: Attachment) -> bool:
    message = session.get(Message, attachment.message_id) if attachment.message_id else None
    raw = (message.payload or {}).get("raw") or {} if message is not None else {}
    return bool((raw.get("Recognition") or "").strip())
