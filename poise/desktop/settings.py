"""The user's settings, kept with QSettings (organization "Poise", application "Poise").

Everything the desktop app remembers goes through `Settings`: devices, the model
folder, cue rules (a `CoachConfig`), recording, the overlay and window geometry.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QPoint, QSettings

if TYPE_CHECKING:
    from poise.audio.coach import CoachConfig

ORGANIZATION = "Poise"
APPLICATION = "Poise"

_COACH_GROUP = "coach"


def _qsettings() -> QSettings:
    """The application's QSettings.

    Qt resolves its user config folder once per process; re-pointing it at
    `XDG_CONFIG_HOME` each time keeps tests (and portable setups) that change
    that variable isolated, and matches what Qt does on Linux anyway.
    """
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, xdg)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, xdg)
    return QSettings(ORGANIZATION, APPLICATION)


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _coerce(value: Any, like: Any) -> Any:
    """Turn a value read back from QSettings (often a string) into the type of `like`."""
    if value is None:
        return like
    try:
        if isinstance(like, bool):
            return _to_bool(value)
        if isinstance(like, int):
            return int(float(value))
        if isinstance(like, float):
            return float(value)
        if isinstance(like, str):
            return str(value)
    except (TypeError, ValueError):
        return like
    return value


class Settings:
    """Typed access to the stored settings; every property reads and writes through QSettings."""

    def __init__(self) -> None:
        self._s = _qsettings()

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._s.sync()

    def _get(self, key: str, default: Any) -> Any:
        return _coerce(self._s.value(key, default), default)

    def _set(self, key: str, value: Any) -> None:
        self._s.setValue(key, value)

    # Devices and model -------------------------------------------------------------

    @property
    def agent_device(self) -> str:
        """PortAudio name of the agent's microphone ("" = system default)."""
        return self._get("devices/agent", "")

    @agent_device.setter
    def agent_device(self, name: str) -> None:
        self._set("devices/agent", name)

    @property
    def caller_device(self) -> str:
        """PortAudio name of the caller's side (a monitor/loopback; "" = none)."""
        return self._get("devices/caller", "")

    @caller_device.setter
    def caller_device(self, name: str) -> None:
        self._set("devices/caller", name)

    @property
    def model_dir(self) -> str:
        """Folder of a CTranslate2 Whisper model ("" = the bundled tiny.en)."""
        return self._get("transcription/model_dir", "")

    @model_dir.setter
    def model_dir(self, path: str) -> None:
        self._set("transcription/model_dir", path)

    # Recording, overlay, agent ------------------------------------------------------

    @property
    def keep_audio(self) -> bool:
        """Whether calls are recorded to disk (crash-safe) while they run."""
        return self._get("recording/keep_audio", True)

    @keep_audio.setter
    def keep_audio(self, on: bool) -> None:
        self._set("recording/keep_audio", bool(on))

    @property
    def overlay_click_through(self) -> bool:
        """Whether the cue overlay lets mouse clicks pass through to the window below."""
        return self._get("overlay/click_through", False)

    @overlay_click_through.setter
    def overlay_click_through(self, on: bool) -> None:
        self._set("overlay/click_through", bool(on))

    @property
    def overlay_pos(self) -> QPoint | None:
        """Top-left corner of the cue overlay on screen, once the user has moved it."""
        value = self._s.value("overlay/pos")
        if isinstance(value, QPoint):
            return value
        if isinstance(value, (list, tuple)) and len(value) == 2:
            try:
                return QPoint(int(value[0]), int(value[1]))
            except (TypeError, ValueError):
                return None
        return None

    @overlay_pos.setter
    def overlay_pos(self, pos: QPoint) -> None:
        self._set("overlay/pos", QPoint(pos))

    @property
    def agent_name(self) -> str:
        """Name the agent's saved voice baseline is kept under."""
        return self._get("agent/name", "")

    @agent_name.setter
    def agent_name(self, name: str) -> None:
        self._set("agent/name", name.strip())

    @property
    def window_geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_geometry.setter
    def window_geometry(self, data: QByteArray) -> None:
        self._set("window/geometry", data)

    # Cue rules --------------------------------------------------------------------

    def load_coach_config(self) -> CoachConfig:
        """The stored cue rules; defaults for anything never saved or unreadable."""
        from poise.audio.coach import CoachConfig

        defaults = CoachConfig().to_dict()
        data: dict[str, Any] = {}
        self._s.beginGroup(_COACH_GROUP)
        try:
            for key, default in defaults.items():
                if isinstance(default, dict):
                    self._s.beginGroup(key)
                    try:
                        data[key] = {k: _coerce(self._s.value(k, v), v) for k, v in default.items()}
                    finally:
                        self._s.endGroup()
                elif default is None:
                    stored = self._s.value(key)
                    data[key] = None if stored in (None, "", "@Invalid()") else _coerce(stored, 0.0)
                else:
                    data[key] = _coerce(self._s.value(key, default), default)
        finally:
            self._s.endGroup()
        return CoachConfig.from_dict(data)

    def save_coach_config(self, config: CoachConfig) -> None:
        """Store the cue rules (every field of `CoachConfig.to_dict()`)."""
        self._s.beginGroup(_COACH_GROUP)
        try:
            for key, value in config.to_dict().items():
                if isinstance(value, dict):
                    self._s.beginGroup(key)
                    try:
                        for k, v in value.items():
                            self._s.setValue(k, v)
                    finally:
                        self._s.endGroup()
                elif value is None:
                    self._s.remove(key)
                else:
                    self._s.setValue(key, value)
        finally:
            self._s.endGroup()


def load_coach_config() -> CoachConfig:
    """The stored cue rules (see `Settings.load_coach_config`)."""
    return Settings().load_coach_config()


def save_coach_config(config: CoachConfig) -> None:
    """Store the cue rules and write them to disk."""
    settings = Settings()
    settings.save_coach_config(config)
    settings.sync()
