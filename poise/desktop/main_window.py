"""The main window for a live call: devices, Start/Stop, the live view, the cue overlay."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QIcon,
    QKeySequence,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poise import paths
from poise.audio.types import Cue, Status
from poise.desktop.bridge import SessionBridge
from poise.desktop.live_view import LiveView, format_mmss
from poise.desktop.overlay import CueOverlay
from poise.desktop.settings import Settings
from poise.desktop.settings_dialog import SettingsDialog, fill_device_combo

log = logging.getLogger(__name__)

APP_TITLE = "Poise"
DEMO_FILE = "demo_call.ogg"
STATUS_POLL_MS = 1000  # ms: device overflows and transcription lag are polled once a second
STOP_JOIN_S = 8.0  # s to wait for the pipeline to wind down when the window closes mid-call
TRANSCRIBE_MAX_LAG_S = 4.0  # s: transcription skips ahead rather than fall further behind than this
STATUS_MESSAGE_MS = 8000  # ms an info message stays in the status bar
COMBO_MAX_PX = 300  # px: wide enough for "Monitor of Built-in Audio Analog Stereo"
COMBO_MIN_CHARS = 13  # device combos show at least this many characters (full names in the popup)


def app_icon() -> QIcon:
    """The app's icon: poise/assets/poise.svg or .png when shipped, else a drawn one."""
    for name in ("poise.svg", "poise.png"):
        path = paths.assets_dir() / name
        if path.is_file():
            icon = QIcon(str(path))
            if not icon.isNull():
                return icon
    icon = QIcon()
    for size in (16, 32, 64, 128, 256):
        icon.addPixmap(_drawn_icon(size))
    return icon


def _drawn_icon(size: int) -> QPixmap:
    """A calm teal tile with three soft sound bars, levelling out (poise)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    tile = QPainterPath()
    tile.addRoundedRect(QRectF(0, 0, size, size).adjusted(1, 1, -1, -1), size * 0.22, size * 0.22)
    grad = QLinearGradient(0, 0, 0, size)
    grad.setColorAt(0, QColor("#3c9a84"))
    grad.setColorAt(1, QColor("#24685a"))
    p.fillPath(tile, grad)
    pen = QPen(QColor("#f4f1ea"), max(1.5, size * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    heights = (0.46, 0.30, 0.18)
    for i, h in enumerate(heights):
        x = size * (0.32 + 0.18 * i)
        p.drawLine(int(x), int(size * (0.5 - h / 2)), int(x), int(size * (0.5 + h / 2)))
    p.end()
    return pm


@dataclass
class PreparedCall:
    """Everything a call needs, built off the UI thread and handed to it to start."""

    kind: str  # "live" or "demo"
    title: str  # what the window title says is open
    source: Any
    session: Any
    runner: Any
    has_caller: bool
    transcriber: Any = None
    recorder: Any = None
    devices: str = ""  # what the status bar says about the audio source
    extra: dict[str, Any] = field(default_factory=dict)


class _WorkerSignals(QObject):
    """Signals a plain Python worker thread emits; Qt queues them to the UI thread."""

    prepared = Signal(object)  # PreparedCall
    failed = Signal(str)  # one plain sentence
    done = Signal(object)  # a callable to run on the UI thread


class MainWindow(QMainWindow):
    """Poise's window during a call.

    Start builds the pipeline (model, source, session, transcriber, recorder) on a
    worker thread and runs it through a `SessionRunner`; the `SessionBridge` brings
    its events to the live view and the cue overlay.
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
        self._call: PreparedCall | None = None
        self._state = "idle"  # idle, starting, running, stopping
        self._what = "no call"
        self.last_result: Any = None
        self.last_error: str | None = None
        self._ended_transcribers: list[Any] = []  # joined on close: see closeEvent
        self.review_windows: list[QWidget] = []
        self.trainer_window: QWidget | None = None
        self._signals = _WorkerSignals(self)
        self._signals.prepared.connect(self._on_prepared)
        self._signals.failed.connect(self._on_prepare_failed)
        self._signals.done.connect(lambda fn: fn())

        self.bridge = SessionBridge(self)
        self.live_view = LiveView()
        self.overlay = CueOverlay(display_s=self.coach_config.display_s)
        self.bridge.meters.connect(self.live_view.on_meters)
        self.bridge.segment.connect(self.live_view.on_segment)
        self.bridge.cue.connect(self._on_cue)
        self.bridge.status.connect(self._on_status)
        self.bridge.finished.connect(self._on_finished)
        self.live_view.set_target_band(self.coach_config.target_wpm_low, self.coach_config.target_wpm_high)

        self._build_actions()
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

    def _build_actions(self) -> None:
        self.start_action = QAction("Start call", self)
        self.start_action.setShortcuts([QKeySequence(Qt.Key.Key_Space), QKeySequence("Ctrl+Return")])
        self.start_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.start_action.triggered.connect(self.toggle_call)

        self.demo_action = QAction("Play the demo call", self)
        self.demo_action.setShortcut(QKeySequence("Ctrl+D"))
        self.demo_action.triggered.connect(lambda: self.start_demo())

        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)

        self.mute_action = QAction("Mute cues", self)
        self.mute_action.setCheckable(True)
        self.mute_action.setShortcut(QKeySequence("Ctrl+M"))
        self.mute_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.mute_action.setToolTip("Hide cues for the rest of this call (Ctrl+M)")
        self.mute_action.toggled.connect(self.overlay.set_muted)
        self.overlay.muted_changed.connect(self.mute_action.setChecked)

        self.open_action = QAction("Open recording…", self)
        self.open_action.setIconText("Open…")  # the short label of the top bar's button
        self.open_action.setToolTip("Open a recorded call for review (Ctrl+O)")
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._choose_recording)

        self.calibrate_action = QAction("Calibrate your voice…", self)
        self.calibrate_action.setShortcut(QKeySequence("Ctrl+K"))
        self.calibrate_action.setToolTip("Read a paragraph so Poise learns your normal voice (Ctrl+K)")
        self.calibrate_action.triggered.connect(self.open_calibration)

        self.trainer_action = QAction("Trainer…", self)
        self.trainer_action.setShortcut(QKeySequence("Ctrl+T"))
        self.trainer_action.setToolTip("Pacing practice, replay at other paces, trends (Ctrl+T)")
        self.trainer_action.triggered.connect(self.open_trainer)

        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)

        for action in (
            self.start_action,
            self.demo_action,
            self.settings_action,
            self.mute_action,
            self.open_action,
            self.calibrate_action,
            self.trainer_action,
            self.quit_action,
        ):
            self.addAction(action)

        menu = self.menuBar().addMenu("&Call")
        menu.addAction(self.start_action)
        menu.addAction(self.demo_action)
        menu.addAction(self.mute_action)
        menu.addSeparator()
        menu.addAction(self.open_action)
        menu.addAction(self.trainer_action)
        menu.addAction(self.calibrate_action)
        menu.addAction(self.settings_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)

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

    def _update_device_status(self) -> None:
        if self._call is not None and self._state in ("running", "stopping"):
            self.device_status.setText(self._call.devices)
        elif not self.devices:
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
    def state(self) -> str:
        """"idle", "starting", "running" or "stopping"."""
        return self._state

    def is_running(self) -> bool:
        return self._state in ("starting", "running", "stopping")

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
        agent = self.agent_combo.currentData() or None
        caller = self.caller_combo.currentData() or None
        keep_audio = self.settings.keep_audio

        def make_source() -> tuple[Any, bool, str, str]:
            from poise.audio.capture import LiveSource

            source = LiveSource(agent, caller)  # opens the devices when the runner starts reading
            devices = f"Mic: {agent or 'default'}  ·  Caller: {caller or 'none'}"
            return source, caller is not None, devices, "live call"

        self._start("live", make_source, keep_audio=keep_audio)

    def start_demo(self, path: str | Path | None = None, speed: float = 1.0) -> None:
        """Play a recorded call (the bundled demo by default) through the live pipeline in real time."""
        if self.is_running():
            return
        demo = Path(path) if path else paths.assets_dir() / DEMO_FILE

        def make_source() -> tuple[Any, bool, str, str]:
            from poise.audio.sources import FileSource, load_call

            if not demo.is_file():
                raise FileNotFoundError(demo)
            loaded = load_call(demo)
            source = FileSource(loaded, realtime=True, speed=speed)
            return source, loaded.caller is not None, f"Playing {demo.name}", "demo call"

        self._start("demo", make_source, keep_audio=False)

    def _start(self, kind: str, make_source: Callable[[], tuple[Any, bool, str, str]], *, keep_audio: bool) -> None:
        self.hide_banner()
        self.coach_config = self.settings.load_coach_config()
        self.overlay.set_display_s(self.coach_config.display_s)
        self.overlay.set_click_through(self.settings.overlay_click_through)
        self.overlay.set_muted(False)  # muting lasts for one call
        self.live_view.set_target_band(self.coach_config.target_wpm_low, self.coach_config.target_wpm_high)
        self._state = "starting"
        self._update_controls()
        self.statusBar().showMessage("Loading speech model…")
        config = self.coach_config
        model_dir = self.settings.model_dir or None
        agent_name = self.settings.agent_name or "default"
        signals = self._signals

        def work() -> None:
            try:
                prepared = _prepare_call(kind, make_source, config, model_dir, keep_audio, self.bridge, agent_name)
            except Exception as exc:  # reported as one sentence; details go to the log
                log.warning("preparing the %s failed", kind, exc_info=True)
                signals.failed.emit(_plain_error(exc, kind))
                return
            signals.prepared.emit(prepared)

        _prepare_pool().submit(work)

    def _on_prepared(self, call: PreparedCall) -> None:
        if self._state != "starting":  # the window was closed meanwhile
            _discard(call)
            return
        self._call = call
        self.live_view.clear()
        self.live_view.set_has_caller(call.has_caller)
        self.bridge.attach(call.session)

        def finished() -> None:  # on the pipeline's worker thread
            if call.recorder is not None:
                try:
                    call.extra["saved"] = call.recorder.close()
                except Exception:
                    log.warning("closing the recording failed", exc_info=True)
            self.bridge.emit_finished()

        call.runner.on_finished = finished
        try:
            if call.transcriber is not None:
                call.transcriber.start()
            call.runner.start()
        except Exception as exc:
            log.warning("starting the %s failed", call.kind, exc_info=True)
            self._call = None
            _discard(call)
            self._on_prepare_failed(_plain_error(exc, call.kind))
            return
        self._state = "running"
        self._what = call.title
        self._update_title()
        self._update_controls()
        self._update_device_status()
        self.statusBar().showMessage(
            "Listening. Poise learns your normal voice during the first minute." if call.kind == "live"
            else "Playing the demo call.",
            STATUS_MESSAGE_MS,
        )
        self._poll.start()
        self.call_started.emit(call.kind)

    def _on_prepare_failed(self, message: str) -> None:
        self._state = "idle"
        self.last_error = message
        self.statusBar().clearMessage()
        self.show_banner(message)
        self._update_controls()
        self.call_finished.emit(None)

    def stop_call(self) -> None:
        """Stop the call: the pipeline finishes on its worker and reports back."""
        if self._state != "running" or self._call is None:
            return
        self._state = "stopping"
        self._update_controls()
        self.statusBar().showMessage("Finishing the call…")
        runner = self._call.runner
        threading.Thread(target=runner.stop, name="poise-stop", daemon=True).start()

    def _on_finished(self) -> None:
        call = self._call
        if call is None:
            return
        self._poll.stop()
        self._call = None
        self._state = "idle"
        self.overlay.dismiss()
        result = getattr(call.runner, "result", None)
        error = getattr(call.runner, "error", None)
        self.last_result = result
        self.last_error = error
        if call.transcriber is not None:
            self._ended_transcribers.append(call.transcriber)
        if error:
            self.show_banner(error)
            self.statusBar().clearMessage()
        else:
            self.statusBar().showMessage(_summary(call, result), 0)
        if result is not None:
            threading.Thread(
                target=_save_to_history,
                args=(call.kind, self.settings.agent_name or "default", result, call.extra.get("saved")),
                name="poise-history",
                daemon=True,
            ).start()
        self._what = f"{call.title} (ended)"
        self._update_title()
        self._update_controls()
        self._update_device_status()
        self.overflow_status.hide()
        self.lag_status.hide()
        self.call_finished.emit(result)

    # Events from the pipeline ---------------------------------------------------------

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

    # Other actions ----------------------------------------------------------------

    def open_settings(self) -> None:
        """Show the settings dialog; applies the new settings when it is accepted."""
        dialog = SettingsDialog(self, devices=self.devices)
        if dialog.exec():
            self.coach_config = self.settings.load_coach_config()
            self.overlay.set_click_through(self.settings.overlay_click_through)
            self.overlay.set_display_s(self.coach_config.display_s)
            self.live_view.set_target_band(self.coach_config.target_wpm_low, self.coach_config.target_wpm_high)
            self.refresh_devices()
            if self.is_running():
                self.statusBar().showMessage("New settings apply from the next call.", STATUS_MESSAGE_MS)

    def _choose_recording(self) -> None:
        start = str(paths.recordings_dir())
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a recorded call",
            start,
            "Recordings (*.wav *.flac *.ogg *.opus *.mp3);;All files (*)",
        )
        if path:
            self.open_recording(path)

    def open_calibration(self) -> None:
        """Measure the agent's normal voice from a read paragraph and save it to their profile."""
        from poise.desktop.calibration_dialog import CalibrationDialog

        dialog = CalibrationDialog(self.settings.agent_name or "default", parent=self)
        dialog.profile_saved.connect(lambda _p: self.statusBar().showMessage("Your voice profile was saved.", 5000))
        dialog.exec()

    def open_trainer(self) -> None:
        """The trainer's window: read at a target pace, replay at other paces, trends."""
        from poise.desktop.trainer_window import TrainerWindow

        if self.trainer_window is None:
            self.trainer_window = TrainerWindow()
            self.trainer_window.setWindowIcon(self.windowIcon())
        self.trainer_window.show()
        self.trainer_window.raise_()

    def open_recording(self, path: str | Path) -> None:
        """Open a recorded call in a review window (analysed off the UI thread)."""
        from poise.desktop.review_window import ReviewWindow

        window = ReviewWindow(path, model_path=self.settings.model_dir or None)
        window.setWindowIcon(self.windowIcon())
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.review_windows.append(window)
        window.destroyed.connect(lambda *_: self.review_windows.remove(window) if window in self.review_windows else None)
        window.show()
        self.open_recording_requested.emit(str(path))

    def check_interrupted_recordings(self, ask: Callable[[str], bool] | None = None) -> int:
        """Offer to keep (recover) or discard recordings left by a crash; returns how many were found.

        `ask(question)` answers yes (keep) or no (discard); by default a message box asks the user.
        """
        try:
            from poise.audio.recorder import find_interrupted, recover
        except ImportError:
            return 0
        try:
            parts = list(find_interrupted(paths.recordings_dir()))
        except Exception:
            log.warning("looking for interrupted recordings failed", exc_info=True)
            return 0
        for part in parts:
            question = (
                "Poise was closed during a call, and part of its recording is still on disk "
                f"({Path(str(part)).name}). Keep it?"
            )
            keep = ask(question) if ask is not None else self._ask_keep(question)
            signals = self._signals

            def work(part: Any = part, keep: bool = keep) -> None:
                try:
                    if keep:
                        saved = recover(part)
                        message = f"Recovered the interrupted recording: {Path(str(saved)).name}."
                    else:
                        _discard_part(part)
                        message = "Discarded the interrupted recording."
                except Exception as exc:
                    log.warning("recovering %s failed", part, exc_info=True)
                    message = _plain_error(exc, "recording")
                signals.done.emit(lambda: self.statusBar().showMessage(message, STATUS_MESSAGE_MS))

            threading.Thread(target=work, name="poise-recover", daemon=True).start()
        return len(parts)

    def _ask_keep(self, question: str) -> bool:
        box = QMessageBox(self)
        box.setWindowTitle("Interrupted recording")
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(question)
        keep = box.addButton("Keep it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is keep

    # Window -----------------------------------------------------------------------

    def _update_title(self) -> None:
        self.setWindowTitle(f"{APP_TITLE} — {self._what}")

    def _update_controls(self) -> None:
        running = self._state == "running"
        busy = self._state in ("starting", "stopping")
        if self._state == "starting":
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
        self.settings.sync()
        call = self._call
        self._state = "idle"
        self._call = None
        self._poll.stop()
        if call is not None:
            _discard(call, join_s=STOP_JOIN_S)
        self.overlay.close()
        super().closeEvent(event)
        self.hide()
        self.wait_for_workers(STOP_JOIN_S)

    def wait_for_workers(self, timeout_s: float) -> None:
        """Wait for transcription workers of ended calls to leave their last decode.

        A worker can still be inside one long Whisper decode after its call ended (seconds
        on a busy CPU); the process must not exit under it, or CTranslate2 aborts.
        """
        for transcriber in self._ended_transcribers:
            try:
                transcriber.stop(timeout=timeout_s)
            except Exception:
                log.warning("stopping the transcriber failed", exc_info=True)


# Pipeline construction (worker thread) -------------------------------------------------

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

LIVE_WHISPER_THREADS = 1  # one core for Whisper, one for capture, prosody and the UI (4 threads starved the UI)


def _prepare_pool() -> ThreadPoolExecutor:
    """One long-lived worker that loads the model and builds calls.

    A Whisper model built on a thread that then ends decodes several times slower
    (CTranslate2 keeps per-thread state): measured 0-1 instead of 5-6 segments of a
    10.5 s clip replayed at 2x. Keeping the loading thread alive avoids that.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="poise-prepare")
        return _pool


def _prepare_call(
    kind: str,
    make_source: Callable[[], tuple[Any, bool, str, str]],
    config: Any,
    model_dir: str | None,
    keep_audio: bool,
    bridge: SessionBridge,
    agent_name: str = "default",
) -> PreparedCall:
    """Load the model and build source, session, transcriber, recorder and runner (slow: not on the UI thread)."""
    from poise.audio.session import Session, SessionRunner
    from poise.audio.transcribe import StreamingTranscriber, load_model

    model = load_model(model_dir, cpu_threads=LIVE_WHISPER_THREADS)
    source, has_caller, devices, title = make_source()
    sessions: list[Session] = []  # the transcriber is built first; its segments go to the session built next
    transcriber = StreamingTranscriber(
        model, lambda segment: sessions[0].add_segment(segment), max_lag_s=TRANSCRIBE_MAX_LAG_S
    )
    recorder = None
    if keep_audio:
        from poise.audio.recorder import CallRecorder

        recorder = CallRecorder(paths.recordings_dir(), channels=2 if has_caller else 1)
    prior = _saved_profile(agent_name) if kind == "live" else None
    session = Session(has_caller=has_caller, config=config, baseline=prior, transcriber=transcriber, recorder=recorder)
    sessions.append(session)
    if hasattr(source, "on_status"):  # a live source reports devices lost and back
        source.on_status = session.report_status
    runner = SessionRunner(source, session)
    return PreparedCall(
        kind=kind,
        title=title,
        source=source,
        session=session,
        runner=runner,
        has_caller=has_caller,
        transcriber=transcriber,
        recorder=recorder,
        devices=devices,
    )


def _saved_profile(agent_name: str) -> Any:
    """The agent's voice profile from earlier calls (None if there is none or history is unusable)."""
    from poise.audio.store import HistoryStore, StoreError

    try:
        with HistoryStore() as store:
            return store.load_profile(agent_name)
    except StoreError:
        log.warning("could not read the voice profile", exc_info=True)
        return None


def _save_to_history(kind: str, agent_name: str, result: Any, recording: Path | None) -> None:
    """Refine the agent's profile and add the call to history (on a worker thread)."""
    from poise.audio.store import HistoryStore, StoreError

    try:
        with HistoryStore() as store:
            if kind == "live":
                store.update_profile(agent_name, result.baseline)
            store.save_call(result, kind, agent=agent_name, recording=recording)
    except StoreError:
        log.warning("could not save the call to history", exc_info=True)


def _discard(call: PreparedCall, join_s: float = 0.0) -> None:
    """Stop a call's pipeline without reporting anything.

    A runner that ran finishes its session (and its `finished` hook closes the recording);
    one that never started leaves an empty recording behind, which is deleted here.
    """
    started = call.runner.is_running() or call.runner.result is not None or call.runner.error is not None
    try:
        call.runner.stop()
        if started and join_s:
            call.runner.join(join_s)
    except Exception:
        log.warning("stopping the pipeline failed", exc_info=True)
    if call.transcriber is not None:
        try:
            call.transcriber.stop(timeout=1.0)
        except Exception:
            log.warning("stopping the transcriber failed", exc_info=True)
    if not started and call.recorder is not None:
        try:
            Path(call.recorder.close()).unlink(missing_ok=True)
        except Exception:
            log.warning("removing an unused recording failed", exc_info=True)


def _discard_part(part: Any) -> None:
    """Delete what an interrupted recording left on disk."""
    path = Path(str(getattr(part, "path", part)))
    if path.is_dir():
        for child in path.iterdir():
            child.unlink(missing_ok=True)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


def _plain_error(exc: BaseException, what: str) -> str:
    """One plain sentence for the user: the engine's own message when it has one."""
    from poise.audio.types import AudioInputError

    try:
        from poise.audio.transcribe import ModelError
    except ImportError:  # pragma: no cover - transcribe is part of the engine
        ModelError = AudioInputError  # noqa: N806
    if isinstance(exc, (AudioInputError, ModelError)) and str(exc):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        name = Path(str(exc.args[0])).name if exc.args else "file"
        if what == "demo":
            return f"The demo call ({name}) is missing from this installation: reinstall Poise."
        return f"{name} could not be found: check the file and try again."
    if what == "live" and isinstance(exc, OSError):
        return "Poise could not open your audio devices: check they are connected and pick them again."
    from poise.audio.errors import describe

    return describe(exc)  # logs the details, says what to do


def _summary(call: PreparedCall, result: Any) -> str:
    saved = call.extra.get("saved")
    kept = f" The audio is in {saved}." if saved and Path(saved).is_file() else ""
    if result is None:
        return f"The {call.title} ended.{kept}"
    cues = len(getattr(result, "cues", []) or [])
    duration = getattr(getattr(result, "source", None), "duration_s", None)
    agent = getattr(result, "agent", None)
    wpm = getattr(agent, "wpm", None)
    parts = [f"The {call.title} ended"]
    if duration:
        parts.append(f"{format_mmss(duration)} long")
    if wpm:
        parts.append(f"your pace {wpm:.0f} wpm")
    parts.append(f"{cues} cue{'s' if cues != 1 else ''}")
    return ", ".join(parts) + "." + kept


__all__ = ["MainWindow", "PreparedCall", "app_icon"]
