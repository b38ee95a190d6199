"""How much Poise costs while a call runs: CPU and memory of the headless coach, UI stalls, cold start.

Run from the repo root:  .venv/bin/python -m benchmarks.load [--shared-sinks]

- (a, b) `poise coach --headless` with live transcription (tiny.en, one Whisper thread, as the
  CLI runs it) capturing the demo call played into two PulseAudio null sinks (the harness of
  benchmarks.latency). The process's utime + stime (all threads, from /proc/PID/stat) is
  sampled every 0.5 s: average % of one core while the demo plays (~91 s) and over the whole
  process; resident memory (VmRSS) peak and at the end, and the kernel's VmHWM; CPU seconds
  per thread name (which work the CPU goes to).
- (c) The desktop window (`MainWindow`, QT_QPA_PLATFORM=offscreen) playing the demo call
  through the real pipeline (`start_demo`: FileSource(realtime=True), Session, Whisper,
  bridge, live view, overlay) for 60 s after the call started; a 10 ms `Qt.PreciseTimer`
  records the real interval between its ticks: p50/p99/max, and which pipeline events the
  UI thread handled inside the longest intervals.
- (d) Cold start, in a fresh process each (3 times): the real `poise.desktop.app.main`, from
  the parent's wall time just before spawning the interpreter to a `QTimer.singleShot(0)`
  queued by `show()`; then the Start button with the two null-sink monitors chosen (a live
  call, the model loaded on the first Start) to the first `Meters` the UI receives; then
  the demo call (model already loaded) to its first `Meters`.

Writes benchmarks/results/load.json and load.md. These are measurements, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.accuracy import machine, table, write_results
from benchmarks.latency import (
    REPO,
    Harness,
    cores_busy,
    cpu_jiffies,
    load_average,
    pctl,
    read_situations,
    run_with_retries,
    setup_harness,
    split_demo,
)

TARGET_CPU_PCT = 60.0  # % of one core for the headless coach with transcription
TARGET_STALL_P99_MS = 50.0  # ms between 10 ms timer ticks, 99th percentile
TARGET_SHOWN_S = 3.0  # s from process start to the main window shown
TARGET_FIRST_METERS_S = 5.0  # s from Start to the first live numbers
TICK_MS = 10  # ms: the UI probe timer's interval
STALL_RUN_S = 60.0  # s of demo call measured after it started
CONTROL_S = 20.0  # s of the idle window: the machine's own timer noise at the time
STALL_REPORT_MS = 30.0  # ms: ticks this late are listed with the events handled inside them
COLD_RUNS = 3  # fresh processes for the cold start
CHILD_TIMEOUT_S = 180.0  # s: a child that takes longer is stuck


# ---------------------------------------------------------------------------- (a, b) headless coach


def measure_coach(harness: Harness, workdir: Path, transcribe: bool = True) -> dict:
    """CPU and memory of one headless coach listening to the demo call."""
    files = split_demo(workdir)
    rec, res = run_with_retries(harness, files, workdir / ("t" if transcribe else "nt"), 0, read_situations(),
                                transcribe=transcribe)
    samples = [s for s in rec.samples if s["cpu_s"] is not None]
    during = [s for s in samples if rec.play_wall["agent"] <= s["wall"] <= rec.play_end_wall]
    whole_cpu_s = samples[-1]["cpu_s"]
    whole_wall_s = samples[-1]["wall"] - rec.coach_start_wall
    rss = [s["rss_mb"] for s in samples if s["rss_mb"] is not None]
    play_s = during[-1]["wall"] - during[0]["wall"]
    play_cpu_s = during[-1]["cpu_s"] - during[0]["cpu_s"]
    ready = next((s for s in samples if s["wall"] >= rec.ready_wall), samples[-1])
    return {
        "transcribe": transcribe,
        "play_s": round(play_s, 1),
        "cpu_s_during_play": round(play_cpu_s, 2),
        "cpu_pct_during_play": round(100 * play_cpu_s / play_s, 1),
        "cpu_s_whole": round(whole_cpu_s, 2),
        "wall_s_whole": round(whole_wall_s, 1),
        "cpu_pct_whole": round(100 * whole_cpu_s / whole_wall_s, 1),
        "startup_s": round(rec.ready_wall - rec.coach_start_wall, 2),
        "cpu_s_at_ready": ready["cpu_s"],
        "rss_at_ready_mb": None if ready["rss_mb"] is None else round(ready["rss_mb"], 1),
        "rss_peak_sampled_mb": round(max(rss), 1),
        "rss_end_mb": round(rss[-1], 1),
        "vm_hwm_mb": None if rec.hwm_mb is None else round(rec.hwm_mb, 1),
        # Python 3.11 does not name threads for the kernel: "python" is every thread but the main
        # one (session, transcription, CTranslate2's, PortAudio's).
        "threads_cpu_s": {k: round(v, 2) for k, v in rec.threads_cpu_s.items()},
        "segments": res.segments,
        "words": res.words,
        "cues": [c.kind for c in res.cues],
        "load_before_after": list(res.load),
        "machine_busy_cores": res.machine_busy_cores,
        "samples": [{"t": round(s["wall"] - rec.coach_start_wall, 2), "cpu_s": s["cpu_s"], "rss_mb": s["rss_mb"]}
                    for s in samples],
    }


# ---------------------------------------------------------------------------- (c) UI stalls (child)


def stall_child(seconds: float, control: bool = False) -> dict:
    """In an offscreen Qt process: the main window plays the demo; ticks of a 10 ms timer are timed.

    To tell the UI thread's own work from waiting, the window's handlers of pipeline events, the
    live view's redraw timer and the paint events of the plots and the pace gauge go through a
    timing wrapper that calls the very same code. With `control` no call is started: the same
    window idles, which shows the machine's own noise at that moment.
    """
    import pyqtgraph as pg
    from PySide6.QtCore import QObject, Qt, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    from poise.desktop import live_view as live_view_mod
    from poise.desktop.app import create_app
    from poise.desktop.main_window import MainWindow

    ticks: list[float] = []  # perf_counter of every tick while measuring
    starting_ticks: list[float] = []  # ... while the call is being prepared (model load)
    work: list[tuple[float, float, str]] = []  # UI-thread work spans while measuring: (start, end, kind)
    state: dict[str, Any] = {"phase": "idle", "t_start": None, "t_started": None, "cpu0": None, "cpu1": None,
                             "wall1": None, "threads0": {}, "threads1": {}}

    def timed(kind: str, fn: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                if state["phase"] == "measuring":
                    work.append((t0, time.perf_counter(), kind))
        return wrapper

    # Paint events are Python overrides in these classes; wrapped before any instance exists.
    pg.GraphicsView.paintEvent = timed("paint plots", pg.GraphicsView.paintEvent)
    live_view_mod.PaceGauge.paintEvent = timed("paint gauge", live_view_mod.PaceGauge.paintEvent)

    app = create_app(["poise"])
    window = MainWindow(check_recovery=False)
    window.show()

    def tick() -> None:
        now = time.perf_counter()
        if state["phase"] == "measuring":
            ticks.append(now)
        elif state["phase"] == "starting":
            starting_ticks.append(now)

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()

    class Relay(QObject):
        """Lives on the UI thread, so the bridge's signals reach it queued, as they reach the window."""

        def __init__(self) -> None:
            super().__init__()
            self.meters = Slot(object)(timed("meters", window.live_view.on_meters))
            self.segment = Slot(object)(timed("segment", window.live_view.on_segment))
            self.cue = Slot(object)(timed("cue", window._on_cue))
            self.redraw = Slot()(timed("redraw", window.live_view._redraw))

        @Slot(object)
        def on_meters(self, m: object) -> None:
            self.meters(m)

        @Slot(object)
        def on_segment(self, seg: object) -> None:
            self.segment(seg)

        @Slot(object)
        def on_cue(self, cue: object) -> None:
            self.cue(cue)

        @Slot()
        def on_redraw(self) -> None:
            self.redraw()

    relay = Relay()
    window.bridge.meters.disconnect(window.live_view.on_meters)
    window.bridge.meters.connect(relay.on_meters)
    window.bridge.segment.disconnect(window.live_view.on_segment)
    window.bridge.segment.connect(relay.on_segment)
    window.bridge.cue.disconnect(window._on_cue)
    window.bridge.cue.connect(relay.on_cue)
    window.live_view._redraw_timer.timeout.disconnect(window.live_view._redraw)
    window.live_view._redraw_timer.timeout.connect(relay.on_redraw)

    def finish() -> None:
        state["phase"] = "stopping"
        state["cpu1"], state["wall1"] = time.process_time(), time.perf_counter()
        state["threads1"] = _python_thread_cpu()
        state["machine_busy_cores"] = cores_busy(state["jiffies0"], cpu_jiffies())
        if control:
            app.quit()
        else:
            window.stop_call()

    def started(_kind: str = "") -> None:
        state["threads0"] = _python_thread_cpu()
        state["jiffies0"] = cpu_jiffies()
        state["phase"] = "measuring"
        state["t_started"] = time.perf_counter()
        state["cpu0"] = time.process_time()
        QTimer.singleShot(int(seconds * 1000), finish)

    def start() -> None:
        state["phase"] = "starting"
        state["t_start"] = time.perf_counter()
        if control:
            started()
        else:
            window.start_demo()

    window.call_started.connect(started)
    window.call_finished.connect(lambda _result: app.quit())
    QTimer.singleShot(200, start)
    QTimer.singleShot(int((seconds + 120) * 1000), app.quit)  # a stuck call must not hang the benchmark
    app.exec()
    window.close()

    def summary(ts: list[float]) -> dict:
        if len(ts) < 2:
            return {"n": 0}
        iv = [1000 * (b - a) for a, b in pairwise(ts)]
        return {
            "n": len(iv),
            "p50_ms": round(pctl(iv, 50), 2),
            "p90_ms": round(pctl(iv, 90), 2),
            "p99_ms": round(pctl(iv, 99), 2),
            "p999_ms": round(pctl(iv, 99.9), 2),
            "max_ms": round(max(iv), 2),
            "over_30_ms": sum(x > 30 for x in iv),
            "over_50_ms": sum(x > 50 for x in iv),
            "over_100_ms": sum(x > 100 for x in iv),
        }

    late = []
    explained = 0
    for a, b in pairwise(ticks):
        if 1000 * (b - a) <= STALL_REPORT_MS:
            continue
        inside: dict[str, float] = {}
        for s0, s1, kind in work:
            overlap = min(s1, b) - max(s0, a)
            if overlap > 0:
                inside[kind] = inside.get(kind, 0.0) + 1000 * overlap
        ui_ms = sum(inside.values())
        if ui_ms >= 0.5 * (1000 * (b - a) - TICK_MS):
            explained += 1
        late.append({"at_s": round(a - state["t_started"], 2), "ms": round(1000 * (b - a), 1),
                     "ui_work_ms": {k: round(v, 1) for k, v in sorted(inside.items(), key=lambda kv: -kv[1])}})
    measured_s = (state["wall1"] or time.perf_counter()) - (state["t_started"] or 0)
    kinds = sorted({k for _, _, k in work})
    handler = {}
    for kind in kinds:
        d = [1000 * (s1 - s0) for s0, s1, k in work if k == kind]
        handler[kind] = {"n": len(d), "p50": round(pctl(d, 50), 2), "p99": round(pctl(d, 99), 2),
                         "max": round(max(d), 2), "share_of_time": round(sum(d) / 1000 / measured_s, 3)}
    threads = {k: round(100 * (v - state["threads0"].get(k, 0.0)) / measured_s, 1)
               for k, v in state["threads1"].items()}
    return {
        "control": control,
        "ran": state["t_started"] is not None,
        "error": window.last_error,
        "seconds": round(measured_s, 1),
        "prepare_s": None if state["t_started"] is None or control else round(state["t_started"] - state["t_start"], 2),
        "intervals": summary(ticks),
        "intervals_while_preparing": summary(starting_ticks),
        "late_ticks": sorted(late, key=lambda w: -w["ms"])[:15],
        "late_ticks_total": len(late),
        "late_ticks_mostly_ui_work": explained,
        "ui_work_ms": handler,
        "ui_work_share_of_time": round(sum(s1 - s0 for s0, s1, _ in work) / measured_s, 3),
        "cpu_pct": None if state["cpu1"] is None else round(100 * (state["cpu1"] - state["cpu0"]) / measured_s, 1),
        "thread_cpu_pct": dict(sorted(threads.items(), key=lambda kv: -kv[1])),
        "machine_busy_cores": state.get("machine_busy_cores"),
        "qt_platform": QApplication.platformName(),
    }


def _python_thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, by Python thread name (native threads by their kernel name)."""
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").glob("*"):
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            tid = int(task.name)
            name = names.get(tid) or f"native:{(task / 'comm').read_text().strip()}"
        except (OSError, ValueError):
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


# ---------------------------------------------------------------------------- (d) cold start (child)

# The real poise.desktop.app.main(), with show() patched to note when the window is up; then Start
# on the two null-sink monitors, then the demo. Kept free of benchmark imports: the interpreter
# must pay only for what Poise itself imports.
COLD_CHILD = r"""
import json, sys, time
spawn, agent_pcm, caller_pcm = float(sys.argv[1]), sys.argv[2], sys.argv[3]
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import poise.desktop.app as app_mod

out = {"imported_s": time.time() - spawn}
phase = {"name": "idle", "t": 0.0, "meters": False}

def emit_result():
    print("COLD " + json.dumps(out), flush=True)

def shown(window):
    out["shown_s"] = time.time() - spawn
    window.bridge.meters.connect(lambda m: on_meters(window))
    window.call_started.connect(lambda kind: out.__setitem__(phase["name"] + "_started_s", time.time() - phase["t"]))
    window.call_finished.connect(lambda result: on_finished(window))
    for combo, name in ((window.agent_combo, agent_pcm), (window.caller_combo, caller_pcm)):
        i = combo.findData(name)
        if i < 0:
            out["error"] = f"device {name} not listed"
            emit_result(); QApplication.instance().quit(); return
        combo.setCurrentIndex(i)
    phase.update(name="live", t=time.time(), meters=False)
    window.start_button.click()

def on_meters(window):
    if phase["meters"] or phase["name"] not in ("live", "demo"):
        return
    phase["meters"] = True
    out[phase["name"] + "_first_meters_s"] = time.time() - phase["t"]
    window.stop_call()

def on_finished(window):
    if window.last_error:
        out[phase["name"] + "_error"] = window.last_error
    if phase["name"] == "live":
        phase.update(name="demo", t=time.time(), meters=False)
        window.start_demo()
    else:
        phase["name"] = "done"
        emit_result()
        QApplication.instance().quit()

orig_show = app_mod.MainWindow.show
def show(self):
    orig_show(self)
    QTimer.singleShot(0, lambda: shown(self))
app_mod.MainWindow.show = show
QTimer.singleShot(120000, lambda: (out.__setitem__("error", "timeout"), emit_result(), QApplication.instance().quit()))
app_mod.main(["poise"])
"""


def cold_start(harness: Harness, workdir: Path, i: int) -> dict:
    env = harness.env(QT_QPA_PLATFORM="offscreen", POISE_DATA_DIR=str(workdir / f"cold{i}" / "data"),
                      XDG_CONFIG_HOME=str(workdir / f"cold{i}" / "config"))
    harness.ensure()
    spawn = time.time()
    done = subprocess.run([sys.executable, "-c", COLD_CHILD, repr(spawn), harness.pcms["agent"], harness.pcms["caller"]],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("COLD ")), None)
    if line is None:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-400:]}"}
    out = json.loads(line[5:])
    out["exit_s"] = round(time.time() - spawn, 2)
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


# ---------------------------------------------------------------------------- report


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "—"
    return "meets" if value <= target else "**misses**"


def run_stall_child(harness: Harness, workdir: Path, mode: str, seconds: float) -> dict:
    env = harness.env(QT_QPA_PLATFORM="offscreen", POISE_DATA_DIR=str(workdir / mode / "data"),
                      XDG_CONFIG_HOME=str(workdir / mode / "config"))
    load_before = load_average()
    done = subprocess.run([sys.executable, "-m", "benchmarks.load", "--child", mode, "--seconds", str(seconds)],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=seconds + CHILD_TIMEOUT_S,
                          check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("STALLS ")), None)
    if line is None:
        sys.exit(f"the UI stall probe failed (exit {done.returncode}): {done.stderr.strip()[-600:]}")
    out = json.loads(line[7:])
    out["load_before_after"] = [load_before, load_average()]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-sinks", action="store_true", help="use the shared agent/caller null sinks")
    parser.add_argument("--child", choices=("stalls", "control"), help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=STALL_RUN_S, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print("STALLS " + json.dumps(stall_child(args.seconds, control=args.child == "control")), flush=True)
        return

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="poise-load-") as tmp:
        workdir = Path(tmp)
        harness = setup_harness(workdir, shared=args.shared_sinks)
        try:
            print("(a, b) headless coach on the demo call, CPU and memory ...", flush=True)
            coach = measure_coach(harness, workdir)
            print(f"  CPU {coach['cpu_pct_during_play']} % of one core while playing; VmHWM {coach['vm_hwm_mb']} MB",
                  flush=True)
            print("  the same with --no-transcript ...", flush=True)
            coach_nt = measure_coach(harness, workdir, transcribe=False)
            print(f"  CPU {coach_nt['cpu_pct_during_play']} %; VmHWM {coach_nt['vm_hwm_mb']} MB", flush=True)

            print(f"(c) main window offscreen, demo call, {STALL_RUN_S:.0f} s of {TICK_MS} ms ticks ...", flush=True)
            stalls = run_stall_child(harness, workdir, "stalls", STALL_RUN_S)
            iv = stalls["intervals"]
            print(f"  ticks p50 {iv.get('p50_ms')} ms, p99 {iv.get('p99_ms')} ms, max {iv.get('max_ms')} ms", flush=True)
            print(f"  control: the same window idle for {CONTROL_S:.0f} s ...", flush=True)
            control = run_stall_child(harness, workdir, "control", CONTROL_S)
            print(f"  ticks p50 {control['intervals'].get('p50_ms')} ms, p99 {control['intervals'].get('p99_ms')} ms",
                  flush=True)

            print(f"(d) cold start x{COLD_RUNS} ...", flush=True)
            colds = []
            for i in range(COLD_RUNS):
                c = cold_start(harness, workdir, i)
                colds.append(c)
                print(f"  {c}", flush=True)
        finally:
            harness.close()
    elapsed = time.monotonic() - started
    data, markdown = report(coach, coach_nt, stalls, control, colds, harness, elapsed)
    print()
    print(markdown)
    write_results("load", data, markdown)


def report(coach: dict, coach_nt: dict, stalls: dict, control: dict, colds: list[dict], harness: Harness,
           elapsed: float) -> tuple[dict, str]:
    def med(key: str) -> float | None:
        vals = [c[key] for c in colds if isinstance(c.get(key), (int, float))]
        return round(statistics.median(vals), 3) if vals else None

    cold = {k: med(k) for k in ("imported_s", "shown_s", "live_started_s", "live_first_meters_s",
                                "demo_started_s", "demo_first_meters_s", "exit_s")}
    m = machine()
    data = {"machine": m, "elapsed_s": round(elapsed, 1), "sinks": harness.sinks, "coach": coach,
            "coach_no_transcript": coach_nt, "ui_stalls": stalls, "ui_control": control,
            "cold_start_runs": colds, "cold_start_median": cold}

    md = [f"# Load ({m['date']}, {m['cores']} cores, {m['cpu']})", "",
          "## (a, b) Headless coach: CPU and memory", "",
          ("`poise coach --headless` (tiny.en int8, 1 Whisper thread, recording on) capturing the demo call "
          f"(~91 s) from two PulseAudio null-sink monitors ({', '.join(harness.pcms.values())}). CPU = utime + stime "
          "of the process (all threads) / wall time, in % of one core. *Machine busy* = all processes "
          "(the coach included) while the demo played, in cores of the 2; above ~1.5 others' work was "
          "competing with the coach for the CPU."), ""]
    rows = []
    for name, c in (("with transcription", coach), ("--no-transcript", coach_nt)):
        rows.append([name, c["cpu_pct_during_play"], c["cpu_pct_whole"], c["startup_s"], c["rss_at_ready_mb"],
                     c["rss_peak_sampled_mb"], c["rss_end_mb"], c["vm_hwm_mb"], f"{c['segments']} / {c['words']}",
                     c["machine_busy_cores"], f"{c['load_before_after'][0]} / {c['load_before_after'][1]}"])
    md.append(table(["coach", "CPU % while playing", "CPU % whole process", "start-up s", "RSS at capture start MB",
                     "RSS peak MB", "RSS end MB", "VmHWM MB", "segments / words", "machine busy, cores",
                     "load avg before / after"], rows))
    md += ["", f"Target: CPU ≤ {TARGET_CPU_PCT:.0f} % of one core with transcription: "
           f"{verdict(coach['cpu_pct_during_play'], TARGET_CPU_PCT)} ({coach['cpu_pct_during_play']} %). "
           f"Whisper's share ≈ {round(coach['cpu_pct_during_play'] - coach_nt['cpu_pct_during_play'], 1)} points "
           "(the difference of the two runs). CPU seconds by kernel thread name (whole process, with transcription; "
           "`python` = all threads but the main one): "
           + ", ".join(f"{k} {v}" for k, v in list(coach["threads_cpu_s"].items())[:6]) + ".", ""]

    iv, civ = stalls["intervals"], control["intervals"]
    md += ["## (c) UI event loop stalls", "",
           (f"`MainWindow` on Qt's `{stalls.get('qt_platform')}` platform plays the demo call through the real "
           "pipeline (`start_demo`: FileSource(realtime=True), Session, Whisper with CTranslate2's default threads, "
           f"bridge, live view, overlay); a {TICK_MS} ms PreciseTimer's tick-to-tick interval over "
           f"{stalls['seconds']} s after the call started (preparing it took {stalls['prepare_s']} s). Control: "
           f"the same window idle for {control['seconds']} s right after. Process CPU during the call "
           f"{stalls['cpu_pct']} % of one core; machine busy {stalls.get('machine_busy_cores')} cores "
           f"(control: {control.get('machine_busy_cores')})."), ""]
    cols = ("n", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "over_50_ms", "over_100_ms")
    md.append(table(["interval", "ticks", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "> 50 ms", "> 100 ms",
                     "target p99", "verdict"], [
        ["demo call playing", *(iv.get(k) for k in cols), f"≤ {TARGET_STALL_P99_MS:.0f}",
         verdict(iv.get("p99_ms"), TARGET_STALL_P99_MS)],
        ["while preparing it (model load)", *(stalls["intervals_while_preparing"].get(k) for k in cols), "", ""],
        ["control: idle window", *(civ.get(k) for k in cols), "", ""],
    ]))
    md += ["", ("UI-thread work during the call (wall time of the real handlers, wrapped with a timer; "
           "paint = the pyqtgraph plots' and the pace gauge's paintEvent):"), ""]
    md.append(table(["work", "count", "p50 ms", "p99 ms", "max ms", "share of wall time"],
                    [[k, v["n"], v["p50"], v["p99"], v["max"], v["share_of_time"]] for k, v in
                     sorted(stalls["ui_work_ms"].items(), key=lambda kv: -kv[1]["share_of_time"])]))
    md += ["", f"Of {stalls['late_ticks_total']} intervals over {STALL_REPORT_MS:.0f} ms, "
           f"{stalls['late_ticks_mostly_ui_work']} were at least half filled by that UI work. Thread CPU during the "
           "call, % of one core: " + ", ".join(f"{k} {v}" for k, v in list(stalls["thread_cpu_pct"].items())[:6])
           + " (`native:python` = CTranslate2's and PortAudio's threads). Longest intervals: "
           + "; ".join(f"{w['ms']} ms at {w['at_s']} s ({', '.join(f'{k} {v}' for k, v in w['ui_work_ms'].items()) or 'no UI work'})"
                       for w in stalls["late_ticks"][:4]) + ".", ""]

    md += ["## (d) Cold start", "",
           (f"The real `poise.desktop.app.main` in a fresh interpreter (offscreen), {COLD_RUNS} runs, medians. "
           "Shown = parent's wall time before spawning → a `QTimer.singleShot(0)` queued right after `show()`. "
           "Start = the Start button clicked with the two null-sink monitors chosen (a live call; the Whisper "
           "model loads on this first Start) → the first `Meters` on the UI thread; then the demo call (model "
           "already loaded) → its first `Meters`."), ""]
    md.append(table(["step", "median s", "runs", "target", "verdict"], [
        ["process start → imports done", cold["imported_s"], ", ".join(str(c.get("imported_s")) for c in colds), "", ""],
        ["process start → main window shown", cold["shown_s"], ", ".join(str(c.get("shown_s")) for c in colds),
         f"≤ {TARGET_SHOWN_S:.0f}", verdict(cold["shown_s"], TARGET_SHOWN_S)],
        ["Start (live) → call running", cold["live_started_s"], ", ".join(str(c.get("live_started_s")) for c in colds),
         "", ""],
        ["Start (live) → first Meters", cold["live_first_meters_s"],
         ", ".join(str(c.get("live_first_meters_s")) for c in colds), f"≤ {TARGET_FIRST_METERS_S:.0f}",
         verdict(cold["live_first_meters_s"], TARGET_FIRST_METERS_S)],
        ["demo (model loaded) → first Meters", cold["demo_first_meters_s"],
         ", ".join(str(c.get("demo_first_meters_s")) for c in colds), "", ""],
    ]))
    errors = [c.get("error") or c.get("live_error") or c.get("demo_error") for c in colds]
    if any(errors):
        md += ["", "Errors: " + "; ".join(str(e) for e in errors if e)]
    md += ["", f"Run time {elapsed:.0f} s.", ""]
    return data, "\n".join(md)


if __name__ == "__main__":
    main()
