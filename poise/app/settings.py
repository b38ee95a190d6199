"""The user's settings: one JSON file that the app and the command line both read.

`paths.settings_path()` (on Linux `~/.config/poise/settings.json`) holds devices, the
model folder, the agent's name, recording, the overlay, the window geometry and the cue
rules (`CoachConfig.to_dict()`). Every write is a read-modify-write of the whole file
under a lock, replaced atomically, so two windows (or the app and `poise`) changing
different settings do not undo each other and a crash never leaves half a file.

Only what differs from today's defaults is written (`AppSettings.to_stored_dict`, marked
`"format": 2`), so a default the team improves later reaches users who never chose that
value. Files written before (no "format" key) stored every threshold; when such a file is
read, a value equal to a *retired* default of its key (`RETIRED_COACH_DEFAULTS`) is taken
as "not chosen" and today's default applies. In a format-2 file every value is a choice.

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

FORMAT_KEY = "format"  # marks a file that stores only choices (files without it stored every value)
FILE_FORMAT = 2
# Cue-rule values that were once CoachConfig's default (git log -p poise/audio/coach.py). Until
# 2026-12-01 every save wrote all thresholds, so an old-format file holding one of these almost
# surely holds the default of the day it was saved, not a choice: it loads as today's default.
# (A user who really picked one of them re-picks it once; it is then stored, and kept, as a choice.)
RETIRED_COACH_DEFAULTS: dict[str, tuple[float, ...]] = {
    # 1.2 (first engine), 1.25 (6629561), 1.35 (until 2026-12-03): 1.3 had given 2x the false "slow down" on built
    #   calls, until pace judged only words inside phrases (poise/audio/pace.py); 1.3 is today's default again
    "pace_ratio": (1.2, 1.25, 1.35),
    # 220 (first engine), 240 (5d6d278): 240 cued fast talkers' normal pace (cce8a1a raised it to 280)
    "pace_ceiling_wpm": (220.0, 240.0),
    # 2.5 fired on the natural intonation of read speech (0817ed2 raised it to 3.0)
    "pitch_rise_st": (2.5,),
    # 0.45 (first engine), 0.5 (6852967, undone by 809ed5a): real "okay"s of ~0.5 s were cued; 0.55 (until
    #   2026-12-02): real backchannels of 0.6-0.95 s were cued
    "backchannel_max_s": (0.45, 0.5, 0.55),
}
_SAME_VALUE_TOLERANCE = 1e-9  # relative: a float read back from JSON equals the one written

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
        """Every setting, defaults included (the form `from_dict` and the migration take)."""
        data = asdict(self)
        data["coach"] = self.coach.to_dict()
        data["overlay_pos"] = list(self.overlay_pos) if self.overlay_pos is not None else None
        return data

    def to_stored_dict(self) -> dict[str, Any]:
        """Only the settings that differ from today's defaults (what the file keeps), marked
        with `FORMAT_KEY` so that `from_dict` takes every value in it as chosen."""
        full, defaults = self.to_dict(), AppSettings().to_dict()
        data: dict[str, Any] = {FORMAT_KEY: FILE_FORMAT}
        data.update({k: v for k, v in full.items() if k != "coach" and v != defaults[k]})
        coach = _changed(full["coach"], defaults["coach"])
        if coach:
            data["coach"] = coach
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppSettings:
        """Settings from a stored dict: unknown keys are ignored, unreadable values fall back to
        defaults; without `FORMAT_KEY` (a file that stored every value) retired defaults do too."""
        defaults = cls()
        every_value_stored = data.get(FORMAT_KEY) != FILE_FORMAT
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(defaults, f.name)
            if f.name == "coach":
                values["coach"] = _coach(value, every_value_stored) if isinstance(value, dict) else CoachConfig()
            elif f.name == "overlay_pos":
                values["overlay_pos"] = _point(value)
            elif isinstance(default, bool):
                values[f.name] = value if isinstance(value, bool) else default
            elif isinstance(value, str):
                values[f.name] = value.strip() if f.name == "agent_name" else value
        return cls(**values)


def _changed(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The entries of `values` that differ from `defaults` (nested dicts compared entry by entry)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        default = defaults.get(key)
        if isinstance(value, dict) and isinstance(default, dict):
            sub = _changed(value, default)
            if sub:
                out[key] = sub
        elif value != default:
            out[key] = value
    return out


def _is_retired_default(key: str, value: float) -> bool:
    return any(abs(value - old) <= _SAME_VALUE_TOLERANCE * max(1.0, abs(old))
               for old in RETIRED_COACH_DEFAULTS.get(key, ()))


def _coach(data: dict[str, Any], every_value_stored: bool) -> CoachConfig:
    """Cue rules from a stored dict: missing keys, values of the wrong type and, when the file
    stored every value, retired defaults (`RETIRED_COACH_DEFAULTS`) take today's default."""
    defaults = CoachConfig()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in CoachConfig.__dataclass_fields__:
            continue
        default = getattr(defaults, key)
        if key == "enabled":
            if isinstance(value, dict):
                values[key] = {k: v for k, v in value.items() if isinstance(v, bool)}
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not (
                    every_value_stored and _is_retired_default(key, value)):
                values[key] = type(default)(value)
    return CoachConfig.from_dict(values)


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
        """Write `settings`, only what differs from the defaults (atomically: a temporary file
        renamed over the old one)."""
        target = self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(settings.to_stored_dict(), f, indent=2, ensure_ascii=False)
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
        `AppSettings.to_dict()` form) as the first one. True when something was migrated; with
        nothing to migrate no file is written (a command that only reads leaves none behind)."""
        with _LOCK:
            if self.exists():
                return False
            legacy = read_legacy()
            if legacy:
                self.save(AppSettings.from_dict(legacy))
            return bool(legacy)


def load_settings() -> AppSettings:
    """The user's settings (see `SettingsStore.load`)."""
    return SettingsStore().load()


__all__ = ["DEFAULT_AGENT", "FILE_FORMAT", "FORMAT_KEY", "RETIRED_COACH_DEFAULTS", "AppSettings", "SettingsStore", "load_settings"]
