"""Where `analyze_file` holds memory, phase by phase: RSS every 0.2 s against what the analysis is doing.

Run from the repo root:  .venv/bin/python -m benchmarks.memory_phases CALL.wav [--trace] [--out FILE.json]

A thread samples VmRSS (/proc/self/status) every SAMPLE_S; the analysis's steps (Silero's pass, each
Whisper chunk, the sound's pass, the words' checks, the missed speech, the rules, the result) are marked
by wrapping the functions `analyze_file` calls, so every sample carries the phase it fell in. With
`--trace`, tracemalloc also runs (Python and numpy allocations; CTranslate2's and onnxruntime's C++ heaps
are outside it) and a snapshot's top lines are kept at the end of each phase. Prints one line per phase:
its peak RSS and when it came. A measurement, not a test: build the long call as benchmarks/memory.py does.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import tracemalloc
from pathlib import Path

SAMPLE_S = 0.2  # s between RSS samples: shorter than a Whisper batch, so its peak is seen


def _status_mb(field: str) -> float:
    """One memory field of /proc/self/status (VmRSS, VmHWM), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """This process's resident memory now, MB."""
    return _status_mb("VmRSS")


def hwm_mb() -> float:
    """The kernel's peak of this process's resident memory, MB."""
    return _status_mb("VmHWM")


def main() -> None:
    path = sys.argv[1]
    trace = "--trace" in sys.argv
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else None
    import poise.audio.analysis as analysis
    from poise.audio.session import Session

    started = time.monotonic()
    state = {"whisper": "load", "main": "open"}
    marks: list[dict] = []
    samples: list[dict] = []
    snapshots: dict[str, list[str]] = {}
    lock = threading.Lock()

    def mark(lane: str, phase: str) -> None:
        with lock:
            state[lane] = phase
            marks.append({"t": round(time.monotonic() - started, 2), "lane": lane, "phase": phase, "rss_mb": round(rss_mb(), 1)})

    def snap(label: str) -> None:
        if trace:
            top = tracemalloc.take_snapshot().statistics("lineno")[:8]
            snapshots[label] = [f"{s.size / 2**20:.2f} MB {s.count} {s.traceback}" for s in top]
            snapshots[label].insert(0, f"traced now {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB")

    def wrap(obj, name, lane, before, after=None, each=False):
        orig = getattr(obj, name)
        counter = {"n": 0}

        def wrapped(*args, **kwargs):
            counter["n"] += 1
            if not each or counter["n"] == 1:
                mark(lane, before(args, kwargs) if callable(before) else before)
            try:
                return orig(*args, **kwargs)
            finally:
                if after:
                    mark(lane, after)
        setattr(obj, name, wrapped)

    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            with lock:
                row = {"t": round(time.monotonic() - started, 2), "rss_mb": round(rss_mb(), 1),
                       "main": state["main"], "whisper": state["whisper"]}
                if trace:
                    row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 1)
            samples.append(row)
            time.sleep(SAMPLE_S)

    chunk_no = {"n": 0}

    def chunk_label(args, kwargs):
        chunk_no["n"] += 1
        return f"chunk {chunk_no['n']} {args[2]} @{kwargs.get('offset_s', 0):.0f}s"

    wrap(analysis, "find_speech", "main", "silero", after="silero done")
    wrap(analysis, "transcribe_batch", "whisper", chunk_label, after="between chunks")
    wrap(analysis, "words_heard", "main", "words_heard")
    wrap(analysis, "_transcribe_missed", "main", "missed speech")
    orig_measure = Session.measure
    measured = {"minute": -1}

    def measure(self, block):  # the phase names the minute of the call being measured
        minute = int(block.t0 // 60)
        if minute != measured["minute"]:
            measured["minute"] = minute
            mark("main", f"measure min {minute}")
        return orig_measure(self, block)
    Session.measure = measure
    wrap(Session, "admit_transcript", "main", "admit transcript")
    wrap(Session, "run_rules", "main", "rules")
    wrap(Session, "finish", "main", "finish", after="after finish")
    import faster_whisper.transcribe as fw
    from poise.audio import transcribe as tr
    inner = {"step": ""}

    def step(obj, name, label):  # a step inside a Whisper chunk: the phase gets its name until the next
        orig = getattr(obj, name)

        def wrapped(*args, **kwargs):
            base = state["whisper"].split(" / ")[0]
            mark("whisper", f"{base} / {label}")
            try:
                return orig(*args, **kwargs)
            finally:
                mark("whisper", f"{base} / after {label}")
        setattr(obj, name, wrapped)
    step(tr._PieceByPieceEncoder, "encode", "encode") if hasattr(tr, "_PieceByPieceEncoder") else step(fw.WhisperModel, "encode", "encode")
    step(fw.BatchedInferencePipeline, "generate_segment_batched", "encode+generate")
    step(fw.WhisperModel, "add_word_timestamps", "align")
    orig_find = analysis.find_speech

    def find_then_snap(*a, **k):
        try:
            return orig_find(*a, **k)
        finally:
            snap("after silero")
    analysis.find_speech = find_then_snap
    orig_words = analysis.words_heard
    first_words = {"done": False}

    def words_then_snap(*a, **k):
        if not first_words["done"]:
            first_words["done"] = True
            snap("after measure, words arrived")
        return orig_words(*a, **k)
    analysis.words_heard = words_then_snap

    if trace:
        tracemalloc.start()
    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    result = analysis.analyze_file(path)
    snap("after analyze_file")
    mark("main", "report")
    from poise.audio.report import to_json
    text = json.dumps(to_json(result))
    mark("main", "done")
    stop.set()
    thread.join()
    peaks: dict[str, dict] = {}
    for s in samples:
        key = f"{s['main'].split(' min ')[0]} | {s['whisper'].split(' @')[0]}{' / ' + s['whisper'].split(' / ')[1] if ' / ' in s['whisper'] else ''}"
        if key not in peaks or s["rss_mb"] > peaks[key]["rss_mb"]:
            peaks[key] = s
    order = sorted(peaks.values(), key=lambda s: s["t"])
    print(f"{path}: VmHWM {hwm_mb():.1f} MB, {len(text)} B of JSON, {time.monotonic() - started:.0f} s")
    for s in order:
        print(f"  t={s['t']:7.1f}  peak {s['rss_mb']:7.1f} MB  " + (f"traced {s.get('traced_mb')} MB  " if trace else "")
              + f"main: {s['main']:<18} whisper: {s['whisper']}")
    for label, lines in snapshots.items():
        print(f"-- tracemalloc {label}")
        for line in lines:
            print("   ", line)
    if out:
        out.write_text(json.dumps({"vm_hwm_mb": hwm_mb(), "marks": marks, "samples": samples, "snapshots": snapshots}))


if __name__ == "__main__":
    main()
