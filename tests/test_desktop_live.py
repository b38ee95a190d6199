"""The live-call desktop app: overlay, live view, settings, main window, a demo call end to end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pytestqt")
# pytest-qt makes its session-wide QApplication before conftest's per-test fixture sets this.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QKeySequence, QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from conftest import speech_path  # noqa: E402
from poise.audio.types import SAMPLE_RATE, Cue, Meters, Segment, Status, Word  # noqa: E402


def _meters(t: float, *, agent: bool = True, caller: bool = False, pitch: float | None = 180.0,
            db: float | None = -24.0, sps: float | None = 3.5, ready: bool = True) -> Meters:
    return Meters(
        t=t,
        agent_speaking=agent,
        caller_speaking=caller,
        agent_db=db,
        agent_pitch_hz=pitch,
        agent_rate_sps=sps,
        agent_wpm_est=None if sps is None else sps * 60 / 1.25,
        caller_db=-30.0 if caller else None,
        baseline_ready=ready,
        baseline_pitch_hz=175.0 if ready else None,
        baseline_db=-26.0 if ready else None,
        baseline_rate_sps=3.0 if ready else None,
    )


# Overlay ---------------------------------------------------------------------------------


def test_overlay_shows_a_cue_then_fades_away(qtbot):
    from poise.desktop.overlay import CueOverlay

    overlay = CueOverlay(display_s=0.2)
    qtbot.addWidget(overlay)
    assert not overlay.isVisible()
    assert overlay.show_cue(Cue(t=12.0, kind="slow_down", message="Slow down"))
    assert overlay.isVisible()
    assert overlay.message() == "Slow down"
    assert overlay.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert overlay.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    qtbot.waitUntil(lambda: overlay.opacity() > 0.5, timeout=3000)  # faded in
    qtbot.waitUntil(lambda: not overlay.isVisible(), timeout=5000)  # held ~0.2 s, then faded out
    assert overlay.message() == ""


def test_a_new_cue_replaces_the_one_on_screen(qtbot):
    from poise.desktop.overlay import CueOverlay

    overlay = CueOverlay(display_s=5.0)
    qtbot.addWidget(overlay)
    overlay.show_cue(Cue(t=1.0, kind="slow_down", message="Slow down"))
    overlay.show_cue(Cue(t=2.0, kind="lower_tone", message="Lower your tone"))
    assert overlay.message() == "Lower your tone"
    assert overlay.current_cue().kind == "lower_tone"
    assert overlay.isVisible()
    overlay.dismiss()
    assert not overlay.isVisible()


def test_muting_suppresses_cues(qtbot):
    from poise.desktop.overlay import CueOverlay

    overlay = CueOverlay(display_s=5.0)
    qtbot.addWidget(overlay)
    overlay.show_cue(Cue(t=1.0, kind="slow_down", message="Slow down"))
    with qtbot.waitSignal(overlay.muted_changed):
        overlay._mute_button.click()  # the button on the overlay
    assert overlay.is_muted()
    assert not overlay.isVisible()  # muting hides the cue at once
    assert overlay.show_cue(Cue(t=30.0, kind="speak_up", message="Speak up")) is False
    assert not overlay.isVisible()
    overlay.set_muted(False)
    assert overlay.show_cue(Cue(t=31.0, kind="speak_up", message="Speak up"))


def _send_mouse(widget, kind: QEvent.Type, global_pos: QPoint, buttons) -> None:
    local = QPointF(widget.mapFromGlobal(global_pos))
    event = QMouseEvent(kind, local, QPointF(global_pos), Qt.MouseButton.LeftButton, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_overlay_is_draggable_and_remembers_its_position(qtbot):
    from poise.desktop.overlay import CueOverlay

    overlay = CueOverlay(display_s=5.0)
    qtbot.addWidget(overlay)
    overlay.show_cue("Slow down")
    overlay.move(200, 150)
    start = overlay.pos() + QPoint(20, 20)
    _send_mouse(overlay, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    _send_mouse(overlay, QEvent.Type.MouseMove, start + QPoint(60, 40), Qt.MouseButton.LeftButton)
    _send_mouse(overlay, QEvent.Type.MouseButtonRelease, start + QPoint(60, 40), Qt.MouseButton.NoButton)
    assert overlay.pos() == QPoint(260, 190)
    overlay.close()

    again = CueOverlay()
    qtbot.addWidget(again)
    assert again.pos() == QPoint(260, 190)


def test_a_cue_shows_clear_of_the_main_window_until_the_user_places_it(qtbot):
    """At the screen's top right the cue covered the main window's Settings, Mute cues and Stop call."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QGuiApplication

    from poise.desktop.overlay import CueOverlay

    area = QGuiApplication.primaryScreen().availableGeometry()
    window = QRect(area.left(), area.top(), area.width(), area.height() // 3)  # a wide main window across the top
    overlay = CueOverlay(display_s=5.0, keep_clear=lambda: window)
    qtbot.addWidget(overlay)
    overlay.show_cue("Let the caller finish")
    assert not overlay.frameGeometry().intersects(window) and overlay.y() > area.center().y()
    overlay.dismiss()
    overlay.save_position()  # placed by the user: it stays there, main window or not
    placed = overlay.pos()
    window.moveTop(placed.y())
    overlay.show_cue("Slow down")
    assert overlay.pos() == placed


def test_overlay_click_through_comes_from_settings(qtbot):
    from poise.desktop.overlay import CueOverlay
    from poise.desktop.settings import Settings

    plain = CueOverlay()
    qtbot.addWidget(plain)
    assert not plain.is_click_through()

    Settings().overlay_click_through = True
    through = CueOverlay()
    qtbot.addWidget(through)
    assert through.is_click_through()
    assert through.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert through._mute_button.isHidden()  # nothing to click on a click-through overlay


# Live view -------------------------------------------------------------------------------


def test_live_view_shows_meters_transcript_and_cues(qtbot):
    from poise.desktop.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.set_target_band(125, 165)
    for i in range(50):  # 5 s of audio time; the agent pauses (no pitch) from 2.0 to 2.5 s
        t = i * 0.1
        silent = 2.0 <= t < 2.5
        view.on_meters(_meters(t, agent=not silent, caller=silent, pitch=None if silent else 170.0 + i,
                               db=None if silent else -25.0 + i * 0.1))
    view.redraw_now()

    x, y = view.pitch_data()
    assert len(x) == 50
    assert y[0] == pytest.approx(170.0)
    assert y[-1] == pytest.approx(219.0)
    assert np.isnan(y[21])  # silence is a gap, not a zero
    lx, ly = view.loudness_data()
    assert ly[-1] == pytest.approx(-25.0 + 4.9)
    assert view.pitch_baseline.isVisible() and view.pitch_baseline.value() == pytest.approx(175.0)
    assert view.loudness_baseline.value() == pytest.approx(-26.0)

    assert view.pace_gauge.value() == pytest.approx(168.0)  # 3.5 syllables/s at 1.25 per word
    assert view.pace_gauge.normal() == pytest.approx(144.0)  # the baseline's 3.0 syllables/s
    assert view.pace_gauge.band() == (125.0, 165.0)
    assert view.pace_value.text() == "168"
    assert "Your normal" in view.baseline_label.text()
    assert view.agent_indicator.is_active() and not view.caller_indicator.is_active()
    assert view.clock_label.text() == "00:04"

    view.on_segment(Segment("agent", 0.4, 2.0, "Thank you for calling, how can I help?",
                            [Word("Thank", 0.4, 0.6)]))
    view.on_segment(Segment("caller", 5.5, 7.0, "I was charged twice."))
    view.on_segment(Segment("agent", 3.0, 5.0, "Let me look into that."))  # arrives late
    lines = view.transcript_text().splitlines()
    assert [line.split()[1] for line in lines] == ["Agent", "Agent", "Caller"]  # time order
    assert "Let me look into that." in lines[1]
    assert lines[2].startswith("00:05")

    view.on_cue(Cue(t=83.4, kind="slow_down", message="Slow down", evidence={"wpm": 212.0}))
    view.on_cue(Cue(t=95.0, kind="lower_tone", message="Lower your tone"))
    assert view.cue_texts() == ["01:23   Slow down", "01:35   Lower your tone"]
    assert "212" in view.cue_list.item(0).toolTip()


def test_live_view_scrolls_to_the_newest_transcript(qtbot):
    from poise.desktop.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    for i in range(80):
        view.on_segment(Segment("agent" if i % 2 else "caller", i * 2.0, i * 2.0 + 1.5, f"sentence number {i}"))
    bar = view.transcript.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()


def test_the_trace_cards_never_shrink_below_their_plot_and_legend(qtbot):
    """Dragged small (or left 45 % once a call's notes show, on a 700 px screen), the loudness card still
    shows its whole legend: a fixed card minimum under the plot's own once let the legend be cut off."""
    from poise.desktop.live_view import PLOT_MIN_HEIGHT_PX, LiveView

    view = LiveView()
    qtbot.addWidget(view)
    assert not view.plots_built()  # before the plots exist (the first paint), their places hold the cards open
    for layout in (view._pitch_layout, view._loud_layout):
        assert layout.parentWidget().minimumSizeHint().height() > PLOT_MIN_HEIGHT_PX
    view.resize(1024, 560)
    view.show()
    qtbot.waitExposed(view)
    view.build_plots()
    view._vertical.setSizes([10, 2000])  # as small as the splitter lets the traces be
    QApplication.processEvents()
    for layout in (view._pitch_layout, view._loud_layout):
        card = layout.parentWidget()
        last = layout.itemAt(layout.count() - 1).widget()
        plot = layout.itemAt(1).widget()
        assert plot.height() >= plot.minimumHeight() > 0
        assert last.geometry().bottom() <= card.contentsRect().bottom(), "the card's last line is cut off"


def test_live_view_keeps_only_the_last_minute_on_screen(qtbot):
    from poise.desktop.live_view import WINDOW_S, LiveView

    view = LiveView()
    qtbot.addWidget(view)
    for i in range(900):  # 90 s
        view.on_meters(_meters(i * 0.1))
    view.redraw_now()
    x, _ = view.pitch_data()
    assert x.min() >= 89.9 - WINDOW_S - 1.0
    lo, hi = view.pitch_plot.getViewBox().viewRange()[0]
    assert hi == pytest.approx(89.9, abs=0.2)
    assert hi - lo == pytest.approx(WINDOW_S, abs=0.2)


# Settings --------------------------------------------------------------------------------


def test_coach_config_round_trips_through_the_settings_file(qtbot):
    from poise import paths
    from poise.app.settings import load_settings
    from poise.audio.coach import CUE_KINDS, CoachConfig
    from poise.desktop.settings import Settings, load_coach_config, save_coach_config

    assert load_coach_config() == CoachConfig()  # nothing saved yet: defaults
    changed = CoachConfig(pace_ratio=1.3, pace_ceiling_wpm=240.0, cooldown_s=35.0, dead_air_s=9.5,
                          target_wpm_low=120.0, target_wpm_high=170.0)
    changed.enabled["dead_air"] = False
    save_coach_config(changed)
    loaded = load_coach_config()
    assert loaded == changed
    assert loaded.enabled == {k: k != "dead_air" for k in CUE_KINDS}
    assert isinstance(loaded.cooldown_s, float)

    s = Settings()
    s.agent_device, s.caller_device, s.model_dir = "poise_agent_in", "poise_caller_in", "/models/small.en"
    s.keep_audio, s.overlay_click_through, s.agent_name = False, True, "  Anna "
    again = Settings()
    assert (again.agent_device, again.caller_device, again.model_dir) == (
        "poise_agent_in", "poise_caller_in", "/models/small.en")
    assert again.keep_audio is False and again.overlay_click_through is True
    assert again.agent_name == "Anna"
    shared = load_settings()  # what the command line reads: the same file, no Qt
    assert shared.model_dir == "/models/small.en" and shared.agent == "Anna" and shared.coach == changed
    assert paths.settings_path().is_file()


def test_settings_kept_in_qsettings_are_moved_to_the_settings_file_once(qtbot):
    from poise import paths
    from poise.app.settings import load_settings
    from poise.desktop.settings import Settings, _legacy_qsettings

    old = _legacy_qsettings()  # what an older Poise left behind
    old.setValue("transcription/model_dir", "/models/base.en")
    old.setValue("agent/name", "Sam")
    old.setValue("recording/keep_audio", False)
    old.setValue("coach/pace_ratio", 1.4)
    old.setValue("coach/enabled/dead_air", False)
    old.setValue("overlay/pos", QPoint(40, 60))
    old.sync()
    assert not paths.settings_path().exists()
    s = Settings()
    assert s.model_dir == "/models/base.en" and s.agent_name == "Sam" and s.keep_audio is False
    assert s.overlay_pos == QPoint(40, 60)
    coach = load_settings().coach
    assert coach.pace_ratio == pytest.approx(1.4) and coach.enabled["dead_air"] is False
    s.model_dir = "/models/small.en"
    old.setValue("transcription/model_dir", "/models/ignored")
    old.sync()
    assert Settings().model_dir == "/models/small.en"  # moved once: later QSettings values are not read


def test_settings_dialog_edits_and_saves_the_cue_rules(qtbot):
    DeviceInfo = pytest.importorskip("poise.audio.capture").DeviceInfo  # noqa: N806
    from poise.audio.coach import CoachConfig
    from poise.desktop.settings import Settings, load_coach_config
    from poise.desktop.settings_dialog import SettingsDialog

    devices = [
        DeviceInfo(index=0, name="Headset mic", hostapi="ALSA", channels=1, default_samplerate=48000.0,
                   is_monitor=False, is_default=True),
        DeviceInfo(index=1, name="Monitor of Softphone", hostapi="ALSA", channels=2,
                   default_samplerate=48000.0, is_monitor=True, is_default=False),
    ]
    dialog = SettingsDialog(devices=devices)
    qtbot.addWidget(dialog)
    defaults = CoachConfig()
    _, pace_spin = dialog.thresholds["pace_ratio"]
    assert pace_spin.value() == pytest.approx((defaults.pace_ratio - 1) * 100)  # shown as "% above normal"
    pace_spin.setValue(25)
    dialog.thresholds["cooldown_s"][1].setValue(40)
    dialog.thresholds["target_wpm_low"][1].setValue(130)
    dialog.cue_enabled["lower_tone"].setChecked(False)
    assert not dialog.thresholds["pitch_rise_st"][1].isEnabled()
    assert "caller audio" in dialog.caller_device.itemText(2)
    dialog.caller_device.setCurrentIndex(2)
    dialog.agent_device.setCurrentIndex(1)
    dialog.agent_name.setText("Anna")
    dialog.keep_audio.setChecked(False)
    dialog.accept()

    config = load_coach_config()
    assert config.pace_ratio == pytest.approx(1.25)
    assert config.cooldown_s == pytest.approx(40.0)
    assert config.target_wpm_low == pytest.approx(130.0)
    assert config.enabled["lower_tone"] is False and config.enabled["slow_down"] is True
    assert config.pitch_rise_st == pytest.approx(defaults.pitch_rise_st)
    s = Settings()
    assert (s.agent_device, s.caller_device, s.agent_name, s.keep_audio) == (
        "Headset mic", "Monitor of Softphone", "Anna", False)

    reopened = SettingsDialog(devices=devices)
    qtbot.addWidget(reopened)
    assert reopened.thresholds["pace_ratio"][1].value() == pytest.approx(25)
    assert not reopened.cue_enabled["lower_tone"].isChecked()
    reopened.restore_default_cues()
    assert reopened.coach_config() == CoachConfig()


# Main window -----------------------------------------------------------------------------


@pytest.fixture
def window(qtbot):
    from poise.desktop.main_window import MainWindow

    w = MainWindow(check_recovery=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_main_window_title_icon_and_shortcuts(window):
    assert window.windowTitle() == "Poise — no call"
    assert not window.windowIcon().isNull()
    assert QKeySequence(Qt.Key.Key_Space) in window.start_action.shortcuts()
    assert QKeySequence("Ctrl+Return") in window.start_action.shortcuts()
    assert window.settings_action.shortcut() == QKeySequence("Ctrl+,")
    assert window.mute_action.shortcut() == QKeySequence("Ctrl+M")
    assert window.open_action.shortcut() == QKeySequence("Ctrl+O")
    assert window.start_button.text() == "Start call"
    for action in (window.start_action, window.settings_action, window.mute_action, window.open_action):
        assert action in window.actions()


def test_ctrl_m_mutes_cues_for_the_call(window, qtbot):
    from PySide6.QtTest import QTest

    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.overlay.is_muted()
    assert window.mute_action.isChecked()
    window._on_cue(Cue(t=5.0, kind="slow_down", message="Slow down"))
    assert not window.overlay.isVisible()
    assert window.live_view.cue_texts() == ["00:05   Slow down"]  # still listed, just not shown


def test_ctrl_o_asks_for_a_recording_and_hands_it_on(window, qtbot, short_call):
    from PySide6.QtWidgets import QFileDialog, QLineEdit

    seen: list[QFileDialog] = []

    def pick() -> None:  # answers the dialog like a user, once it is on screen
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()]
        if not dialogs:
            QTimer.singleShot(100, pick)
            return
        seen.append(dialogs[0])
        dialogs[0].findChild(QLineEdit, "fileNameEdit").setText(str(short_call))  # typed in
        dialogs[0].accept()

    def give_up() -> None:  # never leave a modal dialog blocking the test run
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QFileDialog) and w.isVisible():
                w.reject()

    QTimer.singleShot(100, pick)
    QTimer.singleShot(8000, give_up)
    with qtbot.waitSignal(window.open_recording_requested, timeout=10000) as opened:
        window.open_action.trigger()
    assert seen and opened.args == [str(short_call)]
    for review in window.review_windows:  # its analysis must not outlive the test
        review.cancel()
        review.wait(30)


def test_window_geometry_is_remembered(qtbot):
    from poise.desktop.main_window import MainWindow
    from poise.desktop.settings import Settings

    first = MainWindow(check_recovery=False)
    qtbot.addWidget(first)
    first.show()
    first.resize(1010, 707)
    qtbot.waitUntil(lambda: first.size().width() == 1010)
    saved = first.saveGeometry()
    first.close()
    assert Settings().window_geometry == saved
    second = MainWindow(check_recovery=False)
    qtbot.addWidget(second)
    # the offscreen screen is 800 px wide, so Qt narrows the window to fit; the height comes back
    assert second.size().height() == 707  # a new window would be 800 high
    second.close()


def test_no_microphone_offers_the_demo(window):
    if window.has_input_devices():
        pytest.skip("this machine has input devices")
    assert window.banner.isVisible()
    assert window.banner_action.text() == "Play the demo call"
    assert "No microphone" in window.agent_combo.currentText()
    assert window.live_view.caller_heat.text() == "Caller: no caller channel"  # the caller is "None (agent only)"


def test_status_errors_are_one_plain_sentence(window):
    window._on_status(Status(t=3.0, level="error", message="The disk is full: free some space and try again."))
    assert window.banner.isVisible()
    assert window.banner_text.text() == "The disk is full: free some space and try again."
    window._on_status(Status(t=4.0, level="info", message="Caller audio is back."))
    assert window.statusBar().currentMessage() == "Caller audio is back."


def test_a_missing_demo_file_is_reported_plainly(window, qtbot, tmp_path):
    with qtbot.waitSignal(window.call_finished, timeout=60000):
        window.start_demo(tmp_path / "nothing_here.ogg")
    assert window.state == "idle"
    assert window.last_error and "\n" not in window.last_error
    assert "Traceback" not in window.last_error
    assert window.banner.isVisible()


@pytest.fixture
def short_call(tmp_path):
    """~10 s stereo call at 16 kHz: the agent (left) reads a sentence, then the caller (right) counts."""
    agent, rate_a = sf.read(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav"),
                            dtype="float32")
    caller, rate_c = sf.read(speech_path("sr_english.wav"), dtype="float32")
    assert rate_a == SAMPLE_RATE
    if caller.ndim > 1:
        caller = caller.mean(axis=1)
    import soxr

    caller = soxr.resample(caller, rate_c, SAMPLE_RATE).astype(np.float32)
    n = int(10.5 * SAMPLE_RATE)
    stereo = np.zeros((n, 2), np.float32)
    a0 = int(0.2 * SAMPLE_RATE)
    stereo[a0 : a0 + len(agent), 0] = agent
    c0 = a0 + len(agent) + int(0.4 * SAMPLE_RATE)
    stereo[c0 : c0 + min(len(caller), n - c0), 1] = caller[: n - c0]
    path = tmp_path / "short_call.wav"
    sf.write(path, stereo, SAMPLE_RATE)
    return path


@pytest.mark.slow
def test_demo_call_runs_end_to_end_through_the_real_pipeline(window, qtbot, short_call):
    meters: list[Meters] = []
    window.bridge.meters.connect(meters.append)
    with qtbot.waitSignal(window.call_started, timeout=120000):
        # 2x real time: on a busy 2-core machine one Whisper decode can take seconds, and words
        # that are not transcribed within 5 s of the end of the call are dropped by design
        window.start_demo(short_call, speed=2.0)
    assert window.windowTitle() == "Poise — demo call"
    assert window.start_button.text() == "Stop call"
    with qtbot.waitSignal(window.call_finished, timeout=120000) as finished:
        pass
    result = finished.args[0]
    assert window.last_error is None
    assert result is not None and result.source.duration_s == pytest.approx(10.5, abs=0.1)

    assert len(meters) >= 90  # ~10 per second of audio
    assert any(m.agent_speaking for m in meters) and any(m.caller_speaking for m in meters)
    window.live_view.redraw_now()
    _, pitch = window.live_view.pitch_data()
    voiced = pitch[np.isfinite(pitch)]
    assert voiced.size > 10 and 70 < float(np.median(voiced)) < 250  # a man reading

    text = window.live_view.transcript_text().lower()
    assert "Agent" in window.live_view.transcript_text(), (result.segments, window.statusBar().currentMessage())
    expected = {"dashwood", "leisure", "consider", "prudently", "power", "john"}
    assert any(word in text for word in expected), text
    assert window.windowTitle() == "Poise — demo call (ended)"
    assert window.state == "idle" and window.start_button.text() == "Start call"
    # the ended call's view keeps its caller (it said "no caller channel" with no caller device chosen)
    assert window.live_view.caller_heat.text() != "Caller: no caller channel"

    from poise.audio.store import HistoryStore

    def saved() -> bool:
        with HistoryStore() as store:
            return [c.kind for c in store.list_calls()] == ["demo"]

    qtbot.waitUntil(saved, timeout=10000)  # the call is in history; the demo voice is not the agent's profile
    with HistoryStore() as store:
        assert store.load_profile("default") is None


@pytest.mark.slow
def test_stopping_a_call_finishes_it(window, qtbot, short_call):
    with qtbot.waitSignal(window.call_started, timeout=120000):
        window.start_demo(short_call, speed=1.0)
    assert window.state == "running"
    with qtbot.waitSignal(window.call_finished, timeout=60000) as finished:
        window.toggle_call()  # the Start/Stop button's action
        assert window.state == "stopping"
    assert window.state == "idle"
    result = finished.args[0]
    assert result is not None and result.source is not None
    assert window.last_error is None


# App -------------------------------------------------------------------------------------


def test_uncaught_errors_are_logged_and_shown_as_one_sentence(qtbot, monkeypatch):
    from poise import paths
    from poise.desktop import app as desktop_app

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    desktop_app.install_excepthook()
    shown: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if box is not None:
            shown.append(box.text())
            box.accept()

    QTimer.singleShot(200, close_box)
    try:
        raise ValueError("boom in a slot")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    log = (paths.data_dir() / "poise.log").read_text()
    assert "ValueError: boom in a slot" in log and "Traceback" in log
    assert shown and "Traceback" not in shown[0] and shown[0].count(".") >= 1
    assert "poise.log" in shown[0]


def test_format_mmss():
    from poise.desktop.live_view import format_mmss

    assert format_mmss(0) == "00:00"
    assert format_mmss(83.4) == "01:23"
    assert format_mmss(3725) == "1:02:05"


# Crash recovery and a live call --------------------------------------------------------------


def _crashed_recording(folder, seconds: float = 2.0):
    """A recording left behind by a process killed mid-call (a real CallRecorder, then os._exit)."""
    import subprocess
    import textwrap

    from conftest import REPO

    code = textwrap.dedent(f"""
        import os, numpy as np
        from poise.audio.recorder import CallRecorder
        from poise.audio.types import Block
        rec = CallRecorder({str(folder)!r}, channels=2)
        t = np.arange(int({seconds} * 16000)) / 16000
        tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        rec.write(Block(t0=0.0, agent=tone, caller=tone * 0.5))
        rec.flush()
        os._exit(3)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 3
    parts = list(folder.glob("*.wav.part"))
    assert len(parts) == 1
    return parts[0]


@pytest.mark.parametrize("keep", [True, False])
def test_an_interrupted_recording_is_offered_back(qtbot, keep):
    from poise import paths
    from poise.desktop.main_window import MainWindow

    part = _crashed_recording(paths.recordings_dir())
    w = MainWindow(check_recovery=False)
    qtbot.addWidget(w)
    questions: list[str] = []

    def ask(question: str) -> bool:
        questions.append(question)
        return keep

    assert w.check_interrupted_recordings(ask=ask) == 1
    assert part.name in questions[0] and questions[0].endswith("Keep it?")
    qtbot.waitUntil(lambda: not part.exists(), timeout=10000)
    wav = part.with_name(part.name[: -len(".part")])
    if keep:
        qtbot.waitUntil(lambda: "Recovered" in w.statusBar().currentMessage(), timeout=10000)
        audio, rate = sf.read(wav)
        assert rate == SAMPLE_RATE and audio.shape == (2 * SAMPLE_RATE, 2)
        assert np.abs(audio[:, 0]).max() == pytest.approx(0.2, abs=0.01)
    else:
        qtbot.waitUntil(lambda: "Discarded" in w.statusBar().currentMessage(), timeout=10000)
        assert not wav.exists()
    assert w.check_interrupted_recordings(ask=ask) == 0


def _pulse_env() -> dict[str, str]:
    """Where the user's PulseAudio server is (conftest moves XDG_CONFIG_HOME, which hides it)."""
    env: dict[str, str] = {}
    real = Path.home() / ".config" / "pulse"
    runtime = sorted(real.glob("*-runtime"))
    if os.environ.get("PULSE_SERVER"):
        env["PULSE_SERVER"] = os.environ["PULSE_SERVER"]
    elif runtime and (runtime[0].resolve() / "native").exists():
        env["PULSE_SERVER"] = f"unix:{runtime[0].resolve() / 'native'}"
    elif os.environ.get("XDG_RUNTIME_DIR") and Path(os.environ["XDG_RUNTIME_DIR"], "pulse", "native").exists():
        env["PULSE_SERVER"] = f"unix:{Path(os.environ['XDG_RUNTIME_DIR'], 'pulse', 'native')}"
    if (real / "cookie").is_file() and not os.environ.get("PULSE_COOKIE"):
        env["PULSE_COOKIE"] = str(real / "cookie")
    return env


@pytest.fixture
def pulse_sink(monkeypatch):
    """A PulseAudio null sink of this test's own; PortAudio's "pulse" device records its monitor."""
    import shutil
    import subprocess

    if not (shutil.which("pactl") and shutil.which("paplay")):
        pytest.skip("PulseAudio tools are not installed")
    for key, value in _pulse_env().items():
        monkeypatch.setenv(key, value)
    if subprocess.call(["pactl", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        pytest.skip("no PulseAudio server running (scripts/pulse_null_sinks.sh starts one)")
    name = f"poise_desktop_test_{os.getpid()}"
    module = subprocess.check_output(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}"], text=True).strip()
    monkeypatch.setenv("PULSE_SOURCE", f"{name}.monitor")  # what the ALSA "pulse" PCM records from
    import sounddevice as sd

    # PortAudio lists devices once; if it started before the server was reachable, it missed
    # "pulse". sounddevice documents this pair of calls as the way to refresh the device list.
    sd._terminate()
    sd._initialize()
    try:
        yield name
    finally:
        subprocess.call(["pactl", "unload-module", module])


@pytest.mark.live
@pytest.mark.slow
def test_a_live_call_is_coached_and_recorded(qtbot, pulse_sink):
    import subprocess

    from poise import paths
    from poise.desktop.main_window import MainWindow
    from poise.desktop.settings import Settings

    clip = speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav")
    s = Settings()
    s.agent_device, s.caller_device = "pulse", ""
    w = MainWindow(check_recovery=False)
    qtbot.addWidget(w)
    w.show()
    if w.agent_combo.currentData() != "pulse":
        pytest.skip("PortAudio lists no 'pulse' input device here")
    meters: list[Meters] = []
    w.bridge.meters.connect(meters.append)
    with qtbot.waitSignal(w.call_started, timeout=120000):
        w.toggle_call()
    assert w.windowTitle() == "Poise — live call"
    qtbot.waitUntil(lambda: len(meters) >= 5, timeout=20000)  # the device delivers
    subprocess.run(["paplay", f"--device={pulse_sink}", str(clip)], check=True, timeout=60)
    qtbot.waitUntil(lambda: "Agent" in w.live_view.transcript_text(), timeout=30000)
    with qtbot.waitSignal(w.call_finished, timeout=60000) as finished:
        w.toggle_call()
    assert w.last_error is None
    assert any(m.agent_speaking for m in meters)
    assert not any(m.caller_speaking for m in meters)  # no caller device: agent only
    assert not w.live_view.caller_indicator.isEnabled()
    assert finished.args[0].caller is None
    assert w.windowTitle() == "Poise — live call (ended)"

    wavs = list(paths.recordings_dir().glob("*.wav"))
    assert len(wavs) == 1 and not list(paths.recordings_dir().glob("*.part"))
    audio, rate = sf.read(wavs[0])
    assert rate == SAMPLE_RATE and audio.ndim == 1  # agent only: mono
    assert len(audio) / rate > 7.0 and np.abs(audio).max() > 0.05
    assert wavs[0].name in w.statusBar().currentMessage()
    assert finished.args[0].source.duration_s == pytest.approx(len(audio) / rate, abs=0.5)  # its real length
    from poise.audio.store import HistoryStore

    def saved() -> bool:
        with HistoryStore() as store:
            return len(store.list_calls()) == 1

    qtbot.waitUntil(saved, timeout=10000)
    with HistoryStore() as store:
        assert store.list_calls()[0].duration_s == pytest.approx(len(audio) / rate, abs=0.5)
    w.close()
