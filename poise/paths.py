"""Where Poise keeps its files on the user's machine (nothing leaves it)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "poise"


def data_dir() -> Path:
    """Folder for history and recordings; `POISE_DATA_DIR` overrides (tests, portable installs)."""
    override = os.environ.get("POISE_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Folder for the settings file; `POISE_CONFIG_DIR` overrides, else the platform's
    user config folder (on Linux `$XDG_CONFIG_HOME/poise`)."""
    override = os.environ.get("POISE_CONFIG_DIR")
    path = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_path() -> Path:
    """The one settings file the app and the command line share."""
    return config_dir() / "settings.json"


def log_path() -> Path:
    """Poise's log file: tracebacks and library warnings, never shown to the user."""
    return data_dir() / "poise.log"


def recordings_dir() -> Path:
    path = data_dir() / "recordings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def history_db_path() -> Path:
    return data_dir() / "history.sqlite"


def assets_dir() -> Path:
    return Path(__file__).resolve().parent / "assets"
