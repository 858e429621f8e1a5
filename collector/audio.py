"""Voice notes (语音): checking an uploaded file is audio we can keep, and
converting it for whoever must hear it.

The file's contents decide, never its name: ffprobe reads the container and
streams, and a decoding pass measures the true length (a browser's WebM
recording often states none) and finds files that cannot be decoded.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from routing.texts import N_, DomainError

from .uploads import check_size

# Containers ffprobe names, and the type we store and serve them as.
FORMATS = {
    "amr": "audio/amr",
    "mov": "audio/mp4",
    "mp4": "audio/mp4",
    "m4a": "audio/mp4",
    "3gp": "audio/3gpp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "webm": "audio/webm",
    "matroska": "audio/webm",
    "ogg": "audio/ogg",
}
ACCEPTED_NAMES = "AMR、M4A、MP3、WAV、WebM、Ogg"
# Browsers play these; AMR (WeChat's, older phones') they do not.
PLAYABLE = {"audio/mp4", "audio/mpeg", "audio/wav", "audio/webm", "audio/ogg"}
MEASURE_RATE = 8000  # samples per second of the measuring pass: enough to count time
TIMEOUT = 120  # seconds for one ffmpeg run: a ten-minute note decodes in about one


class AudioError(DomainError):
    """A file we will not keep; the message says why, in Chinese."""


@dataclass(frozen=True)
class Audio:
    content_type: str
    duration: float  # seconds
    codec: str


@contextmanager
def _file(data: bytes) -> Iterator[str]:
    # A file, not a pipe: MP4 keeps its index at the end, which needs seeking.
    handle, path = tempfile.mkstemp(prefix="tingjian-audio-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        yield path
    finally:
        os.unlink(path)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AudioError(N_("音频文件处理超时，请换一个文件或缩短录音。")) from exc


def _probe(path: str) -> dict:
    result = _run(
        ["ffprobe", "-v", "error", "-show_entries", "format=format_name:stream=codec_type,codec_name", "-of", "json", path]
    )
    if result.returncode != 0:
        raise AudioError(N_("无法识别这个文件，它不是 %(formats)s 格式的音频，或者已经损坏。"), formats=ACCEPTED_NAMES)
    return json.loads(result.stdout or b"{}")


def _decoded_seconds(path: str, limit: float) -> float:
    """Decode the first audio stream (at most ``limit`` + 1 s) and count its samples."""
    result = _run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:a:0", "-t", str(limit + 1),
         "-ac", "1", "-ar", str(MEASURE_RATE), "-f", "s16le", "pipe:1"]
    )
    if result.returncode != 0:
        raise AudioError(N_("音频文件已损坏，无法播放。请重新录制或换一个文件。"))
    return len(result.stdout) / 2 / MEASURE_RATE


def inspect(data: bytes, *, max_seconds: float, max_bytes: int) -> Audio:
    """Check an uploaded voice note; ``AudioError`` says in Chinese what is wrong."""
    check_size(
        data, max_bytes, AudioError,
        empty=N_("没有收到音频文件，请重新录制或选择文件。"),
        too_large=N_("音频文件太大（%(size)s MB），请控制在 %(limit)s MB 以内。"),
    )
    with _file(data) as path:
        info = _probe(path)
        names = set(info.get("format", {}).get("format_name", "").split(","))
        streams = info.get("streams", [])
        audio = [s for s in streams if s.get("codec_type") == "audio"]
        known = [kind for name, kind in FORMATS.items() if name in names]
        if not audio or not known or any(s.get("codec_type") == "video" for s in streams):
            raise AudioError(N_("这个文件不是音频。请上传 %(formats)s 格式的录音。"), formats=ACCEPTED_NAMES)
        duration = _decoded_seconds(path, max_seconds)
    if duration <= 0.05:
        raise AudioError(N_("录音里没有声音内容，请重新录制。"))
    if duration > max_seconds:
        raise AudioError(N_("录音太长，请控制在 %(minutes)s 分钟以内，可以分几段提交。"), minutes=f"{max_seconds / 60:.0f}")
    return Audio(content_type=known[0], duration=round(duration, 2), codec=audio[0].get("codec_name", ""))


def to_wav(data: bytes, rate: int = 16000) -> bytes:
    """The audio as WAV, mono, ``rate`` Hz: what speech recognisers take, and
    what a browser plays when the original (AMR) it cannot."""
    with _file(data) as path:
        result = _run(
            ["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:a:0", "-ac", "1", "-ar", str(rate),
             "-f", "wav", "pipe:1"]
        )
    if result.returncode != 0:
        raise AudioError(N_("音频无法转换：%(detail)s"), detail=result.stderr.decode("utf-8", "replace")[-200:])
    return result.stdout


def playable(data: bytes, content_type: str | None) -> tuple[bytes, str]:
    """What a browser's <audio> can play: the file itself, or WAV made from it."""
    base = (content_type or "").split(";")[0].strip().lower()
    if base in PLAYABLE:
        return data, base
    return to_wav(data), "audio/wav"
