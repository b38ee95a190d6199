"""How long Poise takes: the whole `poise analyze` against faster-whisper alone, prosody alone,
and the time to the first live result.

Run from the repo root:  .venv/bin/python -m benchmarks.speed

- A 10-minute stereo call is made by repeating the real booking call
  `call_spokenwoz_agent_left_8k_ulaw.wav` (8 kHz µ-law stereo, as call recorders store it)
  and written, in the same format, to a temporary folder.
- (a) faster-whisper alone: the model loaded as Poise loads it (`load_model`, 2 threads),
  each channel (16 kHz float) transcribed with `**WHISPER_OPTIONS`, segments consumed.
  (b) `analyze_file` on the file: decode, prosody, coach, Whisper on both channels, stats.
  Alternated a/b/a/b so that load from other processes hits both alike; the model is loaded
  once beforehand, so neither side pays for it.
- `analyze_file(..., transcribe=False)`: prosody and coach only, as a multiple of real time.
- Time to first result, in a fresh interpreter: import `poise.audio.session`, build a Session,
  feed one 0.1 s block; numba must not have been imported (its JIT would delay the first cue).

Writes benchmarks/results/speed.json and speed.md. These are measurements, not tests.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import numpy as np
import soundfile as sf

from benchmarks.accuracy import (
    header,
    machine,
    speech_dir_or_exit,
    table,
    write_results,
)

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
CALL_S = 600.0  # s: a long-ish real call, enough for Whisper's fixed costs to be small
ROUNDS = 2  # a/b pairs
WHISPER_THREADS = 2  # as analyze_file: both cores
TARGET_RATIO = 1.3  # whole analysis / faster-whisper alone
FIRST_BLOCK_S = 0.1  # s: one live block

FIRST_RESULT_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import soundfile as sf
t_numpy = time.perf_counter()
import poise.audio.session as session_mod
from poise.audio.types import Block, SAMPLE_RATE
t_import = time.perf_counter()
x, sr = sf.read(sys.argv[1], dtype="float32", always_2d=True, frames=round(float(sys.argv[2]) * sf.info(sys.argv[1]).samplerate))
import soxr
agent, caller = (soxr.resample(x[:, i], sr, SAMPLE_RATE).astype(np.float32) for i in (0, 1))
t_read = time.perf_counter()
s = session_mod.Session(has_caller=True)
s.feed(Block(t0=0.0, agent=agent, caller=caller))
t_feed = time.perf_counter()
print(json.dumps({
    "import_numpy_soundfile_s": t_numpy - t0,
    "import_session_s": t_import - t_numpy,
    "first_feed_s": t_feed - t_read,
    "import_plus_first_feed_s": (t_import - t_numpy) + (t_feed - t_read),
    "all_imports_plus_first_feed_s": (t_import - t0) + (t_feed - t_read),
    "frames_after_first_feed": s.tracks["agent"].n,
    "numba_imported": "numba" in sys.modules,
    "librosa_imported": "librosa" in sys.modules,
    "faster_whisper_imported": "faster_whisper" in sys.modules,
    "qt_imported": any(m.startswith("PySide6") for m in sys.modules),
}))
"""


def make_long_call(src: Path, dst: Path, seconds: float = CALL_S) -> Path:
    """`src` (a stereo recording) repeated to `seconds`, written to `dst` in the same format and rate."""
    info = sf.info(str(src))
    x, sr = sf.read(str(src), dtype="int16", always_2d=True)
    n = int(seconds * sr)
    reps = int(np.ceil(n / len(x)))
    y = np.tile(x, (reps, 1))[:n]
    sf.write(str(dst), y, sr, subtype=info.subtype, format=info.format)
    return dst


def load_average() -> float:
    """1-minute load average: how busy the shared machine was (2 cores: above 2 means waiting)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


class Clock:
    """Wall time and this process's CPU time (all threads, CTranslate2's included) of a block."""

    def __enter__(self) -> Self:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def time_whisper_alone(path: Path) -> Clock:
    """faster-whisper on both channels, as analyze_file runs it, without Poise around it."""
    from poise.audio.sources import load_call
    from poise.audio.transcribe import WHISPER_OPTIONS, load_model

    model = load_model(cpu_threads=WHISPER_THREADS)
    call = load_call(path)  # decoded outside the timing: (a) is Whisper only
    with Clock() as clock:
        for audio in (call.agent, call.caller):
            segments, _info = model.transcribe(audio, **WHISPER_OPTIONS)
            for _ in segments:
                pass
    return clock


def time_analyze(path: Path, transcribe: bool = True) -> tuple[Clock, dict]:
    from poise.audio.analysis import analyze_file

    with Clock() as clock:
        r = analyze_file(path, transcribe=transcribe)
    return clock, {"agent_words": r.agent.words, "caller_words": r.caller.words if r.caller else None,
                     "cues": len(r.cues), "segments": len(r.segments)}


def first_result(path: Path) -> dict:
    """Import + first Session.feed in a fresh interpreter (what a live call waits for)."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_RESULT_SCRIPT, str(path), str(FIRST_BLOCK_S)],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    speech = speech_dir_or_exit()
    from poise.audio.transcribe import load_model

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="poise-speed-") as tmpdir:
        path = make_long_call(speech / CALL, Path(tmpdir) / "call_10min_8k_ulaw.wav")
        duration = sf.info(str(path)).duration
        t_load = time.perf_counter()
        load_model(cpu_threads=WHISPER_THREADS)
        model_load_s = time.perf_counter() - t_load

        whisper: list[Clock] = []
        analyze: list[Clock] = []
        loads: dict[str, list[float]] = {"a": [], "b": []}
        counts: dict = {}
        for i in range(ROUNDS):
            whisper.append(time_whisper_alone(path))
            loads["a"].append(load_average())
            print(f"round {i + 1}: (a) faster-whisper alone {whisper[-1].wall:.1f} s wall, "
                  f"{whisper[-1].cpu:.1f} s CPU, load {loads['a'][-1]}", flush=True)
            clock, counts = time_analyze(path)
            analyze.append(clock)
            loads["b"].append(load_average())
            print(f"round {i + 1}: (b) poise analyze       {analyze[-1].wall:.1f} s wall, "
                  f"{analyze[-1].cpu:.1f} s CPU, load {loads['b'][-1]}", flush=True)
        prosody = [time_analyze(path, transcribe=False)[0] for _ in range(2)]
        first = [first_result(path) for _ in range(3)]

    whisper_s, analyze_s, prosody_s = ([c.wall for c in cs] for cs in (whisper, analyze, prosody))
    a, b = statistics.median(whisper_s), statistics.median(analyze_s)
    ratio = b / a
    a_cpu, b_cpu = statistics.median(c.cpu for c in whisper), statistics.median(c.cpu for c in analyze)
    ratio_cpu = b_cpu / a_cpu
    ratio_best = min(analyze_s) / min(whisper_s)  # fastest of each: the least disturbed by other jobs
    p = statistics.median(prosody_s)
    p_cpu = statistics.median(c.cpu for c in prosody)
    first_total = statistics.median(f["import_plus_first_feed_s"] for f in first)
    first_import = statistics.median(f["import_session_s"] for f in first)
    first_feed = statistics.median(f["first_feed_s"] for f in first)
    first_all = statistics.median(f["all_imports_plus_first_feed_s"] for f in first)
    numba = any(f["numba_imported"] for f in first)
    elapsed = time.monotonic() - started
    m = machine()

    md = [header("Speed"), "",
          (f"Call: `{CALL}` repeated to {duration:.0f} s (8 kHz µ-law stereo); tiny.en int8, "
          f"{WHISPER_THREADS} threads; model load {model_load_s:.1f} s (once, not in the times below)."), ""]
    def fmt(c: Clock) -> str:
        return f"{c.wall:.1f} ({c.cpu:.1f})"

    md.append(table(
        ["run", "round 1: wall s (CPU s)", "round 2: wall s (CPU s)", "median wall s", "median CPU s", "x real time (wall)"],
        [["(a) faster-whisper alone, both channels", *[fmt(c) for c in whisper], round(a, 1), round(a_cpu, 1),
          round(duration / a, 1)],
         ["(b) poise analyze (whole pipeline)", *[fmt(c) for c in analyze], round(b, 1), round(b_cpu, 1),
          round(duration / b, 1)],
         ["prosody + coach only (transcribe=False)", *[fmt(c) for c in prosody], round(p, 1), round(p_cpu, 1),
          round(duration / p, 1)]],
    ))
    md += ["", (f"Ratio b/a, wall time: **{ratio:.2f}** (target ≤ {TARGET_RATIO}: "
               f"{'meets target' if ratio <= TARGET_RATIO else 'MISSES target'}); fastest run of each: "
               f"**{ratio_best:.2f}**; CPU time: **{ratio_cpu:.2f}**. "
               f"1-minute load average after each run: a {loads['a']}, b {loads['b']} "
               f"(a 2-core machine shared with other jobs: wall times vary with their load, CPU times much less). "
               f"Transcript: {counts.get('agent_words')} agent words, {counts.get('caller_words')} caller words, "
               f"{counts.get('cues')} cues."), "",
           "Time to first result (fresh interpreter, median of 3):", ""]
    md.append(table(
        ["step", "s"],
        [["import poise.audio.session", round(first_import, 3)],
         [f"first Session.feed ({FIRST_BLOCK_S} s block)", round(first_feed, 4)],
         ["import + first feed", round(first_total, 3)],
         ["the same with numpy and soundfile imports", round(first_all, 3)],
         ["numba imported after first feed", numba],
         ["librosa imported", any(f["librosa_imported"] for f in first)],
         ["faster_whisper imported", any(f["faster_whisper_imported"] for f in first)],
         ["Qt imported", any(f["qt_imported"] for f in first)]],
    ))
    md += ["", f"Run time {elapsed:.0f} s.", ""]
    markdown = "\n".join(md)
    print(markdown)
    write_results("speed", {
        "machine": m,
        "elapsed_s": round(elapsed, 1),
        "call": {"source": CALL, "duration_s": duration, "format": "WAV G.711 mu-law 8 kHz stereo"},
        "model_load_s": round(model_load_s, 2),
        "whisper_alone_s": [round(v, 2) for v in whisper_s],
        "analyze_s": [round(v, 2) for v in analyze_s],
        "whisper_alone_cpu_s": [round(c.cpu, 2) for c in whisper],
        "analyze_cpu_s": [round(c.cpu, 2) for c in analyze],
        "load_average_after": loads,
        "whisper_alone_median_s": round(a, 2),
        "analyze_median_s": round(b, 2),
        "ratio_analyze_over_whisper": round(ratio, 3),
        "ratio_analyze_over_whisper_cpu": round(ratio_cpu, 3),
        "ratio_analyze_over_whisper_fastest": round(ratio_best, 3),
        "target_ratio": TARGET_RATIO,
        "prosody_only_s": [round(v, 2) for v in prosody_s],
        "prosody_only_cpu_s": [round(c.cpu, 2) for c in prosody],
        "prosody_only_x_realtime": round(duration / p, 1),
        "analyze_x_realtime": round(duration / b, 1),
        "whisper_alone_x_realtime": round(duration / a, 1),
        "analysis_counts": counts,
        "first_result": first,
        "first_result_median_s": round(first_total, 4),
        "numba_imported_after_first_feed": numba,
    }, markdown)


if __name__ == "__main__":
    main()
