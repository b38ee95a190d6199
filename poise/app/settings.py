"""The user's settings: one JSON file that the app and the command line both read.

`paths.settings_path()` (on Linux `~/.config/poise/settings.json`) holds devices, the
model folder, the agent's name, recording, the overlay, the window geometry and the cue
rules (`CoachConfig.to_dict()`). Every write is a read-modify-write of the whole file
under a lock, replaced atomically, so two windows (or the app and `poise`) changing
different settings do not undo each other and a crash never leaves half a file.

Settings from before this file existed lived in Qt's QSettings; the desktop passes
them to `SettingsStore.migrate` once (the file's existence marks the migration done).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

from .. import paths
from ..audio.coach import CoachConfig

log = logging.getLogger(__name__)

DEFAULT_AGENT = "default"  # the profile name used when the user never gave one
_LOCK = threading.Lock()  # one writer at a time within the process (the file is replaced atomically)


@dataclass(frozen=True)
class AppSettings:
    """Everything Poise remembers for the user between runs."""

    agent_device: str = ""  # PortAudio name of the agent's microphone ("" = system default)
    caller_device: str = ""  # the caller's side: a monitor/loopback ("" = none)
    model_dir: str = ""  # a CTranslate2 Whisper model folder ("" = the bundled tiny.en)
    keep_audio: bool = True  # record calls to disk (crash-safe) while they run
    keep_numbers: bool = False  # store and export transcripts as spoken (default: numbers, e-mails, phones redacted)
    agent_name: str = ""  # whose voice profile and history the calls belong to
    overlay_click_through: bool = False  # the cue overlay lets clicks pass to the window below
    overlay_pos: tuple[int, int] | None = None  # top-left of the overlay once the user moved it, px
    window_geometry: str = ""  # the main window's saved geometry (Qt's bytes, base64)
    coach: CoachConfig = field(default_factory=CoachConfig)  # the cue rules

    @property
    def agent(self) -> str:
        """The profile name calls are saved under."""
        return self.agent_name.strip() or DEFAULT_AGENT

    @property
    def model_path(self) -> str | None:
        """The model folder for `load_model` (None = the bundled one)."""
        return self.model_dir or None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["coach"] = self.coach.to_dict()
        data["overlay_pos"] = list(self.overlay_pos) if self.overlay_pos is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppSettings:
        """Settings from a stored dict: unknown keys are ignored, unreadable values fall back to defaults."""
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(defaults, f.name)
            if f.name == "coach":
                values["coach"] = CoachConfig.from_dict(value) if isinstance(value, dict) else CoachConfig()
            elif f.name == "overlay_pos":
                values["overlay_pos"] = _point(value)
            elif isinstance(default, bool):
                values[f.name] = value if isinstance(value, bool) else default
            elif isinstance(value, str):
                values[f.name] = value.strip() if f.name == "agent_name" else value
        return cls(**values)


def _point(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            return int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
    return None


class SettingsStore:
    """Reads and writes the settings file (`path` defaults to `paths.settings_path()`)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = Path(path) if path is not None else None

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else paths.settings_path()

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> AppSettings:
        """The stored settings; defaults when there is no file or it cannot be read (logged)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return AppSettings()
        except (OSError, ValueError):
            log.warning("the settings file %s is unreadable; using defaults", self.path, exc_info=True)
            return AppSettings()
        return AppSettings.from_dict(data) if isinstance(data, dict) else AppSettings()

    def save(self, settings: AppSettings) -> None:
        """Write all of `settings` (atomically: a temporary file renamed over the old one)."""
        target = self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(settings.to_dict(), f, indent=2, ensure_ascii=False)
                f.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def update(self, **changes: Any) -> AppSettings:
        """Change some settings and keep the rest as they are on disk now; returns the new settings."""
        with _LOCK:
            settings = replace(self.load(), **changes)
            self.save(settings)
            return settings

    def migrate(self, read_legacy: Callable[[], dict[str, Any] | None]) -> bool:
        """Once: when there is no settings file yet, save what `read_legacy()` returns (in
        `AppSettings.to_dict()` form) as the first one. True when something was migrated."""
        with _LOCK:
            if self.exists():
                return False
            legacy = read_legacy()
            self.save(AppSettings.from_dict(legacy or {}))
            return bool(legacy)


def load_settings() -> AppSettings:
    """The user's settings (see `SettingsStore.load`)."""
    return SettingsStore().load()


__all__ = ["DEFAULT_AGENT", "AppSettings", "SettingsStore", "load_settings"]
