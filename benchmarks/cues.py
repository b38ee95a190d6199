"""Cue detection on real calls with injected situations: hit rate, latency, false cues.

Run: `.venv/bin/python -m benchmarks.cues`. Builds calls from the real booking call
(`call_spokenwoz_agent_left_8k_ulaw.wav`) with `benchmarks/situations.py`, in G.711
µ-law at 8 kHz and PCM at 16 kHz, and a read-speech call (one LibriVox reader, then
the same sentences 1.4x faster), runs them through the engine (no transcription: cues
are acoustic) and writes `benchmarks/results/cues.{json,md}`.
"""

from __future__ import annotations

import glob
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks import situations as sit
from benchmarks.accuracy import header, speech_dir_or_exit, table, write_results
from poise.audio.session import Session
from poise.audio.types import SAMPLE_RATE, Block, to_jsonable

LATENCY_TARGET_S = {  # s; speak_up: while the agent is still quiet (the 10 s stretch)
    "let_caller_finish": 0.5, "slow_down": 3.0, "lower_tone": 3.0, "lower_volume": 1.0, "speak_up": sit.STRETCH_S,
}
FORMATS = ("ulaw8k", "pcm16k")
SEARCH_AFTER_S = 8.0  # s after a situation's end in which its cue still counts as late (for the latency table)


def run(agent: np.ndarray, caller: np.ndarray | None) -> list[dict]:
    session = Session(has_caller=caller is not None)
    for i in range(0, len(agent), SAMPLE_RATE):
        session.feed(Block(i / SAMPLE_RATE, agent[i : i + SAMPLE_RATE], None if caller is None else caller[i : i + SAMPLE_RATE]))
    return [c.to_json() for c in session.finish().cues]


def score_kind(kind: str, situations: list[sit.Situation], cues: list[dict]) -> list[float | None]:
    """Delay of the expected cue per situation (None: none within the situation + SEARCH_AFTER_S)."""
    expected = sit.EXPECTED_CUE[kind] or "let_caller_finish"
    delays = []
    for s in situations:
        found = [c["t"] - s.start for c in cues if c["kind"] == expected and s.start <= c["t"] <= s.end + SEARCH_AFTER_S]
        delays.append(round(float(found[0]), 2) if found else None)
    return delays


def read_speech_call(speech: Path) -> tuple[np.ndarray, float, float]:
    clips = [sf.read(f, dtype="float32")[0] for f in sorted(glob.glob(str(speech / "ps_librivox_*.wav")))]
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)

    def read(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.concatenate([p, gap]) for p in parts])

    normal, fast = read(clips), read([sit.tempo(c, 1.4) for c in clips])
    return np.concatenate([normal, normal, fast, normal]), 2 * len(normal) / SAMPLE_RATE, (2 * len(normal) + len(fast)) / SAMPLE_RATE


def main() -> None:
    speech = speech_dir_or_exit()
    started = time.time()
    agent, caller = sit.load_stereo_16k(speech / "call_spokenwoz_agent_left_8k_ulaw.wav")
    rows, data = [], {"kinds": {}, "false": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            path = sit.write_call(Path(tmp) / f"original_{fmt}.wav", agent, caller, fmt)
            a, c = sit.load_stereo_16k(path)
            base = run(a, c)
            minutes = len(a) / SAMPLE_RATE / 60
            data["false"][fmt] = {"cues": base, "minutes": minutes}
            for kind in ("fast", "high", "loud", "quiet", "interrupt", "backchannel"):
                changed, situations = sit.build_call(agent, caller, kind, max_situations=6, base_cues=base)
                path = sit.write_call(Path(tmp) / f"{kind}_{fmt}.wav", changed, caller, fmt)
                cues = run(*sit.load_stereo_16k(path))
                delays = score_kind(kind, situations, cues)
                expected = sit.EXPECTED_CUE[kind]
                target = LATENCY_TARGET_S.get(expected or "", None)
                hits = sum(d is not None and (target is None or d <= target) for d in delays)
                data["kinds"][f"{kind}/{fmt}"] = {"delays": delays, "hits_in_time": hits, "situations": len(situations)}
                rows.append([
                    kind, fmt, expected or "none (backchannel)", len(situations),
                    f"{hits}/{len(situations)}" if expected else f"{sum(d is not None for d in delays)} cued",
                    ", ".join("—" if d is None else f"{d:.2f}" for d in delays), target if target else "",
                ])
    agent_read, fast_start, fast_end = read_speech_call(speech)
    cues = run(agent_read, None)
    read_hits = [c["t"] - fast_start for c in cues if c["kind"] == "slow_down" and fast_start <= c["t"] <= fast_end]
    read_false = [c for c in cues if not (fast_start <= c["t"] <= fast_end + 2)]
    data["read_speech"] = {"fast_start": fast_start, "fast_end": fast_end, "cues": cues}

    false_rows = []
    for fmt, info in data["false"].items():
        per_kind: dict[str, int] = {}
        for c in info["cues"]:
            per_kind[c["kind"]] = per_kind.get(c["kind"], 0) + 1
        false_rows.append([fmt, f"{info['minutes']:.1f}", ", ".join(f"{k} {n}" for k, n in sorted(per_kind.items())),
                           f"{len(info['cues']) / info['minutes'] * 10:.1f}"])
    md = header("Cues on calls with injected situations")
    md += "\nReal booking call (3:03, agent left), one kind of situation per call, placed clear of the cues the unchanged call gets (cooldown, screen). Delay = cue time − situation start, s (— = no cue within the situation + 8 s); *in time* = within the latency target.\n\n"
    md += table(["situation", "format", "expected cue", "n", "in time", "delays s", "target s"], rows)
    md += "\n\nCues on the unchanged call (every one counts as false here, though some may be deserved: the agent does talk over the caller):\n\n"
    md += table(["format", "minutes", "cues", "per 10 min"], false_rows)
    md += (f"\n\nRead speech (one LibriVox reader, {fast_start:.0f} s normal, then the same sentences 1.4x faster via WSOLA "
           f"until {fast_end:.0f} s): slow_down after {', '.join(f'{d:.1f}' for d in read_hits) or 'none'} s; "
           f"other cues: {[(round(c['t'], 1), c['kind']) for c in read_false]}.\n")
    md += f"\nRun time {time.time() - started:.0f} s.\n"
    print(md)
    write_results("cues", to_jsonable(data), md)


if __name__ == "__main__":
    main()
