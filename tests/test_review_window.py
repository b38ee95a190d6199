"""The review window: a recorded call read, drawn, analysed off the UI thread, played and exported.

Playback goes through a real sounddevice OutputStream on the private PulseAudio's null sink
when PulseAudio is there (tests/pulse.py); without it the player says so in one sentence and
these tests check that the rest of the review still works.
"""

from __future__ import annotations

from dataclasses import replace

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pulse
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from conftest import speech_path
from poise.desktop.review_window import CUE_LEAD_S, FRAME_MS, SEEK_STEP_S, ReviewWindow

DEMO = Path(__file__).resolve().parents[1] / "poise" / "assets" / "demo_call.ogg"
BOOKING = "call_spokenwoz_agent_left_8k_ulaw.wav"  # a real 3-minute call, agent left, 8 kHz µ-law
SHORT_MONO = "sb_ljspeech_LJ050-0131.wav"  # 7.7 s, one voice
BOOKING_S = 75.0  # s of the booking call the by-ear test reviews (the whole call's Whisper pass takes ~3x longer)
STARTUP_S = 4.0  # s: an idle null sink may hold the first samples up to 2 s
PLAYHEAD_TOLERANCE_S = 0.05  # s: playhead vs playback position (issue 8's target)


@pytest.fixture(scope="module")
def speakers() -> bool:
    """True when the private PulseAudio (default sink: a null sink) can play; False otherwise."""
    try:
        pulse.setup()
    except (pulse.PulseUnavailable, OSError, subprocess.SubprocessError):
        return False
    from poise.audio.capture import refresh_devices

    refresh_devices()  # PortAudio may have been initialised before PULSE_SERVER was set
    return True


@pytest.fixture(scope="module")
def booking_start(tmp_path_factory) -> Path:
    """The first BOOKING_S of the real booking call (agent left, caller right), as written by its recorder."""
    import soundfile as sf

    source = speech_path(BOOKING)
    info = sf.info(str(source))
    audio, rate = sf.read(str(source), frames=int(BOOKING_S * info.samplerate), dtype="float32", always_2d=True)
    path = tmp_path_factory.mktemp("booking") / "booking_start.wav"
    sf.write(str(path), audio, rate, subtype="ULAW")
    return path


def _open(qtbot, path, **kw) -> ReviewWindow:
    win = ReviewWindow(path, **kw)
    qtbot.addWidget(win)
    win.show()
    return win


def _click_item(qtbot, view, row: int) -> None:
    rect = view.visualItemRect(view.item(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_demo_call_review_shows_cues_numbers_and_transcript(qtbot, tmp_path):
    win = ReviewWindow(DEMO)
    qtbot.addWidget(win)
    assert win.windowTitle() == "Poise — review: demo_call.ogg"
    with qtbot.waitSignal(win.analysis_done, timeout=180_000):
        win.show()
    result = win.result
    assert result is not None and win.error is None
    kinds = {c.kind for c in result.cues}
    assert {"dead_air", "let_caller_finish"} <= kinds
    assert win.cue_list.count() == len(result.cues)
    assert {s.role for s in result.segments} == {"agent", "caller"}
    assert win.transcript.count() == len(win.lines) > len(result.segments)  # long segments read as short lines
    assert "wpm" in win.cards["wpm"][0].text()
    first = sorted(result.cues, key=lambda c: c.t)[0]
    _click_item(qtbot, win.cue_list, 0)  # a cue plays from a little before it
    assert win.timeline.position() == pytest.approx(max(first.t - CUE_LEAD_S, 0.0), abs=0.01)
    win.pause()
    message = win.export(tmp_path / "demo.html")
    assert message.startswith("Report saved") and (tmp_path / "demo.html").read_text().count("<svg") >= 1


@pytest.mark.slow
def test_review_by_ear_on_a_real_call(qtbot, tmp_path, speakers, booking_start):
    """The booking call with a saved profile that makes the agent ~11 dB louder than her normal:
    the audio lane first, then cues that explain themselves; play from a cue, a line, the
    timeline; keys; search; the listen choice; every export."""
    from poise.app.settings import SettingsStore
    from poise.audio.store import HistoryStore
    from poise.audio.types import Baseline

    SettingsStore().update(agent_name="Sam")
    with HistoryStore() as store:
        store.update_profile("Sam", Baseline(pitch_hz=200.0, db=-32.0, rate_sps=2.2, speech_s=600.0))
    win = ReviewWindow(booking_start)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.audio_ready, timeout=30_000):
        win.show()
    assert win.result is None  # the call lane and the player come before the analysis
    assert win.play_button.isEnabled() and win.timeline.duration_s == pytest.approx(BOOKING_S, abs=0.1)
    with qtbot.waitSignal(win.analysis_done, timeout=180_000):
        pass
    r = win.result
    cues = sorted(r.cues, key=lambda c: c.t)
    loud = [i for i, c in enumerate(cues) if c.kind == "lower_volume"]
    assert loud, [c.kind for c in cues]
    tip = win.timeline.cue_tip(loud[0])
    assert "Soften your voice" in tip and re.search(r"\d+\.\d dB louder than your normal", tip), tip
    # no chart-library controls; cue dots on one row never overlap
    for plot in win.timeline.plots.values():
        assert plot.buttonsHidden and not plot.menuEnabled()
    rows = win.timeline.cue_rows
    px_per_s = win.timeline.plots["cues"].getViewBox().width() / win.timeline.duration_s
    for row in set(rows):
        xs = sorted(c.t * px_per_s for c, rr in zip(cues, rows) if rr == row)
        assert all(b - a >= 13 - 0.5 for a, b in zip(xs, xs[1:])) or len(set(rows)) == 3
    for key in ("wpm", "pitch_range", "cues"):
        card = win.card_widgets[key]
        assert card.value.text() != "—" and card.why.text()

    # play from a cue
    _click_item(qtbot, win.cue_list, loud[0])
    start = max(cues[loud[0]].t - CUE_LEAD_S, 0.0)
    if speakers:
        assert win.player.playing, win.player_error
        assert qtbot.waitUntil(lambda: win.position_s() > start + 0.3, timeout=int(STARTUP_S * 1000)) is None
        assert start <= win.position_s() < start + STARTUP_S + 1.0
        qtbot.wait(3 * FRAME_MS)
        assert abs(win.timeline.position() - win.position_s()) < PLAYHEAD_TOLERANCE_S + FRAME_MS / 1000
        win.grab().save(str(tmp_path / "review_playing.png"))
        qtbot.keyClick(win, Qt.Key.Key_Space)  # pause
        assert not win.player.playing
    else:
        assert win.player_error and "\n" not in win.player_error
        assert win.position_s() == pytest.approx(start)
    held = win.position_s()
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.position_s() == pytest.approx(held + SEEK_STEP_S, abs=0.01)
    qtbot.keyClick(win, Qt.Key.Key_Left)
    qtbot.keyClick(win, Qt.Key.Key_Left)
    assert win.position_s() == pytest.approx(max(held - SEEK_STEP_S, 0.0), abs=0.01)
    qtbot.keyClick(win, Qt.Key.Key_End)
    assert win.position_s() == pytest.approx(win.duration_s)
    qtbot.keyClick(win, Qt.Key.Key_Home)
    assert win.position_s() == 0.0

    # a transcript line: played from its start, highlighted
    row = len(win.lines) // 2
    _click_item(qtbot, win.transcript, row)
    assert win.timeline.position() == pytest.approx(win.lines[row].start, abs=0.01)
    assert win.transcript.currentRow() == row
    win.pause()
    # a click on the timeline plays from there
    target = 40.0
    point = win.timeline.x_of("pitch", target)
    qtbot.mouseClick(win.timeline.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(point.x()), int(point.y())))
    assert win.timeline.position() == pytest.approx(target, abs=2 * win.timeline.duration_s / win.timeline.width())
    win.pause()

    # a cue's dot on the timeline plays from a little before it too
    dot = win.timeline.cue_dots.points()[0]
    at = win.timeline.mapFromScene(win.timeline.plots["cues"].getViewBox().mapViewToScene(dot.pos()))
    qtbot.mouseClick(win.timeline.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(at.x()), int(at.y())))
    assert win.timeline.position() == pytest.approx(max(cues[int(dot.data())].t - CUE_LEAD_S, 0.0), abs=0.05)
    win.pause()

    # search: matches in the list and on the timeline
    qtbot.keyClick(win, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert win.search.hasFocus()
    qtbot.keyClicks(win.search, "train")
    hits = [i for i, s in enumerate(win.lines) if "train" in s.text.lower()]
    assert hits and win.find(win.search.text()) == hits
    assert len(win.timeline.match_marks.points()) == len(hits)
    assert "train" in win.statusBar().currentMessage()

    win.listen_combo.setCurrentIndex(win.listen_combo.findData("agent"))
    assert win.player.listen.value == "agent"

    # exports
    for kind, name in (("html", "r.html"), ("cues", "cues.csv"), ("segments", "lines.csv"), ("pdf", "r.pdf"), ("json", "r.json")):
        assert " saved to " in win.export(tmp_path / name, kind), kind
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")
    rows_cues = list(csv.DictReader((tmp_path / "cues.csv").open(encoding="utf-8")))
    assert [float(x["t_s"]) for x in rows_cues] == pytest.approx([c.t for c in cues], abs=1e-3)
    assert any("louder than your normal" in x["evidence"] for x in rows_cues)
    rows_lines = list(csv.DictReader((tmp_path / "lines.csv").open(encoding="utf-8")))
    from poise.report.format import transcript_lines

    # the window's lines, not Whisper's batched segments (one held the caller from 0:04 to 1:03)
    assert len(rows_lines) == len(transcript_lines(r.segments)) > len(r.segments)
    assert {x["role"] for x in rows_lines} == {"agent", "caller"}
    assert [float(x["start_s"]) for x in rows_lines] == sorted(float(x["start_s"]) for x in rows_lines)
    pdf = (tmp_path / "r.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pdf.startswith(b"%PDF") and pages in (1, 2)  # the cues under the timeline, or after it where it fills the page
    assert json.loads((tmp_path / "r.json").read_text())["cues"]
    win.result = replace(win.result, cues=win.result.cues * 40)  # a long cue list runs onto further pages
    win.write_pdf(tmp_path / "long.pdf")
    assert len(re.findall(rb"/Type\s*/Page\b", (tmp_path / "long.pdf").read_bytes())) >= 2
    assert win.export(tmp_path / "no" / "such" / "folder.pdf", "pdf").startswith("Could not save")


def test_cancel_leaves_the_call_to_listen_to(qtbot):
    win = ReviewWindow(speech_path(BOOKING))
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.analysis_failed, timeout=60_000) as failed:
        win.cancel()  # at once: before Whisper's first chunk (a running chunk is always let finish)
        win.show()
    if win.audio is None:
        qtbot.waitSignal(win.audio_ready, timeout=30_000).wait()
    assert failed.args == ["Analysis cancelled."] and win.result is None
    assert "still listen" in win.status.text()
    assert "cancelled" in win.timeline.message("pace").lower()
    assert win.play_button.isEnabled()


def test_without_speakers_the_player_says_so_and_the_review_still_works(qtbot):
    win = _open(qtbot, speech_path(SHORT_MONO), transcribe=False, output_device="no such speaker 4711")
    with qtbot.waitSignal(win.analysis_done, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: win.player is not None, timeout=10_000)
    assert not win.play()
    assert "no such speaker 4711" in win.status.text() and "\n" not in win.status.text()
    win.seek(3.0)  # the playhead still moves, the cards are there
    assert win.timeline.position() == 3.0 and win.clock.text().startswith("00:03")
    assert win.cards["wpm"][0].text() and not win.listen_combo.isEnabled()  # mono: nothing to choose


def test_bad_recording_gives_one_sentence_not_a_traceback(qtbot, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    win = ReviewWindow(bad, transcribe=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.error is not None, timeout=30_000)
    assert "notes.wav" in win.error and "\n" not in win.error and "Traceback" not in win.error
    assert win.status.text() == win.error
    qtbot.waitUntil(lambda: win.timeline.message() == win.error, timeout=5_000)
    assert not win.play_button.isEnabled()


def test_mono_recording_without_words(qtbot, tmp_path):
    win = ReviewWindow(speech_path(SHORT_MONO), transcribe=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.analysis_done, timeout=60_000):
        pass
    assert win.result.caller is None
    assert win.transcript.item(0).text() == "No transcript."
    win.resize(700, 500)  # geometry is remembered, and the next window opens on screen (offscreen: 800×600)
    win.close()
    again = ReviewWindow(speech_path(SHORT_MONO), transcribe=False)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)
    screen = QApplication.primaryScreen().availableGeometry()
    assert screen.intersects(again.frameGeometry())


def test_main_window_opens_reviews_from_the_menu_a_drop_and_quits_them_all(qtbot):
    from poise.desktop.main_window import MainWindow, review_audio
    from poise.app.spec import CallKind, CallOutcome, CallSpec
    from poise.desktop.window_actions import about_text
    from poise import __version__

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.show()
    main.open_recording(speech_path(SHORT_MONO))
    assert len(main.review_windows) == 1
    review = main.review_windows[0]
    with qtbot.waitSignal(review.analysis_done, timeout=120_000):
        pass
    assert review.windowTitle() == "Poise — review: sb_ljspeech_LJ050-0131.wav"
    assert review.windowTitle().count("Poise") == 1

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(speech_path(SHORT_MONO)))])
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    # (offscreen, Qt delivers drops only inside a real drag: the windows' drop filter gets the event itself)
    assert main._recording_drop.eventFilter(main, drop)
    assert len(main.review_windows) == 2 and drop.isAccepted()
    assert review._drop.eventFilter(review, QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                                                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert len(main.review_windows) == 3  # a drop onto a review opens another one, kept by the main window
    main.open_trainer()
    main.history_action.trigger()
    for other in (main.trainer_window, main.history_window):  # and so do the trainer and history windows
        qtbot.addWidget(other)
        assert other._drop.eventFilter(other, QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                                                         Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert len(main.review_windows) == 5

    spec = CallSpec.from_settings(CallKind.DEMO, main.settings.load(), file=DEMO)
    assert review_audio(spec, CallOutcome(result=review.result)) == DEMO  # "Review this call" after the demo
    assert review_audio(spec, CallOutcome(error="failed")) is None
    assert __version__ in about_text()

    for w in main.review_windows:
        w.cancel()
    main.quit_action.trigger()  # Quit closes every Poise window
    assert not main.isVisible() and not any(w.isVisible() for w in main.review_windows)


# The entry points run in a child process: the real command line, and an event loop of their own
# (an app.exec() inside the test process leaves later tests' cross-thread deliveries stuck).
ENTRY_CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from poise.desktop.window_actions import quit_poise
import poise.desktop.main_window as mw, poise.desktop.review_window as rw, poise.cli as cli

def watch(window, ready):
    def poll():
        if ready(window):
            print("SEEN", window.windowTitle(), getattr(window, "state", ""), flush=True)
            if isinstance(window, rw.ReviewWindow):
                window.cancel()
            quit_poise()
        else:
            QTimer.singleShot(20, poll)
    QTimer.singleShot(0, poll)
    QTimer.singleShot(60_000, quit_poise)

for cls, ready in ((mw.MainWindow, lambda w: w.state in ("preparing", "running")),
                   (rw.ReviewWindow, lambda w: w.audio is not None)):
    def show(self, _orig=cls.show, _ready=ready):
        _orig(self)
        watch(self, _ready)
    cls.show = show
sys.exit(cli.main(sys.argv[1:]))
"""


def _entry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY_CHILD, *args], capture_output=True, text=True, timeout=120)


def test_poise_demo_starts_the_demo_call():
    """`poise --demo` starts the demo call at once (it used to open the window only)."""
    done = _entry("--demo")
    assert done.returncode == 0, done.stderr[-2000:]
    seen = re.search(r"^SEEN (.*) (preparing|running)$", done.stdout, re.M)
    assert seen, (done.stdout, done.stderr[-2000:])
    assert seen.group(1).count("Poise") == 1  # the window's title says the app's name once


def test_poise_review_opens_the_review_window():
    """`poise review FILE`: a review window alone, showing the call."""
    done = _entry("review", str(speech_path(SHORT_MONO)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "SEEN Poise — review: sb_ljspeech_LJ050-0131.wav" in done.stdout, (done.stdout, done.stderr[-2000:])


def test_poise_review_and_version_on_the_command_line(tmp_path):
    from poise import __version__

    closed = subprocess.Popen([sys.executable, "-m", "poise.cli", "analyze", "--no-transcript", str(speech_path(SHORT_MONO))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    closed.stdout.close()  # as `poise analyze … | head` when head has gone
    assert closed.wait(timeout=120) == 0
    assert b"Traceback" not in closed.stderr.read() and not closed.stderr.close()
    done = subprocess.run([sys.executable, "-m", "poise.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"poise {__version__}"
    missing = subprocess.run([sys.executable, "-m", "poise.cli", "review", str(tmp_path / "gone.wav")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "gone.wav" in missing.stderr and "Traceback" not in missing.stderr



def test_review_this_call_after_a_demo_call(qtbot):
    """The end of a call offers "Review this call", which opens it in a review window."""
    from poise.desktop.main_window import MainWindow

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.show()
    with qtbot.waitSignal(main.call_finished, timeout=120_000):
        main.start_demo(speech_path(SHORT_MONO), speed=4.0)
    assert main.last_error is None, main.last_error
    assert main.banner.isVisible() and main.banner_action.text() == "Review this call"
    main.banner_action.click()
    assert len(main.review_windows) == 1 and main.review_windows[0].path == speech_path(SHORT_MONO)
    review = main.review_windows[0]
    review.cancel()
    review.wait(60)  # no Whisper decode may outlive the test (CTranslate2 aborts the process)
    main.wait_for_workers(60)


def test_a_short_window_keeps_room_for_the_cues_and_transcript(qtbot) -> None:
    """At 1024 x 700 the cards drop their "why" lines (their tooltips keep them); a taller window shows them."""
    win = _open(qtbot, DEMO, transcribe=False)
    win.resize(1024, 700)
    qtbot.waitUntil(lambda: win.height() <= 700)
    assert all(c.why.isHidden() for c in win.card_widgets.values())
    win.resize(1280, 900)
    qtbot.waitUntil(lambda: win.height() >= 900)
    assert not any(c.why.isHidden() for c in win.card_widgets.values())
