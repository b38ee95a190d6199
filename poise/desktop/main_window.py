"""The main window for a live call: devices, Start/Stop, the live view, the cue overlay."""

from __future__ import annotations

import importlib
import logging
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poise import paths
from poise.app.calls import LiveCall, preparation_pool
from poise.app.spec import CallKind, CallOutcome, CallSpec, CallState
from poise.audio.types import Cue, Status
from poise.desktop.bridge import SessionBridge
from poise.desktop.live_view import LiveView
from poise.report.format import call_numbers
from poise.desktop.overlay import CueOverlay
from poise.desktop.settings import Settings
from poise.desktop.icons import app_icon
from poise.desktop.device_combo import fill_device_combo
from poise.desktop.window_actions import STATUS_MESSAGE_MS, WindowActions
from poise.desktop.window_menus import install_batch_menu, install_history_menu
from poise.desktop.workers import on_ui_thread

log = logging.getLogger(__name__)

APP_TITLE = "Poise"
DEMO_FILE = "demo_call.ogg"
STATUS_POLL_MS = 1000  # ms: device overflows and transcription lag are polled once a second
STOP_JOIN_S = 8.0  # s to wait for the pipeline to wind down when the window closes mid-call
COMBO_MAX_PX = 300  # px: wide enough for "Monitor of Built-in Audio Analog Stereo"
COMBO_MIN_CHARS = 13  # device combos show at least this many characters (full names in the popup)
WARM_AFTER_SHOW_MS = 1000  # ms after the window is shown (and its plots built) before the call's modules load
# What a call imports and the window does not (scipy ~0.6 s, faster-whisper with PyAV and CTranslate2 ~0.1 s):
# loaded ahead on the preparation thread, so the first Start does not wait for them as well as for the model.
CALL_MODULES = ("scipy.fft", "scipy.signal", "poise.audio.session", "poise.audio.sources", "poise.audio.transcribe",
                "poise.language.classifier")


class MainWindow(QMainWindow, WindowActions):
    """Poise's window during a call: a view of one `LiveCall` at a time.

    Start turns the settings into a `CallSpec` and hands it to a `LiveCall`, which
    prepares, runs and saves the call off the UI thread. Its state changes come back
    through `workers.on_ui_thread`, its events through the `SessionBridge`.
    """

    open_recording_requested = Signal(str)
    call_started = Signal(str)  # "live" or "demo"
    call_finished = Signal(object)  # AnalysisResult, or None when the call failed

    def __init__(self, parent: QWidget | None = None, *, check_recovery: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.settings = Settings()
        self.coach_config = self.settings.load_coach_config()
        self.devices: list[Any] = []
        self.device_error: str | None = None
        self._call: LiveCall | None = None
        self._what = "no call"
        self.last_result: Any = None
        self.last_error: str | None = None
        self.last_outcome: CallOutcome | None = None
        self._last_spec: CallSpec | None = None
        self._ended_calls: list[LiveCall] = []  # their transcribers are joined on close: see wait_for_workers
        self.review_windows: list[QWidget] = []
        self.trainer_window: QWidget | None = None

        self.bridge = SessionBridge(self)
        self.live_view = LiveView()
        self.overlay = CueOverlay(display_s=self.coach_config.display_s, keep_clear=self._frame_on_screen)
        self.live_view.notes_panel.seek_requested.connect(self._review_from)  # a phrase clicked after the call
        self.bridge.meters.connect(self.live_view.on_meters)
        self.bridge.segment.connect(self.live_view.on_segment)
        self.bridge.cue.connect(self._on_cue)
        self.bridge.status.connect(self._on_status)
        self.live_view.set_target_band(self.coach_config.target_wpm_low, self.coach_config.target_wpm_high)

        self._build_actions()  # WindowActions
        # the History menu (Ctrl+H) and Call → Open batch summary…: their windows load when first opened
        install_history_menu(self, opener=self.open_recording)
        install_batch_menu(self, opener=self.open_recording)
        self._build_ui()
        self.refresh_devices()
        self._update_title()
        self._update_controls()

        self._poll = QTimer(self)
        self._poll.setInterval(STATUS_POLL_MS)
        self._poll.timeout.connect(self._poll_status)

        geometry = self.settings.window_geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1180, 800)
        if check_recovery:
            QTimer.singleShot(0, self.check_interrupted_recordings)

    # Building ---------------------------------------------------------------------

    def _build_ui(self) -> None:
        top = QFrame()
        top.setObjectName("topBar")
        row = QHBoxLayout(top)
        row.setContentsMargins(16, 10, 16, 10)
        row.setSpacing(10)

        self.agent_combo = QComboBox()
        self.agent_combo.setObjectName("agentDevice")
        self.caller_combo = QComboBox()
        self.caller_combo.setObjectName("callerDevice")
        for combo in (self.agent_combo, self.caller_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(COMBO_MIN_CHARS)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.setMaximumWidth(COMBO_MAX_PX)
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.agent_combo.currentIndexChanged.connect(self._device_chosen)
        self.caller_combo.currentIndexChanged.connect(self._device_chosen)
        mic_label = QLabel("Your mic")
        mic_label.setObjectName("fieldLabel")
        caller_label = QLabel("Caller")
        caller_label.setObjectName("fieldLabel")
        row.addWidget(mic_label)
        row.addWidget(self.agent_combo, 3)
        row.addSpacing(6)
        row.addWidget(caller_label)
        row.addWidget(self.caller_combo, 3)
        from poise.desktop.profiles import agent_corner

        self.profile_picker = agent_corner(self)  # whose profile the next call starts from (profiles.py)
        row.addStretch(1)  # takes what the combos leave when they reach COMBO_MAX_PX

        def tool(action: QAction, name: str) -> QToolButton:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setObjectName(name)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            return button

        self.open_button = tool(self.open_action, "openButton")
        self.settings_button = tool(self.settings_action, "settingsButton")
        self.mute_button = tool(self.mute_action, "muteButton")
        self.demo_button = tool(self.demo_action, "demoButton")
        # Open recording and the demo live in the Call menu (and the no-microphone notice),
        # so the bar stays narrow enough for a 1024 px wide screen.
        row.addWidget(self.open_button)
        row.addWidget(self.settings_button)
        row.addWidget(self.mute_button)
        self.demo_button.hide()

        self.start_button = QPushButton("Start call")
        self.start_button.setObjectName("startButton")
        self.start_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.start_button.setMinimumSize(QSize(132, 42))
        self.start_button.setToolTip("Start or stop the call (Space, Ctrl+Return)")
        self.start_button.clicked.connect(self.toggle_call)
        row.addSpacing(8)
        row.addWidget(self.start_button)

        # A calm, dismissable notice (no devices, errors) instead of modal boxes mid-call.
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(16, 8, 10, 8)
        self.banner_text = QLabel()
        self.banner_text.setObjectName("bannerText")
        self.banner_text.setWordWrap(True)
        self.banner_text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.banner_action = QPushButton()
        self.banner_action.setObjectName("bannerAction")
        self.banner_action.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._banner_callback: Callable[[], None] | None = None
        self.banner_action.clicked.connect(self._banner_clicked)
        banner_close = QToolButton()
        banner_close.setObjectName("bannerClose")
        banner_close.setText("✕")
        banner_close.setToolTip("Dismiss")
        banner_close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        banner_close.clicked.connect(self.hide_banner)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.banner_action)
        banner_row.addWidget(banner_close)
        self.banner.hide()

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.live_view, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        self.device_status = QLabel()
        self.device_status.setObjectName("deviceStatus")
        self.overflow_status = QLabel()
        self.overflow_status.setObjectName("overflowStatus")
        self.lag_status = QLabel()
        self.lag_status.setObjectName("lagStatus")
        for label in (self.device_status, self.overflow_status, self.lag_status):
            bar.addPermanentWidget(label)
        self.overflow_status.hide()
        self.lag_status.hide()

    # Devices ----------------------------------------------------------------------

    def refresh_devices(self) -> None:
        """List the input devices again and fill the two combos (selection persisted)."""
        try:
            from poise.audio.capture import list_input_devices

            self.devices = list(list_input_devices())
            self.device_error = None
        except Exception as exc:  # no PortAudio, or PortAudio without any host API
            log.warning("listing input devices failed: %s", exc)
            self.devices = []
            self.device_error = str(exc) if str(exc) else None
        fill_device_combo(self.agent_combo, self.devices, self.settings.agent_device, allow_none=False)
        fill_device_combo(self.caller_combo, self.devices, self.settings.caller_device, allow_none=True)
        if not self.devices:
            self.agent_combo.clear()
            self.agent_combo.addItem("No microphone found", "")
            self.agent_combo.setEnabled(False)
            self.caller_combo.setEnabled(False)
            self.show_banner(
                "No microphone found. Connect a headset to coach a live call, or listen to the demo call "
                "to see how Poise works.",
                "Play the demo call",
                lambda: self.start_demo(),
            )
        else:
            self.agent_combo.setEnabled(True)
            self.caller_combo.setEnabled(True)
        self._update_device_status()

    def has_input_devices(self) -> bool:
        return bool(self.devices)

    def _device_chosen(self) -> None:
        if not self.devices:
            return
        self.settings.agent_device = self.agent_combo.currentData() or ""
        self.settings.caller_device = self.caller_combo.currentData() or ""
        self._update_device_status()

    def _update_device_status(self, follow_choice: bool = True) -> None:
        """The devices line; with `follow_choice`, the caller's panels follow the chosen caller device (not when a
        call has just ended: its view stays as the call had it, a demo's caller included)."""
        if self._call is not None and self._state in ("running", "stopping"):
            self.device_status.setText(_devices_text(self._call.spec))
            return
        if follow_choice:
            self.live_view.set_has_caller(bool(self.caller_combo.currentData()))  # "None (agent only)": no caller to show
        if not self.devices:
            self.device_status.setText("No input devices")
        else:
            agent = self.agent_combo.currentData() or "default mic"
            caller = self.caller_combo.currentData() or "no caller audio"
            self.device_status.setText(f"Mic: {agent}  ·  Caller: {caller}")

    # Banner -----------------------------------------------------------------------

    def show_banner(self, text: str, action: str | None = None, callback: Callable[[], None] | None = None) -> None:
        """Show a notice above the live view, with an optional action button."""
        self.banner_text.setText(text)
        self._banner_callback = callback
        self.banner_action.setVisible(bool(action and callback))
        if action:
            self.banner_action.setText(action)
        self.banner.show()

    def hide_banner(self) -> None:
        self.banner.hide()
        self._banner_callback = None

    def _banner_clicked(self) -> None:
        callback = self._banner_callback
        self.hide_banner()
        if callback is not None:
            callback()

    # Calls ------------------------------------------------------------------------

    @property
    def _state(self) -> str:
        call = self._call
        return "idle" if call is None or call.state.ended else call.state.value

    @property
    def state(self) -> str:
        """"idle", "preparing", "running" or "stopping" (the current call's `CallState`)."""
        return self._state

    def is_running(self) -> bool:
        return self._state in ("preparing", "running", "stopping")

    def toggle_call(self) -> None:
        """Start a live call (or offer the demo when there is no microphone), or stop the current one."""
        if self._state == "running":
            self.stop_call()
        elif self._state == "idle":
            if self.devices:
                self.start_live()
            else:
                self.show_banner(
                    "No microphone found, so there is no live call to coach. The demo call shows how Poise works.",
                    "Play the demo call",
                    lambda: self.start_demo(),
                )

    def start_live(self) -> None:
        """Start coaching a live call on the chosen devices."""
        if self.is_running():
            return
        self._start(CallSpec.from_settings(
            CallKind.LIVE, self.settings.load(),
            agent_device=self.agent_combo.currentData() or None,
            caller_device=self.caller_combo.currentData() or None,
        ))

    def start_demo(self, path: str | Path | None = None, speed: float = 1.0) -> None:
        """Play a recorded call (the bundled demo by default) through the live pipeline in real time."""
        if self.is_running():
            return
        demo = Path(path) if path else paths.assets_dir() / DEMO_FILE
        self._start(CallSpec.from_settings(CallKind.DEMO, self.settings.load(), file=demo, speed=speed))

    def _start(self, spec: CallSpec) -> None:
        self.hide_banner()
        self.coach_config = spec.config
        self.overlay.set_display_s(spec.config.display_s)
        self.overlay.set_click_through(self.settings.overlay_click_through)
        self.overlay.set_muted(False)  # muting lasts for one call
        self.live_view.set_target_band(spec.config.target_wpm_low, spec.config.target_wpm_high)
        self.live_view.clear()  # before the call runs: its first events arrive right after RUNNING
        call = LiveCall(spec, on_event=self.bridge.emit_event)
        call.on_state = lambda state: on_ui_thread(lambda: self._on_call_state(call, state), owner=self)
        self._call = call
        self._update_controls()
        self.statusBar().showMessage("Loading speech model…")
        call.begin()

    def _on_call_state(self, call: LiveCall, state: CallState) -> None:
        """A state change of `call`, on the UI thread."""
        if call is not self._call:  # a call the window has let go of (closed meanwhile)
            return
        if state is CallState.RUNNING:
            self._on_running(call)
        elif state.ended:
            self._on_ended(call)
        else:
            self._update_controls()

    def _on_running(self, call: LiveCall) -> None:
        self.live_view.set_has_caller(call.has_caller)
        self._what = call.spec.describe()
        self._update_title()
        self._update_controls()
        self._update_device_status()
        self.statusBar().showMessage(
            "Listening. Poise learns your normal voice during the first minute." if call.spec.kind is CallKind.LIVE
            else "Playing the demo call.",
            STATUS_MESSAGE_MS,
        )
        self._poll.start()
        self.call_started.emit(call.spec.kind.value)

    def stop_call(self) -> None:
        """Stop the call: the pipeline finishes on its worker and reports back."""
        if self._state != "running" or self._call is None:
            return
        self.statusBar().showMessage("Finishing the call…")
        self._call.stop()  # returns at once; STOPPING arrives as a state change
        self._update_controls()

    def _on_ended(self, call: LiveCall) -> None:
        outcome = call.outcome or CallOutcome()
        self._poll.stop()
        self._call = None
        self._ended_calls.append(call)
        self.overlay.dismiss()
        self.last_outcome = outcome
        self._last_spec = call.spec
        self.last_result = outcome.result
        self.last_error = outcome.error
        self.live_view.show_call_result(outcome.result, outcome.call_id)  # the call's pace, its notes to edit
        if outcome.error:
            self.show_banner(outcome.error)
            self.statusBar().clearMessage()
        else:
            self.statusBar().showMessage(call_summary(call.spec.describe(), outcome), 0)
            audio = review_audio(call.spec, outcome)
            if audio is not None:  # the end-of-call area: hear where it went wrong
                self.show_banner(call_summary(call.spec.describe(), outcome), "Review this call",
                                 lambda: self.open_recording(audio))
        if self._what == call.spec.describe():  # it ran (a call that never started leaves the title alone)
            self._what = f"{call.spec.describe()} (ended)"
        self._update_title()
        self._update_controls()
        self._update_device_status(follow_choice=False)
        self.overflow_status.hide()
        self.lag_status.hide()
        self.call_finished.emit(outcome.result)

    def _review_from(self, t: float) -> None:
        """A phrase of the ended call was clicked: open the call in review, playing from there."""
        audio = review_audio(self._last_spec, self.last_outcome) if self.last_outcome and self._last_spec else None
        if audio is None:
            self.statusBar().showMessage("This call's audio was not kept, so it cannot be played.", STATUS_MESSAGE_MS)
            return
        self.open_recording(audio)
        window = self.review_windows[-1] if self.review_windows else None
        if window is not None:
            window.audio_ready.connect(lambda: window.seek(t))

    # Events from the pipeline ---------------------------------------------------------

    def _frame_on_screen(self) -> QRect | None:
        """Where this window is on screen (None when hidden or minimised): a cue shows clear of it by default."""
        return self.frameGeometry() if self.isVisible() and not self.isMinimized() else None

    def _on_cue(self, cue: Cue) -> None:
        self.live_view.on_cue(cue)
        self.overlay.show_cue(cue)

    def _on_status(self, status: Status) -> None:
        if status.level == "error":
            self.show_banner(status.message)
        else:
            self.statusBar().showMessage(status.message, STATUS_MESSAGE_MS)

    def _poll_status(self) -> None:
        call = self._call
        if call is None:
            return
        overflows = getattr(call.source, "overflows", None)
        if isinstance(overflows, dict):  # per role
            overflows = sum(overflows.values())
        if isinstance(overflows, int) and overflows > 0:
            self.overflow_status.setText(f"Audio dropouts: {overflows}")
            self.overflow_status.show()
        if call.transcriber is not None:
            try:
                lag = float(call.transcriber.lag_s)
            except Exception:
                lag = None
            if lag is not None:
                self.lag_status.setText(f"Transcript {lag:.1f} s behind" if lag >= 0.5 else "Transcript up to date")
                self.lag_status.show()

    # Window -----------------------------------------------------------------------

    def _update_title(self) -> None:
        self.setWindowTitle(f"{APP_TITLE} — {self._what}")

    def _update_controls(self) -> None:
        running = self._state == "running"
        busy = self._state in ("preparing", "stopping")
        if self._state == "preparing":
            text = "Starting…"
        elif self._state == "stopping":
            text = "Stopping…"
        elif running:
            text = "Stop call"
        else:
            text = "Start call"
        self.start_button.setText(text)
        self.start_button.setProperty("running", running)
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)
        self.start_button.setEnabled(not busy)
        self.start_action.setText("Stop call" if running else "Start call")
        self.start_action.setEnabled(not busy)
        self.demo_action.setEnabled(self._state == "idle")
        self.calibrate_action.setEnabled(self._state == "idle")  # it opens the microphone too
        self.trainer_action.setEnabled(self._state == "idle")  # so does the trainer
        self.agent_combo.setEnabled(self._state == "idle" and bool(self.devices))
        self.caller_combo.setEnabled(self._state == "idle" and bool(self.devices))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.window_geometry = self.saveGeometry()
        self.live_view.notes_panel.flush()  # an edit of the last call's notes still waiting for its pause
        call, self._call = self._call, None  # the window lets go: its late state changes are ignored
        self._poll.stop()
        if call is not None:
            call.close(STOP_JOIN_S)  # what ran is still saved, on the pipeline's thread
            self._ended_calls.append(call)
        self.overlay.close()
        super().closeEvent(event)
        self.hide()
        self.wait_for_workers(STOP_JOIN_S)

    def wait_for_workers(self, timeout_s: float) -> None:
        """Wait for transcription workers of ended calls to leave their last decode.

        A worker can still be inside one long Whisper decode after its call ended (seconds
        on a busy CPU); the process must not exit under it, or CTranslate2 aborts.
        """
        for call in self._ended_calls:
            call.join_workers(timeout_s)


def warm_call_modules(modules: tuple[str, ...] = CALL_MODULES) -> Future:
    """Import what a call needs on the preparation thread (the one a Start prepares on, so a Start
    queued meanwhile waits for these imports instead of repeating them); returns at once."""

    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - the call itself reports a missing module in words
                log.info("loading %s ahead of the first call failed: %s", name, exc)

    return preparation_pool().submit(work)


def _devices_text(spec: CallSpec) -> str:
    """What the status bar says about a running call's audio."""
    if spec.kind is CallKind.DEMO:
        return f"Playing {spec.file.name if spec.file else 'the demo'}"
    return f"Mic: {spec.agent_device or 'default'}  ·  Caller: {spec.caller_device or 'none'}"


def review_audio(spec: CallSpec, outcome: CallOutcome) -> Path | None:
    """The audio a finished call can be reviewed from: its recording, or the demo's file."""
    if outcome.result is None:
        return None
    for path in (outcome.recording, spec.file if spec.kind is CallKind.DEMO else None):
        if path and Path(path).is_file():
            return Path(path)
    return None


def call_summary(title: str, outcome: CallOutcome) -> str:
    """The status line after a call: its length, the agent's pace, the cues, where the audio is."""
    saved = outcome.recording
    kept = f" The audio is in {saved}." if saved and Path(saved).is_file() else ""
    result = outcome.result
    if result is None:
        return f"The {title} ended.{kept}"
    shown = call_numbers(result)  # the strings of the review's cards, the report and history (format.call_numbers)
    parts = [f"The {title} ended"]
    if result.source.duration_s:
        parts.append(f"{shown.length} long")
    if shown.wpm:
        parts.append(f"your pace {shown.pace}")
    cues = shown.cues
    parts.append(f"{cues} cue{'s' if cues != 1 else ''}"
                 + (f" ({shown.cues_per_10min} per 10 min)" if cues and shown.cue_rate is not None else ""))
    return ", ".join(parts) + "." + kept


__all__ = ["MainWindow", "app_icon", "call_summary", "review_audio", "warm_call_modules"]
