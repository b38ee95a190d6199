"""How much memory Poise holds: a 60-minute live call through Session, and `poise analyze`.

Run from the repo root:  .venv/bin/python -m benchmarks.memory

- Replay: in a fresh interpreter, a 60-minute two-channel call (the real booking call
  `call_spokenwoz_agent_left_8k_ulaw.wav`, decoded once to 16 kHz and repeated block by
  block from memory, so the audio itself never grows) is fed through `Session` in 0.1 s
  blocks, as a live call arrives, with no transcriber. Resident memory (RSS, from
  /proc/self/statm) is sampled every simulated minute: start, peak, end, and the slope
  in MB per simulated 10 minutes (least squares over the samples). Session folds frames older than
  40 s into the call's compact record (track.py), so what still grows is ~8 B per voiced frame, the
  values the timeline's per-step medians need (2.2 MB an hour on this call; 14.4 before folding).
- Traced: `analyze_file(transcribe=False)` on the 10- and 60-minute calls under tracemalloc, in a fresh
  interpreter each: what Poise's own Python and numpy allocations peak at (Whisper's C++ heap is not
  traced), so their difference is what Poise holds for 50 more minutes (the tracks before the rules run).
- `poise analyze` on the 10-minute call (the booking call repeated, 8 kHz µ-law stereo):
  peak RSS by `/usr/bin/time -v` (or getrusage of the child when it is missing).
- Issue 9's target: `poise analyze` on the 60-minute call peaks at most 100 MB above the
  10-minute call (with Whisper and with --no-transcript; `--skip-60` leaves it out: it
  takes Whisper's time on an hour of audio; `--repeat N` runs each analysis with Whisper N times and
  compares medians: one run's peak varies by tens of MB, mostly faster-whisper's own, so the
  difference of two single runs gave +56, +101 and +106 MB with the same Whisper path). The decoded call itself is 16 kHz float32 per
  role, 7.7 MB per minute of stereo call: held whole, 50 more minutes cost ~384 MB.
- Where the peak comes from, phase by phase: `benchmarks/memory_phases.py` (RSS every 0.2 s against Silero,
  each Whisper chunk's encode / generate / align, the sound's pass, the rules). The peak is always inside a
  Whisper chunk, so the hour's peak is the highest of 24 chunks' and the 10 minutes' of 4: the smaller one
  chunk's rise above the rest, the smaller that difference. Encoding the batch's pieces one at a time
  (transcribe.ENCODE_PIECES) took the rise from ~400 MB (the encoder's attention for 8 pieces) to ~250
  (faster-whisper's word alignment of the batch, which stays batched: split, its bits change).

Writes benchmarks/results/memory.json and memory.md. These are measurements, not tests.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.accuracy import (
    header,
    machine,
    speech_dir_or_exit,
    table,
    write_results,
)
from benchmarks.speed import CALL, make_long_call

REPLAY_MINUTES = 60  # simulated minutes of call: a long shift-length call
BLOCK_S = 0.1  # s: a live capture block
ANALYZE_CALL_S = 600.0  # s: the 10-minute call of benchmarks.speed
ANALYZE_LONG_CALL_S = 3600.0  # s: the 60-minute call of issue 9's memory target
TARGET_EXTRA_MB = 100.0  # MB: the 60-minute call may peak at most this much above the 10-minute one (issue 9)
REPO = Path(__file__).resolve().parents[1]

REPLAY_SCRIPT = r"""
import json, os, sys, time
import numpy as np

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def hwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None

from poise.audio.session import Session
from poise.audio.sources import load_call
from poise.audio.types import SAMPLE_RATE, Block

call = load_call(sys.argv[1])
minutes, block_s = int(sys.argv[2]), float(sys.argv[3])
agent, caller = call.agent, call.caller
n_src, block = len(agent), round(block_s * SAMPLE_RATE)
per_minute = round(60 / block_s)
session = Session(has_caller=True)
samples = [{"minute": 0, "rss_mb": rss_mb()}]
started = time.perf_counter()
pos = 0
for i in range(minutes * per_minute):
    idx = (np.arange(pos, pos + block) % n_src)  # the call repeated, block by block
    session.feed(Block(t0=pos / SAMPLE_RATE, agent=agent[idx], caller=caller[idx]))
    pos += block
    if (i + 1) % per_minute == 0:
        samples.append({"minute": (i + 1) // per_minute, "rss_mb": rss_mb()})
elapsed = time.perf_counter() - started
result = session.finish()
print(json.dumps({
    "samples": samples,
    "vm_hwm_mb": hwm_mb(),
    "feed_s": elapsed,
    "frames": session.tracks["agent"].n,
    "cues": len(result.cues),
    "call_source_s": n_src / SAMPLE_RATE,
}))
"""


def replay(call: Path) -> dict:
    """Run the 60-minute replay in a fresh interpreter; its JSON summary."""
    out = subprocess.run(
        [sys.executable, "-c", REPLAY_SCRIPT, str(call), str(REPLAY_MINUTES), str(BLOCK_S)],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


WHISPER_ALONE_SCRIPT = r"""
import sys
from poise.audio.sources import load_call
from poise.audio.transcribe import WHISPER_OPTIONS, load_model
model = load_model(cpu_threads=2)
call = load_call(sys.argv[1])
for audio in (call.agent, call.caller):
    segments, _ = model.transcribe(audio, **WHISPER_OPTIONS)
    for _ in segments:
        pass
"""


TRACED_SCRIPT = r"""
import json, sys, tracemalloc
from poise.audio.analysis import analyze_file
tracemalloc.start()
analyze_file(sys.argv[1], transcribe=False)
print(json.dumps({"traced_peak_mb": tracemalloc.get_traced_memory()[1] / 2**20}))
"""


def traced_peak(call: Path) -> float:
    """Peak MB of Python and numpy allocations of `analyze_file(transcribe=False)` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", TRACED_SCRIPT, str(call)], check=True, capture_output=True, text=True, cwd=REPO)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["traced_peak_mb"])


def peak_rss(cmd: list[str]) -> dict:
    """Peak RSS (MB) and wall time of a command in a child process."""
    started = time.perf_counter()
    if Path("/usr/bin/time").exists():
        out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=REPO, check=False)
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
        peak = int(match.group(1)) / 1024 if match else None
        how = "/usr/bin/time -v"
    else:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        how = "getrusage(RUSAGE_CHILDREN)"
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[1:3]} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return {"peak_rss_mb": peak, "wall_s": time.perf_counter() - started, "measured_with": how}


def peak_rss_repeated(cmd: list[str], repeats: int) -> dict:
    """`peak_rss` `repeats` times: the median peak (one run's peak varies by tens of MB: faster-whisper's own
    peak on the 10-minute call was 630 and 673 MB in two runs), with every run's peak kept."""
    runs = [peak_rss(cmd) for _ in range(max(1, repeats))]
    peaks = [r["peak_rss_mb"] for r in runs if r["peak_rss_mb"] is not None]
    out = dict(runs[0])
    if peaks:
        out["peak_rss_mb"] = float(np.median(peaks))
        out["peaks_mb"] = [round(p, 1) for p in peaks]
    out["wall_s"] = float(np.median([r["wall_s"] for r in runs]))
    return out


def _repeats() -> int:
    """`--repeat N`: run each `poise analyze` N times and compare medians (default 1: the run takes ~7 min)."""
    if "--repeat" in sys.argv:
        return int(sys.argv[sys.argv.index("--repeat") + 1])
    return 1


def main() -> None:
    speech = speech_dir_or_exit()
    repeats = _repeats()
    started = time.monotonic()
    source = speech / CALL
    print(f"replaying {REPLAY_MINUTES} simulated minutes through Session in {BLOCK_S} s blocks ...", flush=True)
    rep = replay(source)
    with tempfile.TemporaryDirectory(prefix="poise-memory-") as tmpdir:
        long_call = make_long_call(source, Path(tmpdir) / "call_10min_8k_ulaw.wav", ANALYZE_CALL_S)
        print("poise analyze on the 10-minute call ...", flush=True)
        ana = peak_rss_repeated([sys.executable, "-m", "poise.cli", "analyze", str(long_call), "--quiet"], repeats)
        print("the same with --no-transcript, and faster-whisper alone ...", flush=True)
        ana_nt = peak_rss([sys.executable, "-m", "poise.cli", "analyze", str(long_call), "--quiet", "--no-transcript"])
        whisper = peak_rss([sys.executable, "-c", WHISPER_ALONE_SCRIPT, str(long_call)])
        traced = {"10": traced_peak(long_call)}
        hour = hour_nt = None
        if "--skip-60" not in sys.argv:
            hour_call = make_long_call(source, Path(tmpdir) / "call_60min_8k_ulaw.wav", ANALYZE_LONG_CALL_S)
            print("poise analyze on the 60-minute call, with and without Whisper ...", flush=True)
            hour = peak_rss_repeated([sys.executable, "-m", "poise.cli", "analyze", str(hour_call), "--quiet"], repeats)
            hour_nt = peak_rss([sys.executable, "-m", "poise.cli", "analyze", str(hour_call), "--quiet", "--no-transcript"])
            traced["60"] = traced_peak(hour_call)

    minutes = np.array([s["minute"] for s in rep["samples"]], float)
    rss = np.array([s["rss_mb"] for s in rep["samples"]], float)
    slope = float(np.polyfit(minutes, rss, 1)[0]) * 10.0  # MB per 10 simulated minutes
    tail = minutes >= 10  # after the first arrays have settled
    slope_tail = float(np.polyfit(minutes[tail], rss[tail], 1)[0]) * 10.0 if tail.sum() >= 2 else None
    start_mb, peak_mb, end_mb = float(rss[0]), float(rss.max()), float(rss[-1])
    speed_x = REPLAY_MINUTES * 60 / rep["feed_s"]
    elapsed = time.monotonic() - started
    m = machine()

    md = [header("Memory"), "",
          f"## {REPLAY_MINUTES}-minute call through Session ({BLOCK_S} s blocks, no transcriber)", "",
          (f"The real booking call ({rep['call_source_s']:.0f} s) repeated from memory; RSS from /proc/self/statm "
          f"every simulated minute. Replayed at {speed_x:.0f}x real time ({rep['feed_s']:.0f} s), "
          f"{rep['frames']} frames per role, {rep['cues']} cues."), ""]
    md.append(table(["", "MB"], [
        ["RSS at start (engine imported, call decoded)", round(start_mb, 1)],
        ["RSS peak (minute samples)", round(peak_mb, 1)],
        ["RSS at end (60 min)", round(end_mb, 1)],
        ["VmHWM (kernel's peak)", None if rep["vm_hwm_mb"] is None else round(rep["vm_hwm_mb"], 1)],
        ["slope, MB per 10 simulated minutes (all samples)", round(slope, 2)],
        ["slope, MB per 10 simulated minutes (from minute 10)", None if slope_tail is None else round(slope_tail, 2)],
    ]))
    md += ["", "RSS by simulated minute: " + ", ".join(
        f"{int(mi)}: {r:.1f}" for mi, r in zip(minutes, rss) if int(mi) % 5 == 0), ""]
    md += [f"## `poise analyze` on the {ANALYZE_CALL_S / 60:.0f}-minute call (8 kHz µ-law stereo)", ""]
    def mb(x: dict) -> float | None:
        return None if x["peak_rss_mb"] is None else round(x["peak_rss_mb"], 1)

    md.append(table(["process", "peak RSS, MB", "wall s"], [
        ["poise analyze (whole pipeline)", mb(ana), round(ana["wall_s"], 1)],
        ["poise analyze --no-transcript (decode, prosody, coach, stats)", mb(ana_nt), round(ana_nt["wall_s"], 1)],
        ["faster-whisper alone (load_call + model.transcribe per channel)", mb(whisper), round(whisper["wall_s"], 1)],
    ]))
    if hour is not None and hour_nt is not None:
        rows = []
        for label, short, long_ in (("with Whisper", ana, hour), ("--no-transcript", ana_nt, hour_nt)):
            extra = None if short["peak_rss_mb"] is None or long_["peak_rss_mb"] is None else long_["peak_rss_mb"] - short["peak_rss_mb"]
            rows.append([label, mb(short), mb(long_), None if extra is None else round(extra, 1),
                         "yes" if extra is not None and extra <= TARGET_EXTRA_MB else "no"])
        md += ["", f"## Issue 9's target: 60-minute call at most {TARGET_EXTRA_MB:.0f} MB above the 10-minute call", ""]
        md.append(table(["poise analyze", "10 min, MB", "60 min, MB", "extra, MB", "within target"], rows))
    md += ["", "Traced peak of `analyze_file(transcribe=False)` (tracemalloc: Poise's own allocations): "
           + ", ".join(f"{k} min {v:.1f} MB" for k, v in traced.items()) + "."]
    if repeats > 1:
        md += ["", f"Each `poise analyze` with Whisper ran {repeats} times; the table holds the median peak. Every run's peak: "
               f"10 min {ana.get('peaks_mb')}, 60 min {hour.get('peaks_mb') if hour else None} MB."]
    md += ["", f"Peak RSS measured with {ana['measured_with']}."]
    md += ["", f"Run time {elapsed:.0f} s.", ""]
    markdown = "\n".join(md)
    print(markdown)
    write_results("memory", {
        "machine": m,
        "elapsed_s": round(elapsed, 1),
        "replay": {
            "minutes": REPLAY_MINUTES,
            "block_s": BLOCK_S,
            "start_mb": round(start_mb, 2),
            "peak_mb": round(peak_mb, 2),
            "end_mb": round(end_mb, 2),
            "vm_hwm_mb": rep["vm_hwm_mb"],
            "slope_mb_per_10min": round(slope, 3),
            "slope_mb_per_10min_from_minute_10": None if slope_tail is None else round(slope_tail, 3),
            "x_realtime": round(speed_x, 1),
            "frames": rep["frames"],
            "cues": rep["cues"],
            "samples": rep["samples"],
        },
        "analyze_10min": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in ana.items()},
        "analyze_10min_no_transcript": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in ana_nt.items()},
        "traced_peak_mb": {f"{k}min": round(v, 2) for k, v in traced.items()},
        "whisper_alone_10min": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in whisper.items()},
        "analyze_60min": hour and {k: (round(v, 2) if isinstance(v, float) else v) for k, v in hour.items()},
        "analyze_60min_no_transcript": hour_nt and {k: (round(v, 2) if isinstance(v, float) else v) for k, v in hour_nt.items()},
    }, markdown)


if __name__ == "__main__":
    main()
