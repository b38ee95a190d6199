"""Screenshots of the trainer: the read-along with a built-in script, its presentation view, the takes
table and trend, two takes side by side.

    python scripts/trainer_screenshots.py OUT_DIR

Without a DISPLAY it re-runs itself under `xvfb-run`. It uses a throw-away data folder and
real read speech from ../shared/speech (POISE_SPEECH_DIR): a LibriVox reader's five clips
joined, read through real practice calls at his own pace and sped up with `sox tempo -s`, so
the scores shown are measured, not made up. Saves read_along.png (mid-take), presentation.png,
takes.png and compare.png, each 1024 x 700 (the smallest screen Poise is laid out for) except
the presentation (the whole screen).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEECH = Path(os.environ.get("POISE_SPEECH_DIR", REPO.parent / "shared" / "speech"))
CLIPS = [f"ps_librivox_sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")]
SCREEN = "1280x800x24"
WINDOW = (1024, 700)
TARGET_WPM = 155  # the reader's own pace (measured: median 155 wpm)
TEMPOS = ("1.4", "1.3", "1.3", "1.2", "1.1", "1.2", "1.0", "1.1", "0.95", "1.0")  # a trainee settling down


def _reexec_under_xvfb(argv: list[str]) -> int:
    if shutil.which("xvfb-run") is None:
        print("No DISPLAY and no xvfb-run: install xvfb or run inside a desktop session.", file=sys.stderr)
        return 2
    env = dict(os.environ, POISE_UNDER_XVFB="1")
    return subprocess.call(["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", sys.executable, str(Path(__file__).resolve()), *argv], env=env)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("POISE_UNDER_XVFB"):
        return _reexec_under_xvfb(argv)
    missing = [c for c in CLIPS if not (SPEECH / c).is_file()]
    if missing or shutil.which("sox") is None:
        print(f"Needs sox and the LibriVox clips in {SPEECH}.", file=sys.stderr)
        return 2
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    scratch = Path(tempfile.mkdtemp(prefix="poise-trainer-shots-"))
    os.environ["POISE_DATA_DIR"] = str(scratch / "data")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    sys.path.insert(0, str(REPO))
    args.out_dir.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QTimer

    from poise.app.practice import (
        TakeAudio,
        builtin_scripts,
        one_after_the_other,
        practice_call,
        save_take,
        score_take,
        take_audio,
    )
    from poise.audio.sources import FileSource, load_call
    from poise.audio.store import HistoryStore
    from poise.desktop.app import create_app

    natural = scratch / "natural.wav"
    subprocess.run(["sox", *[str(SPEECH / c) for c in CLIPS], str(natural)], check=True)
    takes: dict[str, tuple] = {}
    for tempo in sorted(set(TEMPOS)):
        path = natural if tempo == "1.0" else scratch / f"tempo-{tempo}.wav"
        if tempo != "1.0":
            subprocess.run(["sox", str(natural), str(path), "tempo", "-s", tempo], check=True)
        call = load_call(path)
        audio = TakeAudio()
        practice = practice_call(lambda call=call: FileSource(call, realtime=False), audio=audio)
        practice.begin()
        takes[tempo] = (practice.wait(120).result, audio)
    scripts = builtin_scripts()
    t0 = datetime.now(timezone.utc) - timedelta(days=15)
    with HistoryStore() as store:
        store.add_agent("Sam")
        for i, tempo in enumerate(TEMPOS):
            result, audio = takes[tempo]
            when = t0 + timedelta(days=i * 1.5, hours=i % 3)
            save_take(store, "Sam", scripts[i % len(scripts)], score_take(result, TARGET_WPM), result.source.duration_s,
                      started_at=when, words_read=80, recording=audio.save(started_at=when))

    app = create_app([])
    from poise.desktop.trainer_window import TrainerWindow

    live = load_call(natural)
    win = TrainerWindow(source_factory=lambda: FileSource(live, realtime=True), agent="Sam")
    win.resize(*WINDOW)
    win.show()

    def pump() -> None:
        for _ in range(5):
            app.processEvents()

    win.tabs.setCurrentWidget(win.takes_tab)
    pump()
    win.grab().save(str(args.out_dir / "takes.png"))
    win.takes_tab.select([win.takes_tab.takes[-1].id, win.takes_tab.takes[0].id])  # the first take and the last
    win.takes_tab.compare_selected()
    tab = win.compare_tab
    first, second = tab.chosen()
    a, b = take_audio(first), take_audio(second)
    _, second_at = one_after_the_other(a, b)
    # the playhead as it stands 9 s into the second take (nothing is sent to a sound device)
    tab._playing = (first, len(a) / 16000, second, second_at, len(b) / 16000)
    tab._play_started = time.monotonic() - (second_at + 9.0)
    tab._tick()
    tab._play_timer.stop()
    pump()
    win.grab().save(str(args.out_dir / "compare.png"))
    tab.stop()

    win.tabs.setCurrentWidget(win.read_tab)
    read = win.read_tab
    read.choose_script("boundary")
    read.target.setValue(TARGET_WPM)
    read.present()
    read.start()

    def mid_take() -> None:
        read.presentation.grab().save(str(args.out_dir / "presentation.png"))
        win.grab().save(str(args.out_dir / "read_along.png"))
        read.presentation.close()
        win.close()
        app.quit()

    QTimer.singleShot(12_000, mid_take)
    app.exec()
    for name in ("read_along", "presentation", "takes", "compare"):
        print(args.out_dir / f"{name}.png")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
