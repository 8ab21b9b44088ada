"""Writes the sound cues the package ships (overlay/pages/static/sounds/*.wav): `make sounds`.

Synthesised here, note by note, so they are ours to license with the code and nothing is
downloaded: soft bell tones (a few partials, each dying away), 16 kHz mono, about a second each.
Running it again writes the same bytes.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
OUT = Path(__file__).resolve().parent.parent / "overlay" / "pages" / "static" / "sounds"
# A bell: partials (ratio to the note, loudness, how fast it dies away per second)
BELL = ((1.0, 1.0, 3.2), (2.0, 0.42, 5.0), (3.01, 0.22, 7.5), (4.2, 0.08, 11.0))
SOFT = ((1.0, 1.0, 6.0), (2.0, 0.18, 9.0))


def note(name: str) -> float:
    """'A4' -> 440.0; sharps as 'C#5'."""
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    pitch, octave = name[:-1], int(name[-1])
    return 440.0 * 2 ** ((names.index(pitch) + 12 * (octave + 1) - 69) / 12)


Timbre = tuple[tuple[float, float, float], ...]


def render(notes: list[tuple[float, str, float]], length: float, timbre: Timbre) -> list[float]:
    """(start in seconds, note, loudness) -> samples from -1 to 1."""
    out = [0.0] * int(length * RATE)
    for start, name, loud in notes:
        f = note(name)
        first = int(start * RATE)
        for i in range(first, len(out)):
            t = (i - first) / RATE
            attack = min(1.0, t / 0.006)  # no click
            out[i] += loud * attack * sum(
                a * math.exp(-decay * t) * math.sin(2 * math.pi * f * ratio * t) for ratio, a, decay in timbre
            )
    tail = int(0.05 * RATE)  # the last 50 ms fade to silence
    for k in range(tail):
        out[-1 - k] *= k / tail
    return out


CUES = {
    # a step's target reached: a bright rising fifth
    "target": ([(0.0, "C6", 0.5), (0.16, "G6", 0.5)], 1.1, BELL),
    # a focus ends, a break starts: three tones stepping down, unhurried
    "break": ([(0.0, "G5", 0.5), (0.28, "E5", 0.5), (0.56, "C5", 0.55)], 1.6, BELL),
    # a break ends: the same three tones stepping up, quicker
    "focus": ([(0.0, "C5", 0.5), (0.14, "E5", 0.5), (0.28, "G5", 0.55)], 1.2, BELL),
    # a failure logged: a soft low pair, not a buzzer (more failures, more learning)
    "fail": ([(0.0, "A3", 0.6), (0.12, "F3", 0.6)], 0.6, SOFT),
    # a deadline reminder: two pings of the same note
    "deadline": ([(0.0, "A5", 0.5), (0.3, "A5", 0.5)], 1.2, BELL),
}


def write(path: Path, samples: list[float]) -> None:
    peak = max(abs(s) for s in samples) or 1.0
    scale = 0.7 * 32767 / peak  # every cue as loud as the others: the volume setting does the rest
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", round(s * scale)) for s in samples))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (notes, length, timbre) in CUES.items():
        path = OUT / f"{name}.wav"
        write(path, render(notes, length, timbre))
        print(f"{path.relative_to(OUT.parent.parent.parent.parent)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
