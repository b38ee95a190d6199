#!/usr/bin/env python3
"""Generate Poise's bundled demo call: poise/assets/demo_call.ogg and demo_call.txt.

A scripted support call (a double charge on an energy bill) spoken by espeak-ng in two
voices: the agent on the LEFT channel, the caller on the RIGHT, 16 kHz, Ogg/Opus. It
contains the situations Poise coaches: after about 30 s of normal agent speech, a fast
stretch, the agent interrupting a long caller turn, a raised-pitch stretch, then (after a caller
turn) a louder one, short backchannels inside the other's turn, and dead air. Pitch and
loudness rise in separate stretches so each cue shows on its own (one cue on screen at a
time: in one stretch, *Lower your tone* waited 4 s behind *Soften your voice*). demo_call.txt (TSV) says what is
said, by whom and when, so tests can check Poise against it.

The output is deterministic for a given espeak-ng and ffmpeg (Ogg muxed bit-exact).

Usage: .venv/bin/python scripts/make_demo_call.py [--out-dir poise/assets]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

REPO = Path(__file__).resolve().parents[1]

SAMPLE_RATE = 16000  # Hz: Poise's internal rate, so no resampling on load
AGENT_CHANNEL, CALLER_CHANNEL = 0, 1  # agent LEFT, caller RIGHT (Poise's default)

AGENT_VOICE = "en-us+f3"
AGENT_WPM = 160  # espeak -s: calm conversational pace
AGENT_PITCH = 50  # espeak -p (0-99): espeak's default, the agent's normal
AGENT_GAIN_DB = -8.0  # espeak peaks near -4 dBFS; leaves room for the +9 dB stretch
BACKCHANNEL_EXTRA_WPM = 30  # a brisk "okay" stays well under the ~0.6 s backchannel limit
CALLER_VOICE = "en-gb+m3"
CALLER_WPM = 165
CALLER_PITCH = 45
CALLER_GAIN_DB = -9.0

FAST_WPM = 260  # 1.6x the agent's normal: far past the ~15 % a listener notices
HIGH_PITCH = 90  # espeak -p 90: the raised sentence reads ~4 st over her normal (-p 80 read 3.0-3.1 st in the 3 s window when the cue is due)
LOUD_GAIN_DB = 9.0  # above the ~6 dB "Soften your voice" threshold
DEAD_AIR_S = 7.0  # longer than the ~6 s dead-air cue
INTERRUPT_AFTER_S = 1.0  # the agent cuts in this long after the caller starts
NOISE_FLOOR_DBFS = -66.0  # faint line hiss, so silence is not digital zero
TRIM_THRESHOLD_DBFS = -45.0  # espeak pads its output with near-silence; cut it
OPUS_BITRATE = "24k"  # lower and libopus folds the two channels into one (crosstalk)
MAX_BYTES = 300_000  # the file ships in the wheel


@dataclass
class Say:
    """An utterance placed `after` seconds after the previous one ends (negative overlaps)."""

    role: str
    text: str
    situation: str = "normal"
    after: float = 0.6


@dataclass
class Backchannel:
    """A short acknowledgement inside the other's turn, `after` s past their last sentence's end."""

    role: str
    text: str
    after: float = 0.1


@dataclass
class Interrupt:
    """The agent starting `after_start` s into the previous (caller) utterance."""

    role: str
    text: str
    after_start: float = INTERRUPT_AFTER_S


@dataclass
class Silence:
    """Nobody speaks for `seconds`."""

    seconds: float


@dataclass
class Row:
    start_s: float
    end_s: float
    role: str
    situation: str
    text: str


AGENT, CALLER = "agent", "caller"

SCRIPT: list[Say | Backchannel | Interrupt | Silence] = [
    Say(AGENT, "Thank you for calling Brightline Energy, this is Anna. How can I help you today?", after=0.5),
    Say(CALLER, "Hi Anna. I'm calling about my bill.", after=0.6),
    Backchannel(AGENT, "Okay."),
    Say(CALLER, "I've been charged twice this month, and I don't understand why.", after=0.45),
    Say(AGENT, "I'm sorry to hear that, let's get it sorted out for you. "
               "Can I have your account number, please?", after=0.6),
    Say(CALLER, "Sure, it's four seven two, nine one.", after=0.6),
    Say(AGENT, "Thank you. Let me pull up your account, it will only take a moment. "
               "I'll stay on the line with you while it loads.", after=0.5),
    Silence(DEAD_AIR_S),
    Say(AGENT, "Thanks for waiting. I can see two payments of sixty two dollars this month.", after=0.0),
    Backchannel(CALLER, "Right.", after=0.15),
    Say(AGENT, "One on the third of March, and another one on the sixth.", after=0.45),
    Say(CALLER, "Yes, that's it. The first one is my normal direct debit.", after=0.6),
    Backchannel(AGENT, "Uh-huh."),
    Say(CALLER, "Then the same amount came out again three days later, "
                "and now my bank has charged me an overdraft fee as well.", after=0.45),
    Say(AGENT, "I completely understand how frustrating that is, and I'm sorry it happened. "
               "Let me have a look at both payments and see what went wrong.", after=0.6),
    Say(AGENT, "So what happened is that our payment system retried your March payment after "
               "a timeout from your bank, and the retry went through even though the first "
               "payment had already cleared. The second charge is a duplicate, and it will be "
               "refunded to your account within three to five working days.",
        situation="fast", after=0.5),
    Say(CALLER, "Three to five days? That's not good enough. My rent is due on Friday, "
                "and I need that money back now.", after=0.5),
    Interrupt(AGENT, "I understand, but refunds always take a few days."),
    Say(AGENT, "As I said, the refund is already approved, and you will see it on your account "
               "this week.", situation="high", after=0.5),
    Say(CALLER, "This week? I was hoping for something sooner than that.", after=0.6),
    Say(AGENT, "It isn't something I can speed up, the bank decides how long it takes.",
        situation="loud", after=0.5),
    Say(CALLER, "Fine. I'll wait for the email then.", after=0.6),
    Say(AGENT, "Thank you, David. Goodbye.", after=0.5),
]


def speak(role: str, text: str, situation: str, workdir: Path) -> np.ndarray:
    """Synthesize one utterance with espeak-ng; float32 mono at SAMPLE_RATE, silence trimmed."""
    if role == AGENT:
        voice, wpm, pitch, gain_db = AGENT_VOICE, AGENT_WPM, AGENT_PITCH, AGENT_GAIN_DB
    else:
        voice, wpm, pitch, gain_db = CALLER_VOICE, CALLER_WPM, CALLER_PITCH, CALLER_GAIN_DB
    if situation == "backchannel":
        wpm += BACKCHANNEL_EXTRA_WPM
    elif situation == "fast":
        wpm = FAST_WPM
    elif situation == "high":
        pitch = HIGH_PITCH
    elif situation == "loud":
        gain_db += LOUD_GAIN_DB
    wav = workdir / "utterance.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(wav), text],
        check=True, capture_output=True,
    )
    audio, rate = sf.read(wav, dtype="float32")
    audio = soxr.resample(audio, rate, SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(audio) > 10 ** (TRIM_THRESHOLD_DBFS / 20))
    if loud.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for {text!r}")
    audio = audio[loud[0]: loud[-1] + 1]
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def render(workdir: Path) -> tuple[np.ndarray, list[Row]]:
    """Place every utterance on the call's timeline; returns (stereo audio, rows)."""
    placed: list[tuple[int, np.ndarray, Row]] = []
    cursor = 0.0  # end of the last utterance that holds the floor, s
    last: Row | None = None  # the last floor-holding utterance
    for item in SCRIPT:
        if isinstance(item, Silence):
            placed.append((-1, np.zeros(0, np.float32),
                           Row(cursor, cursor + item.seconds, "none", "dead_air", "")))
            cursor += item.seconds
            continue
        situation = {Backchannel: "backchannel", Interrupt: "interrupt"}.get(type(item), "normal")
        if isinstance(item, Say):
            situation = item.situation
        audio = speak(item.role, item.text, situation, workdir)
        if isinstance(item, Interrupt):
            assert last is not None and last.role != item.role
            start = last.start_s + item.after_start
        else:
            start = cursor + item.after
        start = round(start * SAMPLE_RATE) / SAMPLE_RATE
        row = Row(start, start + len(audio) / SAMPLE_RATE, item.role, situation, item.text)
        channel = AGENT_CHANNEL if item.role == AGENT else CALLER_CHANNEL
        placed.append((channel, audio, row))
        if isinstance(item, Say):
            cursor, last = row.end_s, row
        elif isinstance(item, Interrupt):
            cursor = max(cursor, row.end_s)
    tail_s = 0.3  # s of line hiss after the last word
    total = int(round((max(r.end_s for _, _, r in placed) + tail_s) * SAMPLE_RATE))
    rng = np.random.default_rng(20240521)  # fixed seed: the file must be reproducible
    stereo = rng.normal(0.0, 10 ** (NOISE_FLOOR_DBFS / 20), (total, 2)).astype(np.float32)
    for channel, audio, row in placed:
        if channel >= 0:
            first = int(round(row.start_s * SAMPLE_RATE))
            stereo[first: first + len(audio), channel] += audio
    peak = float(np.abs(stereo).max())
    if peak >= 0.99:
        raise RuntimeError(f"the mix clips (peak {peak:.2f}); lower the voice gains")
    return stereo, [r for _, _, r in placed]


def encode_opus(stereo: np.ndarray, out: Path) -> None:
    """Write stereo float32 as Ogg/Opus with ffmpeg, bit-exact so reruns give the same bytes."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
         "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "2", "-i", "-",
         "-c:a", "libopus", "-b:a", OPUS_BITRATE, "-application", "voip",
         "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(out)],
        input=stereo.astype("<f4").tobytes(), check=True,
    )


def write_tsv(rows: list[Row], out: Path) -> None:
    """demo_call.txt: start_s, end_s, role, situation, text; one line per utterance or silence."""
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["start_s", "end_s", "role", "situation", "text"])
        for r in sorted(rows, key=lambda r: (r.start_s, r.role)):
            writer.writerow([f"{r.start_s:.2f}", f"{r.end_s:.2f}", r.role, r.situation, r.text])


def summary(rows: list[Row], duration_s: float, size: int) -> str:
    agent = [r for r in rows if r.role == AGENT and r.situation != "backchannel"]
    first_special = min(r.start_s for r in rows if r.situation in ("fast", "high", "loud", "interrupt"))
    calm = sum(r.end_s - r.start_s for r in agent if r.end_s <= first_special)
    lines = [f"demo call: {duration_s:.1f} s, {size / 1000:.0f} kB; "
             f"agent speaks normally for {calm:.1f} s before the first situation"]
    for r in rows:
        if r.situation != "normal":
            lines.append(f"  {r.start_s:6.2f}-{r.end_s:6.2f}  {r.role:6} {r.situation}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "poise" / "assets")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed; run scripts/setup.sh first.", file=sys.stderr)
            return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stereo, rows = render(Path(tmp))
        ogg = args.out_dir / "demo_call.ogg"
        encode_opus(stereo, ogg)
    write_tsv(rows, args.out_dir / "demo_call.txt")
    size = ogg.stat().st_size
    print(summary(rows, len(stereo) / SAMPLE_RATE, size))
    if size >= MAX_BYTES:
        print(f"{ogg} is {size} bytes, over the {MAX_BYTES} limit; shorten the script.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
