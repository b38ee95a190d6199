"""The settings dialog: devices, speech model, cue rules, recording, overlay, agent."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from poise.desktop.device_combo import fill_device_combo  # (also here for old callers)
from poise.desktop.settings import Settings


SPIN_WIDTH_PX = 150  # wide enough for "2.5 semitones"; the rest of the row stays empty


@dataclass(frozen=True)
class Threshold:
    """One tunable number of a cue rule, as the dialog shows it."""

    field: str  # CoachConfig attribute
    label: str
    suffix: str
    minimum: float
    maximum: float
    step: float
    decimals: int = 1
    to_ui: float = 1.0  # shown value = stored * to_ui + offset
    offset: float = 0.0


# Each cue kind with its message and the thresholds that drive it.
CUE_ROWS: tuple[tuple[str, str, tuple[Threshold, ...]], ...] = (
    (
        "slow_down",
        "Slow down",
        (
            # pace_ratio is stored as a ratio (1.15) and shown as "15 % above your normal"
            Threshold("pace_ratio", "above your normal by", " %", 5, 60, 1, 0, to_ui=100.0, offset=-100.0),
            Threshold("pace_ceiling_wpm", "or faster than", " wpm", 150, 320, 5, 0),
        ),
    ),
    ("lower_tone", "Lower your tone", (Threshold("pitch_rise_st", "pitch above your normal by", " semitones", 0.5, 8, 0.5),)),
    ("lower_volume", "Soften your voice", (Threshold("volume_rise_db", "louder than your normal by", " dB", 2, 20, 0.5),)),
    ("speak_up", "Speak up", (Threshold("volume_drop_db", "quieter than your normal by", " dB", 2, 24, 0.5),)),
    (
        "let_caller_finish",
        "Let the caller finish",
        (Threshold("backchannel_max_s", "a short \"mm-hm\" lasts at most", " s", 0.2, 2.0, 0.05, 2),),
    ),
    (
        "pause_for_caller",
        "Pause — invite the caller in",
        (Threshold("monologue_s", "after talking alone for", " s", 10, 180, 5, 0),),
    ),
    ("dead_air", "Say what you're doing", (Threshold("dead_air_s", "after a silence of", " s", 2, 30, 0.5),)),
    # from the words (poise/language): the caller's heat decides when acknowledging helps
    (
        "acknowledge",
        "Acknowledge how they feel",
        (Threshold("acknowledge_after_s", "after the caller has been heated for", " s", 1, 60, 1, 0),),
    ),
    ("avoid_defensive", "Avoid defensive phrases (shows a better one)", ()),
    ("set_boundary", "Set a calm boundary when the caller is abusive", ()),
    ("next_steps", "State the next step before the call ends", ()),
)


class SettingsDialog(QDialog):
    """Edits the stored settings; `accept()` writes them back through `Settings`."""

    def __init__(self, parent: QWidget | None = None, devices: list[Any] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Poise — settings")
        self.setObjectName("settingsDialog")
        self.setMinimumWidth(560)
        self.resize(660, 560)
        self._settings = Settings()
        self._config = self._settings.load_coach_config()
        self._devices = list(devices or [])

        tabs = QTabWidget()
        tabs.addTab(self._build_audio_tab(), "Audio")
        tabs.addTab(self._build_cues_tab(), "Cues")
        tabs.addTab(self._build_general_tab(), "General")
        self.tabs = tabs

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).setText("Reset cue rules to defaults")
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_default_cues)

        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        self._load_cues(self._config)

    # Tabs -------------------------------------------------------------------------

    def _build_audio_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.agent_device = QComboBox()
        self.caller_device = QComboBox()
        fill_device_combo(self.agent_device, self._devices, self._settings.agent_device, allow_none=False)
        fill_device_combo(self.caller_device, self._devices, self._settings.caller_device, allow_none=True)
        form.addRow("Your microphone", self.agent_device)
        form.addRow("Caller's audio", self.caller_device)
        hint = QLabel("Pick the loopback or monitor of your softphone's output for the caller's side.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        form.addRow("", hint)

        self.model_dir = QLineEdit(self._settings.model_dir)
        self.model_dir.setPlaceholderText("Bundled tiny.en (fast, English)")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_model_dir)
        bundled = QPushButton("Use bundled")
        bundled.clicked.connect(self.model_dir.clear)
        row = QHBoxLayout()
        row.addWidget(self.model_dir, 1)
        row.addWidget(browse)
        row.addWidget(bundled)
        form.addRow("Speech model folder", row)
        return page

    def _build_cues_tab(self) -> QWidget:
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setColumnMinimumWidth(0, 24)
        grid.setColumnStretch(3, 1)
        self.cue_enabled: dict[str, QCheckBox] = {}
        self.thresholds: dict[str, tuple[Threshold, QDoubleSpinBox]] = {}
        row = 0
        for kind, message, thresholds in CUE_ROWS:
            box = QCheckBox(message)
            box.setObjectName(f"cue_{kind}")
            self.cue_enabled[kind] = box
            grid.addWidget(box, row, 0, 1, 4)
            row += 1
            for th in thresholds:
                if not hasattr(self._config, th.field):
                    continue
                spin = self._threshold_row(grid, row, th, hint=True)
                box.toggled.connect(spin.setEnabled)
                row += 1

        general = [
            Threshold("target_wpm_low", "Target pace from", " wpm", 60, 250, 5, 0),
            Threshold("target_wpm_high", "to", " wpm", 60, 300, 5, 0),
            Threshold("cooldown_s", "Same cue at most every", " s", 5, 300, 5, 0),
            Threshold("display_s", "Show a cue for", " s", 1, 15, 0.5),
        ]
        header = QLabel("PACING AND TIMING")
        header.setObjectName("cardTitle")
        grid.addWidget(header, row, 0, 1, 4)
        row += 1
        for th in general:
            if not hasattr(self._config, th.field):
                continue
            self._threshold_row(grid, row, th)
            row += 1
        grid.setRowStretch(row, 1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    def _threshold_row(self, grid: QGridLayout, row: int, th: Threshold, *, hint: bool = False) -> QDoubleSpinBox:
        """A threshold's label and spin box on `row` of `grid` (a cue's own thresholds are grey hints)."""
        spin = _spin_box(th)
        label = QLabel(th.label)
        if hint:
            label.setObjectName("hint")
        grid.addWidget(label, row, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(spin, row, 2)
        self.thresholds[th.field] = (th, spin)
        return spin

    def _build_general_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.agent_name = QLineEdit(self._settings.agent_name)
        self.agent_name.setPlaceholderText("e.g. Sam")
        form.addRow("Your name", self.agent_name)
        name_hint = QLabel("Poise keeps your normal voice (pitch, loudness, pace) under this name, on this computer.")
        name_hint.setObjectName("hint")
        name_hint.setWordWrap(True)
        form.addRow("", name_hint)
        self.keep_audio = QCheckBox("Keep the call audio on this computer")
        self.keep_audio.setChecked(self._settings.keep_audio)
        form.addRow("Recording", self.keep_audio)
        self.keep_numbers = QCheckBox("Keep ID numbers, e-mails and phone numbers in history and reports")
        self.keep_numbers.setToolTip("Off: ID and card numbers, e-mail addresses and phone numbers are hidden before saving.")
        self.keep_numbers.setChecked(self._settings.load().keep_numbers)
        form.addRow("Privacy", self.keep_numbers)
        self.click_through = QCheckBox("Clicks go through the cue to the window under it (turn off to drag the cue)")
        self.click_through.setChecked(self._settings.overlay_click_through)
        form.addRow("Cue overlay", self.click_through)
        return page

    # Values -----------------------------------------------------------------------

    def _load_cues(self, config: Any) -> None:
        enabled = getattr(config, "enabled", {}) or {}
        for kind, box in self.cue_enabled.items():
            box.setChecked(bool(enabled.get(kind, True)))
        for field, (th, spin) in self.thresholds.items():
            value = getattr(config, field, None)
            if value is not None:
                spin.setValue(float(value) * th.to_ui + th.offset)
        for kind, _, thresholds in CUE_ROWS:
            for th in thresholds:
                if th.field in self.thresholds:
                    self.thresholds[th.field][1].setEnabled(self.cue_enabled[kind].isChecked())

    def restore_default_cues(self) -> None:
        """Put the cue rules back to the engine's defaults (saved only on OK)."""
        self._load_cues(type(self._config)())

    def coach_config(self) -> Any:
        """The cue rules as edited in the dialog (a `CoachConfig`)."""
        changes: dict[str, Any] = {}
        enabled = dict(getattr(self._config, "enabled", {}) or {})
        for kind, box in self.cue_enabled.items():
            enabled[kind] = box.isChecked()
        changes["enabled"] = enabled
        for field, (th, spin) in self.thresholds.items():
            current = getattr(self._config, field)
            value = (spin.value() - th.offset) / th.to_ui
            changes[field] = type(current)(round(value, 4)) if isinstance(current, (int, float)) else value
        low, high = changes.get("target_wpm_low"), changes.get("target_wpm_high")
        if low is not None and high is not None and low > high:
            changes["target_wpm_low"], changes["target_wpm_high"] = high, low
        return dataclasses.replace(self._config, **changes)

    def _choose_model_dir(self) -> None:
        start = self.model_dir.text() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a Whisper model folder (CTranslate2)", start)
        if folder:
            self.model_dir.setText(folder)

    def save(self) -> None:
        """Write the dialog's values to the stored settings."""
        self._settings.store.update(
            agent_device=self.agent_device.currentData() or "",
            caller_device=self.caller_device.currentData() or "",
            model_dir=self.model_dir.text().strip(),
            agent_name=self.agent_name.text().strip(),
            keep_audio=self.keep_audio.isChecked(),
            keep_numbers=self.keep_numbers.isChecked(),
            overlay_click_through=self.click_through.isChecked(),
            coach=self.coach_config(),
        )  # one write: the file is read, changed and replaced once

    def accept(self) -> None:
        self.save()
        super().accept()


def _spin_box(th: Threshold) -> QDoubleSpinBox:
    """An editor for one tunable number, named after its CoachConfig field."""
    spin = QDoubleSpinBox()
    spin.setObjectName(th.field)
    spin.setRange(th.minimum, th.maximum)
    spin.setSingleStep(th.step)
    spin.setDecimals(th.decimals)
    spin.setSuffix(th.suffix)
    spin.setMinimumWidth(SPIN_WIDTH_PX)
    return spin
