"""Text in, tokens out: normalisation and jieba with the project's dictionary."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

DATA_DIR = Path(__file__).parent / "data"
USER_DICT = DATA_DIR / "userdict.txt"

_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d[\dxX*]{8}|0\d{2,3}-?[\dxX*]{7,8})(?!\d)")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")

_init_lock = threading.Lock()
_initialised = False


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, one space; phone numbers and long
    numbers become placeholders, because a number says nothing of the topic
    and a phone number is personal data the model need not learn."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _PHONE.sub(" 电话 ", text)
    text = _DIGITS.sub(lambda m: m.group(0) if len(m.group(0)) <= 2 else " 0 ", text)
    return _SPACE.sub(" ", text).strip()


def _initialise() -> None:
    """Load jieba's dictionary and ours once per process.

    jieba writes its cache to the system temp dir by default; keep it in a
    folder of our own so a stale cache from another program is never trusted.
    """
    global _initialised
    with _init_lock:
        if _initialised:
            return
        cache_dir = Path.home() / ".cache" / "tingjian"
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = str(cache_dir)
        except OSError:  # read-only home: jieba falls back to the temp dir
            pass
        jieba.setLogLevel(30)
        jieba.initialize()
        if USER_DICT.exists():
            # Given a path, jieba opens the file and never closes it.
            with USER_DICT.open("rb") as f:
                jieba.load_userdict(f)
        _initialised = True


def tokenize(text: str) -> list[str]:
    """Words of an already normalised text (module-level so pipelines pickle)."""
    if not _initialised:
        _initialise()
    return [w for w in jieba.lcut(text) if w.strip()]


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Pay jieba's start-up cost now rather than on the first request."""
    tokenize("预热")
