"""Time to check and convert deputies' voice notes: ``inspect`` (ffprobe and a
decoding pass) per format, and AMR → 16 kHz mono WAV for a speech service,
for a short note and for one at the ten-minute limit.

    python bench/voice_notes.py [--minutes 10]

Needs espeak-ng and ffmpeg. Prints one JSON object (seconds per call).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector import audio  # noqa: E402

SPEECH = "西湖区文新街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"


def samples(folder: Path, minutes: float) -> dict[str, bytes]:
    wav = folder / "short.wav"
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(wav), SPEECH], check=True)
    long_wav = folder / "long.wav"
    # The sentence again and again up to the length asked for.
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(wav), "-t", str(minutes * 60 - 1),
                    str(long_wav)], check=True)
    found = {}
    for name, source in (("short", wav), ("long", long_wav)):
        for ext in ("wav", "mp3", "m4a", "webm", "ogg"):
            out = folder / f"{name}.{ext}"
            if ext != "wav":
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), str(out)], check=True)
            found[f"{name}.{ext}"] = (out if ext != "wav" else source).read_bytes()
        # Debian's ffmpeg cannot encode AMR: silent 12.2 kbit/s frames, 50 a second.
        seconds = 5 if name == "short" else minutes * 60 - 1
        found[f"{name}.amr"] = b"#!AMR\n" + (b"\x3c" + bytes(31)) * int(seconds * 50)
    return found


def timed(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        notes = samples(Path(folder), args.minutes)
    result = {"inspect_seconds": {}, "to_wav_seconds": {}, "bytes": {}}
    for name, data in notes.items():
        result["bytes"][name] = len(data)
        result["inspect_seconds"][name] = timed(
            lambda data=data: audio.inspect(data, max_seconds=args.minutes * 60, max_bytes=100 * 2**20)
        )
        if name.endswith(".amr"):
            result["to_wav_seconds"][name] = timed(lambda data=data: audio.to_wav(data))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
