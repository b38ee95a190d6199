"""How the review window holds up on a long call: first lanes, frame times while playing and
scrolling, and how far the drawn playhead is from the playback position.

Run from the repo root:  QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.review [--minutes 30]

- The call: real speech from ../shared/speech concatenated into one stereo call of
  `--minutes` (the booking call `call_spokenwoz_agent_left_8k_ulaw.wav`, agent left and caller
  right, alternating with the two-speaker clip `fw_stereo_diarization.wav`), written as 8 kHz
  µ-law stereo (as call recorders store it) to a temporary folder.
- (a) First lanes: from `ReviewWindow(...)` until the call lane is drawn (the `audio_ready`
  signal, then one synchronous repaint of the timeline). Target ≤ 2 s.
- (b) The analysis: voice measures and cues only (`--transcribe` adds Whisper: the lead's full
  timing), from `ReviewWindow(...)` until every lane is drawn; and, side by side on the same file
  with the same model and settings, `poise analyze CALL --quiet` (`--no-transcript` without
  `--transcribe`; it saves nothing, the window saves the review to a throwaway history) as a
  subprocess, once before the window and once after it (the load of the shared machine drifts):
  the wall and CPU time of each, and the ratio window / analyze (target ≤ 1). The window's CPU is
  the whole process's from opening it until every lane is drawn (UI thread included).
- (c) Playing: the real event loop for `--play-s` seconds with the window's 30 fps timer; the
  intervals between paints of the timeline (frame times), and, from an independent 7 ms timer,
  the drawn playhead minus the player's position (`CallPlayer.position_s`, the stream clock).
  Playback goes to the private PulseAudio's null sink (tests/pulse.py) when there is one; else
  to the default output; with no output at all (c) is skipped and says so.
- (d) Scrolling and zooming while playing: a 60 s view panned across the call in 100 steps and
  zoomed in and out 40 times, each step timed from the range change until the event loop has
  painted it (ms per frame; until 2026-12-01 a forced synchronous repaint, which painted each step
  twice whatever the timeline did). The range is set
  with `ReviewTimeline.set_view`, the path a wheel zoom or a drag takes (the range, then every lane
  settled before the paint); also counted: paints of the timeline per step (1 is the aim: pyqtgraph
  painted every change twice until 2026-12-01).

The script waits in a Qt event loop, as the app does (until 2026-12-01 it polled `processEvents`
every 2 ms, 500 wake-ups a second of the UI thread competing with the analysis for the GIL).

Writes benchmarks/results/review.json and review.md. These are measurements, not tests.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.accuracy import header, speech_dir_or_exit, table, write_results

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
SECOND = "fw_stereo_diarization.wav"
RATE = 8000  # Hz: the built call's rate, as call recorders write it
FIRST_LANES_TARGET_S = 2.0
FPS_TARGET = 30.0
PLAYHEAD_TARGET_S = 0.05
SAMPLE_MS = 7  # ms: the playhead sampler's period (coprime-ish with the 33 ms frame timer)
VIEW_S = 60.0  # s: the zoomed view panned in (d)
REPO = Path(__file__).resolve().parents[1]
FRAME_WAIT_S = 1.0  # s: the longest (d) waits for the paint of one step
WAIT_POLL_MS = 10  # ms: how often the event loop the script waits in checks whether it may go on


def time_analyze(call: Path, transcribe: bool) -> dict:
    """`poise analyze CALL --quiet` in a fresh interpreter: wall s, CPU s (user + system), exit code."""
    cmd = [sys.executable, "-m", "poise.cli", "analyze", str(call), "--quiet"] + ([] if transcribe else ["--no-transcript"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "rc": done.returncode, "load_1min": round(os.getloadavg()[0], 2),
            "stderr": done.stderr.strip().splitlines()[-1:] if done.returncode else []}


def build_call(speech: Path, minutes: float, folder: Path) -> Path:
    """Concatenate real stereo speech to `minutes`; returns the WAV's path."""
    import soxr

    parts = []
    for name in (CALL, SECOND):
        audio, rate = sf.read(str(speech / name), dtype="float32", always_2d=True)
        parts.append(soxr.resample(audio, rate, RATE) if rate != RATE else audio)
    total = int(minutes * 60 * RATE)
    out, n, i = [], 0, 0
    while n < total:
        piece = parts[i % len(parts)]
        out.append(piece[: total - n])
        n += len(out[-1])
        i += 1
    path = folder / f"review_{minutes:g}min.wav"
    sf.write(str(path), np.concatenate(out), RATE, subtype="ULAW")
    return path


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the built call")
    parser.add_argument("--play-s", type=float, default=10.0, help="seconds of playback measured in (c)")
    parser.add_argument("--transcribe", action="store_true", help="(b) with Whisper, as poise analyze")
    parser.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/results alone")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    speech = speech_dir_or_exit()
    tmp = Path(tempfile.mkdtemp(prefix="poise-review-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # the built call is ~115 MB at 30 minutes
    os.environ["POISE_DATA_DIR"] = str(tmp / "data")  # the review is saved to a throwaway history
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        import pulse

        pulse.setup()
        output = "PulseAudio null sink (private daemon)"
    except Exception as exc:  # noqa: BLE001 - no harness: the default output, if any
        output = f"default output (no PulseAudio harness: {exc})"

    call = build_call(speech, args.minutes, tmp)
    analyze_runs = [time_analyze(call, args.transcribe)]  # before the window (and once more after it)
    print(f"poise analyze (before the window): {analyze_runs[0]['wall_s']:.1f} s wall, {analyze_runs[0]['cpu_s']:.1f} s CPU")
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from poise.desktop.app import create_app
    from poise.desktop.review_window import ReviewWindow

    app = create_app(["poise-bench"])
    data: dict = {"minutes": args.minutes, "output": output, "transcribe": args.transcribe}

    def wait_for(predicate, timeout_s: float) -> bool:  # noqa: ANN001
        """Run the event loop (as the app's) until `predicate()` or `timeout_s`."""
        if predicate():
            return True
        deadline = time.perf_counter() + timeout_s
        loop = QEventLoop()
        check = QTimer()
        check.setInterval(WAIT_POLL_MS)
        check.timeout.connect(lambda: loop.quit() if predicate() or time.perf_counter() >= deadline else None)
        check.start()
        loop.exec()
        check.stop()
        return predicate()

    # (a) first lanes
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    win = ReviewWindow(call, transcribe=args.transcribe)
    win.resize(1000, 660)
    win.show()
    wait_for(lambda: win.audio is not None, 120)
    win.timeline.viewport().repaint()
    data["first_lanes_s"] = time.perf_counter() - t0
    data["analysis_running_at_first_lanes"] = win.result is None and win.error is None
    # (b) the analysis
    wait_for(lambda: win.result is not None or win.error is not None, 3600 if args.transcribe else 600)
    win.timeline.viewport().repaint()
    data["analysis_s"] = time.perf_counter() - t0
    data["analysis_cpu_s"] = time.process_time() - cpu0
    data["analysis_load_1min"] = round(os.getloadavg()[0], 2)
    data["analysis_error"] = win.error
    reports = win.progress_reports
    data["progress_reports"] = None if reports is None else {"sent": reports.sent, "dropped": reports.dropped}
    print(f"first lanes {data['first_lanes_s']:.2f} s, analysis {data['analysis_s']:.1f} s wall, "
          f"{data['analysis_cpu_s']:.1f} s CPU ({win.error or 'ok'}); progress reports {data['progress_reports']}")

    # (c) playing
    paints: list[float] = []
    lags: list[float] = []

    class PaintClock(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802
            if event.type() == QEvent.Type.Paint:
                paints.append(time.perf_counter())
            return False

    clock = PaintClock()
    win.timeline.viewport().installEventFilter(clock)
    played = win.play(from_s=min(60.0, win.duration_s / 3))
    data["playback_error"] = None if played else win.player_error
    if played:
        wait_for(lambda: win.position_s() > min(60.0, win.duration_s / 3) + 0.2, 5.0)  # a null sink starts late
        paints.clear()
        sampler = QTimer()
        sampler.setInterval(SAMPLE_MS)
        sampler.timeout.connect(lambda: lags.append(win.timeline.position() - win.position_s()))
        sampler.start()
        end = time.perf_counter() + args.play_s
        wait_for(lambda: time.perf_counter() >= end, args.play_s + 1)
        sampler.stop()
        frames = np.diff(paints) * 1000 if len(paints) > 1 else np.array([])
        data["play_frame_ms"] = {"n": int(len(frames)), "p50": pct(list(frames), 50), "p95": pct(list(frames), 95),
                                 "max": float(frames.max()) if len(frames) else None}
        data["play_fps"] = (len(paints) - 1) / (paints[-1] - paints[0]) if len(paints) > 1 else None
        abs_lag = [abs(x) for x in lags]
        data["playhead_lag_s"] = {"n": len(lags), "p50": pct(abs_lag, 50), "p95": pct(abs_lag, 95),
                                  "max": max(abs_lag) if abs_lag else None}
        print(f"playing: {data['play_fps']:.1f} fps, frame p95 {data['play_frame_ms']['p95']:.1f} ms; "
              f"|playhead - position| p95 {1000 * data['playhead_lag_s']['p95']:.1f} ms, max {1000 * data['playhead_lag_s']['max']:.1f} ms")
    else:
        print(f"playing skipped: {win.player_error}")

    # (d) scrolling and zooming (while playing, when it plays)
    steps: list[float] = []
    steps_cpu: list[float] = []  # ms of the UI thread's CPU per step: what a shared machine's load does not inflate
    paints.clear()
    span = min(VIEW_S, win.duration_s)

    def frame(change) -> float:  # noqa: ANN001
        """ms from a range change until the timeline has painted it (and any paint that paint asked for)."""
        before = len(paints)
        t, cpu = time.perf_counter(), time.thread_time()
        change()
        while len(paints) == before and time.perf_counter() - t < FRAME_WAIT_S:
            app.processEvents()
        app.processEvents()  # a second paint queued by the first (pyqtgraph's lazy transforms) counts in the frame
        steps_cpu.append((time.thread_time() - cpu) * 1000)
        return (time.perf_counter() - t) * 1000

    for i in range(100):
        x0 = (win.duration_s - span) * i / 99
        steps.append(frame(lambda: (win._tick(), win.timeline.set_view(x0, x0 + span))))  # the playhead moves too
    for i in range(40):
        width = span if i % 2 else win.duration_s
        steps.append(frame(lambda: win.timeline.set_view(0, width)))
    data["scroll_frame_ms"] = {"n": len(steps), "p50": pct(steps, 50), "p95": pct(steps, 95), "max": max(steps)}
    data["scroll_paints_per_step"] = len(paints) / len(steps)
    data["scroll_frame_cpu_ms"] = {"n": len(steps_cpu), "p50": pct(steps_cpu, 50), "p95": pct(steps_cpu, 95), "max": max(steps_cpu)}
    print(f"scrolling/zooming: frame p50 {data['scroll_frame_ms']['p50']:.1f} ms, p95 {data['scroll_frame_ms']['p95']:.1f} ms, "
          f"{data['scroll_paints_per_step']:.2f} paints per step; UI-thread CPU p50 {data['scroll_frame_cpu_ms']['p50']:.1f} ms, "
          f"p95 {data['scroll_frame_cpu_ms']['p95']:.1f} ms")
    win.pause()
    win.close()
    QApplication.processEvents()
    analyze_runs.append(time_analyze(call, args.transcribe))  # after the window: the order alternates
    print(f"poise analyze (after the window): {analyze_runs[1]['wall_s']:.1f} s wall, {analyze_runs[1]['cpu_s']:.1f} s CPU")
    data["analyze"] = analyze_runs
    ok = [r for r in analyze_runs if r["rc"] == 0]
    analyze_wall = float(np.mean([r["wall_s"] for r in ok])) if ok else None
    analyze_cpu = float(np.mean([r["cpu_s"] for r in ok])) if ok else None
    data["window_vs_analyze_wall"] = data["analysis_s"] / analyze_wall if analyze_wall else None
    data["window_vs_analyze_cpu"] = data["analysis_cpu_s"] / analyze_cpu if analyze_cpu else None

    fmt = lambda v, k=1.0, d=1: "—" if v is None else f"{v * k:.{d}f}"  # noqa: E731
    rows = [
        ["first lanes drawn", f"{data['first_lanes_s']:.2f} s", f"≤ {FIRST_LANES_TARGET_S:.0f} s"],
        ["analysis in the window (voice" + (" + Whisper" if args.transcribe else " only") + "), wall (CPU)",
         f"{data['analysis_s']:.1f} s ({data['analysis_cpu_s']:.1f} s)", "≤ poise analyze"],
        ["`poise analyze` on the same file, before / after the window, wall (CPU)",
         " / ".join(f"{r['wall_s']:.1f} s ({r['cpu_s']:.1f} s)" if r["rc"] == 0 else f"failed ({r['rc']})" for r in analyze_runs), ""],
        ["window / analyze (mean of the two), wall; CPU",
         f"{fmt(data['window_vs_analyze_wall'], d=2)}; {fmt(data['window_vs_analyze_cpu'], d=2)}", "≤ 1"],
    ]
    if played:
        rows += [
            ["frames while playing", f"{fmt(data['play_fps'])} fps (p95 interval {fmt(data['play_frame_ms']['p95'])} ms)", f"> {FPS_TARGET:.0f} fps"],
            ["playhead vs playback position (absolute), p50 / p95 / max",
             f"{fmt(data['playhead_lag_s']['p50'], 1000)} / {fmt(data['playhead_lag_s']['p95'], 1000)} / "
             f"{fmt(data['playhead_lag_s']['max'], 1000)} ms", f"≤ {PLAYHEAD_TARGET_S * 1000:.0f} ms"],
        ]
    else:
        rows.append(["playing", f"skipped: {data['playback_error']}", ""])
    rows.append(["scroll/zoom frame, p50 / p95", f"{fmt(data['scroll_frame_ms']['p50'])} / {fmt(data['scroll_frame_ms']['p95'])} ms",
                 f"≤ {1000 / FPS_TARGET:.0f} ms"])
    rows.append(["… the UI thread's CPU per scroll/zoom frame, p50 / p95",
                 f"{fmt(data['scroll_frame_cpu_ms']['p50'])} / {fmt(data['scroll_frame_cpu_ms']['p95'])} ms", ""])
    rows.append(["paints of the timeline per scroll/zoom step", f"{data['scroll_paints_per_step']:.2f}", "1"])
    markdown = (header(f"Review window, a {args.minutes:g}-minute stereo call") + "\n\n"
                + table(["measure", "result", "target"], rows) + f"\n\nPlayback: {output}. "
                + f"1-minute load average after the window's analysis {data['analysis_load_1min']}, after each `poise analyze` "
                + ", ".join(str(r["load_1min"]) for r in analyze_runs) + " (2 cores, shared).\n")
    print("\n" + markdown)
    if not args.no_write:
        write_results("review", data, markdown)


if __name__ == "__main__":
    main()
