"""How fast the history window is with a large history: open, filter, sort.

Run from the repo root:  QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.history [--calls 10000]

1. Makes a temporary data folder and saves `--calls` calls into a fresh SQLite history with
   the real `HistoryStore.save_call` (each one a real call document: summary, 2-6 cues and
   8 transcript segments; 12 agents; one call every ~40 min of working time over the months
   before today). Not timed beyond a total.
2. Opens the real `HistoryWindow` (a fresh `HistoryStore` on that file, then the list read, the
   model filled, the window shown and painted once: `grab()`), `--repeats` times; the
   median and the worst are reported against the target of 300 ms.
3. In the open window, times each filter as a user sets it — one agent, a date range of a
   month, at least 3 cues, all three together, and back to all — and two sorts (pace, cues),
   each including one repaint; target 100 ms for a filter.

Writes benchmarks/results/history.json and history.md (`--no-write` to only print).
These are measurements, not tests; the machine's load at the time shows in them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_OPEN_MS = 300.0  # ms: the history window open with 10,000 calls (issue 8)
TARGET_FILTER_MS = 100.0  # ms: one filter change with 10,000 calls
AGENTS = [f"Agent {name}" for name in ("Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lu")]
CALL_EVERY_MIN = 40  # minutes between calls (over the whole history)


def _documents(rng: random.Random, n: int):
    """`n` call results: real AnalysisResult objects, varied."""
    from poise.audio.types import AnalysisResult, Baseline, ConversationStats, Cue, RoleStats, Segment, SourceInfo, Timeline

    kinds = ("slow_down", "lower_tone", "let_caller_finish", "dead_air", "speak_up", "lower_volume")
    for i in range(n):
        duration = rng.uniform(90, 900)
        cues = [
            Cue(rng.uniform(0, duration), rng.choice(kinds), "A cue", {"value": round(rng.uniform(0, 10), 2)})
            for _ in range(rng.randint(0, 6))
        ]
        segments = [
            Segment("agent" if k % 2 == 0 else "caller", k * 10.0, k * 10.0 + 8.0, "Thanks for calling, how can I help you today?", [])
            for k in range(8)
        ]
        yield AnalysisResult(
            source=SourceInfo(path=f"/calls/call-{i:05d}.wav", duration_s=duration, sample_rate=8000, channels=2),
            agent=RoleStats(duration * 0.5, int(duration * 1.2), rng.uniform(120, 190), rng.uniform(3.5, 5.0),
                            rng.uniform(90, 230), None, None, rng.uniform(-30, -18)),
            caller=RoleStats(duration * 0.4, int(duration), 150.0, None, 200.0, None, None, -28.0),
            conversation=ConversationStats(0.55, rng.randint(0, 5), 20.0, 5.0, 2.0),
            cues=cues,
            segments=segments,
            timeline=Timeline(step_s=1.0, t=[], agent_speaking=[], caller_speaking=[], agent_rate_sps=[],
                              agent_pitch_hz=[], agent_db=[], caller_db=[]),
            baseline=Baseline(170.0, -23.0, 4.2, 60.0),
        )


def fill(db: Path, calls: int, seed: int = 7) -> float:
    """Save `calls` calls into a new history at `db`; returns the seconds it took."""
    from poise.audio.store import HistoryStore

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    start = time.perf_counter()
    with HistoryStore(db) as store:
        for i, result in enumerate(_documents(rng, calls)):
            when = now - timedelta(minutes=CALL_EVERY_MIN * (calls - i))
            store.save_call(result, "live" if i % 5 else "review", agent=AGENTS[i % len(AGENTS)], started_at=when)
    return time.perf_counter() - start


def measure(db: Path, repeats: int) -> dict:
    from PySide6.QtCore import QDate, Qt
    from PySide6.QtWidgets import QApplication

    from poise.audio.store import HistoryStore
    from poise.desktop.history_window import HistoryWindow
    from poise.desktop.style import stylesheet

    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(stylesheet())
    opens = []
    window = None
    for _ in range(repeats):
        if window is not None:
            window.close()
            window.deleteLater()
            app.processEvents()
        t = time.perf_counter()
        window = HistoryWindow(history=HistoryStore(db))
        window.show()
        window.grab()  # painted once, as on screen
        app.processEvents()
        opens.append((time.perf_counter() - t) * 1000)
    assert window is not None
    rows = len(window.model.all_rows)

    def timed(label: str, change) -> tuple[str, float, int]:
        t = time.perf_counter()
        change()
        window.grab()
        app.processEvents()
        return label, (time.perf_counter() - t) * 1000, window.model.rowCount()

    newest = max(r.started_at for r in window.model.all_rows).astimezone().date()
    month_ago = newest - timedelta(days=30)
    agent_index = window.agent_filter.findData(AGENTS[3])
    steps = [
        timed("one agent", lambda: window.agent_filter.setCurrentIndex(agent_index)),
        timed("a month (from)", lambda: (window.agent_filter.setCurrentIndex(0),
                                         window.since_edit.setDate(QDate(month_ago.year, month_ago.month, month_ago.day)))),
        timed("at least 3 cues", lambda: window.cue_filter.setValue(3)),
        timed("agent + month + cues", lambda: window.agent_filter.setCurrentIndex(agent_index)),
        timed("show all", window.clear_filter),
    ]
    sorts = [
        timed("sort by pace", lambda: window.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)),
        timed("sort by cues", lambda: window.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)),
    ]
    window.close()
    return {
        "calls": rows,
        "open_ms": {"median": statistics.median(opens), "max": max(opens), "runs": opens},
        "filters": [{"change": label, "ms": ms, "rows_shown": n} for label, ms, n in steps],
        "sorts": [{"change": label, "ms": ms, "rows_shown": n} for label, ms, n in sorts],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000, help="calls in the generated history (default 10,000)")
    parser.add_argument("--repeats", type=int, default=5, help="times the window is opened")
    parser.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/results alone")
    args = parser.parse_args(argv)
    from benchmarks.accuracy import machine, table, write_results

    with tempfile.TemporaryDirectory(prefix="poise-history-bench-") as tmp:
        os.environ["POISE_DATA_DIR"] = str(Path(tmp) / "data")  # recordings folder, orphans: the temp one
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        db = Path(tmp) / "history.sqlite"
        fill_s = fill(db, args.calls)
        size_mb = db.stat().st_size / 1e6
        result = measure(db, args.repeats)
    result.update({"fill_s": fill_s, "db_mb": size_mb, "machine": machine(),
                   "targets": {"open_ms": TARGET_OPEN_MS, "filter_ms": TARGET_FILTER_MS}})
    worst_filter = max(f["ms"] for f in result["filters"])
    rows = [["open the window (median of %d)" % args.repeats, result["open_ms"]["median"], TARGET_OPEN_MS, result["calls"]],
            ["open the window (worst)", result["open_ms"]["max"], TARGET_OPEN_MS, result["calls"]]]
    rows += [[f"filter: {f['change']}", f["ms"], TARGET_FILTER_MS, f["rows_shown"]] for f in result["filters"]]
    rows += [[s["change"], s["ms"], None, s["rows_shown"]] for s in result["sorts"]]
    text = (
        f"# History window with {result['calls']:,} calls\n\n"
        f"Generated with HistoryStore.save_call in {fill_s:.1f} s ({size_mb:.1f} MB). "
        f"Machine: {result['machine'].get('cores')} cores, {result['machine'].get('cpu')}.\n\n"
        + table(["step", "ms", "target ms", "rows shown"], rows)
        + f"\n\nOpen {'meets' if result['open_ms']['median'] <= TARGET_OPEN_MS else 'misses'} the target; "
        f"the slowest filter {'meets' if worst_filter <= TARGET_FILTER_MS else 'misses'} it ({worst_filter:.1f} ms).\n"
    )
    print(text)
    if not args.no_write:
        write_results("history", result, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
