"""Photos (照片) a resident uploads: checked to be an image we can keep and
show, by the file's contents — never by its name or the type the browser
claims, which anyone can set.

Only the formats every browser shows (phones' cameras and the WeChat
in-app browser hand over JPEG; screenshots are PNG): a file that is none of
them is refused, so a staff member's browser never opens something else as
a "photo".
"""

from __future__ import annotations

from routing.texts import N_, DomainError

from .uploads import check_size

ACCEPTED_NAMES = "JPEG、PNG、GIF、WebP"


class ImageError(DomainError):
    """A file we will not keep as a photo; the message says what to do."""


def image_type(data: bytes) -> str | None:
    """The image type of ``data`` by its first bytes (its signature), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def inspect(data: bytes, *, max_bytes: int) -> str:
    """The content type to keep ``data`` under; ``ImageError`` if it is
    empty, too large, or not an image of an accepted format."""
    check_size(
        data, max_bytes, ImageError,
        empty=N_("照片是空文件，请重新选择。"),
        too_large=N_("照片太大（%(size)s MB），请选择 %(limit)s MB 以内的照片。"),
    )
    content_type = image_type(data)
    if content_type is None:
        raise ImageError(N_("这个文件不是照片（只收 %(formats)s 格式的图片），请重新选择。"), formats=ACCEPTED_NAMES)
    return content_type
