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


def recordings_dir() -> Path:
    path = data_dir() / "recordings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def history_db_path() -> Path:
    return data_dir() / "history.sqlite"


def assets_dir() -> Path:
    return Path(__file__).resolve().parent / "assets"
