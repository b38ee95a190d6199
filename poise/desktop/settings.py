"""The desktop's view of the user's settings: the shared settings file, in Qt types.

The settings live in one JSON file that the command line reads too
(`poise.app.settings`). `Settings` gives the windows typed properties over it (a
`QPoint` for the overlay, a `QByteArray` for the window geometry); each write goes
straight to the file. Settings from before that file, kept in QSettings (organization
"Poise", application "Poise"), are read once by `read_legacy_qsettings` and moved over.
"""

from __future__ import annotations

import base64
import os
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QPoint, QSettings

from poise.app.settings import AppSettings, SettingsStore
from poise.audio.coach import CoachConfig

ORGANIZATION = "Poise"
APPLICATION = "Poise"

_COACH_GROUP = "coach"
# QSettings key → AppSettings field, for the one-time migration.
_LEGACY_KEYS = {
    "devices/agent": "agent_device",
    "devices/caller": "caller_device",
    "transcription/model_dir": "model_dir",
    "recording/keep_audio": "keep_audio",
    "overlay/click_through": "overlay_click_through",
    "agent/name": "agent_name",
}

T = TypeVar("T")


def _legacy_qsettings() -> QSettings:
    """The QSettings the app used before the settings file (Qt finds its folder from XDG_CONFIG_HOME)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:  # Qt resolves its user config folder once per process; tests change the variable
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, xdg)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, xdg)
    return QSettings(ORGANIZATION, APPLICATION)


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _coerce(value: Any, like: Any) -> Any:
    """A value read back from QSettings (often a string) in the type of `like`."""
    if value is None:
        return like
    try:
        if isinstance(like, bool):
            return _to_bool(value)
        if isinstance(like, (int, float)):
            return type(like)(float(value))
        if isinstance(like, str):
            return str(value)
    except (TypeError, ValueError):
        return like
    return value


def _legacy_coach(s: QSettings) -> dict[str, Any]:
    defaults = CoachConfig().to_dict()
    data: dict[str, Any] = {}
    s.beginGroup(_COACH_GROUP)
    try:
        for key, default in defaults.items():
            if isinstance(default, dict):
                data[key] = {k: _coerce(s.value(f"{key}/{k}", v), v) for k, v in default.items()}
            elif default is None:
                stored = s.value(key)
                data[key] = None if stored in (None, "", "@Invalid()") else _coerce(stored, 0.0)
            else:
                data[key] = _coerce(s.value(key, default), default)
    finally:
        s.endGroup()
    return data


def read_legacy_qsettings() -> dict[str, Any] | None:
    """What the app kept in QSettings, as `AppSettings.to_dict()` (None when it kept nothing)."""
    s = _legacy_qsettings()
    if not s.allKeys():
        return None
    defaults = AppSettings().to_dict()
    data: dict[str, Any] = {field: _coerce(s.value(key), defaults[field]) for key, field in _LEGACY_KEYS.items()}
    pos = s.value("overlay/pos")
    if isinstance(pos, QPoint):
        data["overlay_pos"] = [pos.x(), pos.y()]
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        data["window_geometry"] = base64.b64encode(bytes(geometry.data())).decode("ascii")
    data["coach"] = _legacy_coach(s)
    return data


class _Field(Generic[T]):
    """A property that reads one field of the settings file and writes it back on assignment."""

    def __init__(self, doc: str = "") -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Settings | None, owner: type) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        return getattr(obj.load(), self.name)

    def __set__(self, obj: Settings, value: T) -> None:
        obj.store.update(**{self.name: value.strip() if self.name == "agent_name" else value})


class Settings:
    """Typed access to the settings file for the windows (every read is fresh, every write immediate)."""

    agent_device: _Field[str] = _Field("PortAudio name of the agent's microphone (\"\" = system default).")
    caller_device: _Field[str] = _Field("PortAudio name of the caller's side (a monitor/loopback; \"\" = none).")
    model_dir: _Field[str] = _Field("Folder of a CTranslate2 Whisper model (\"\" = the bundled tiny.en).")
    keep_audio: _Field[bool] = _Field("Whether calls are recorded to disk (crash-safe) while they run.")
    overlay_click_through: _Field[bool] = _Field("Whether the cue overlay lets clicks pass to the window below.")
    agent_name: _Field[str] = _Field("Name the agent's voice profile and history are kept under.")

    def __init__(self, store: SettingsStore | None = None) -> None:
        self.store = store if store is not None else SettingsStore()
        if not self.store.exists():
            self.store.migrate(read_legacy_qsettings)

    def load(self) -> AppSettings:
        """All settings as they are on disk now."""
        return self.store.load()

    @property
    def overlay_pos(self) -> QPoint | None:
        """Top-left corner of the cue overlay on screen, once the user has moved it."""
        pos = self.load().overlay_pos
        return QPoint(*pos) if pos is not None else None

    @overlay_pos.setter
    def overlay_pos(self, pos: QPoint) -> None:
        self.store.update(overlay_pos=(int(pos.x()), int(pos.y())))

    @property
    def window_geometry(self) -> QByteArray | None:
        text = self.load().window_geometry
        if not text:
            return None
        try:
            return QByteArray(base64.b64decode(text))
        except ValueError:
            return None

    @window_geometry.setter
    def window_geometry(self, data: QByteArray) -> None:
        self.store.update(window_geometry=base64.b64encode(bytes(data.data())).decode("ascii"))

    def load_coach_config(self) -> CoachConfig:
        """The stored cue rules; defaults for anything never saved or unreadable."""
        return self.load().coach

    def save_coach_config(self, config: CoachConfig) -> None:
        """Store the cue rules."""
        self.store.update(coach=config)


def load_coach_config() -> CoachConfig:
    """The stored cue rules (see `Settings.load_coach_config`)."""
    return Settings().load_coach_config()


def save_coach_config(config: CoachConfig) -> None:
    """Store the cue rules."""
    Settings().save_coach_config(config)
