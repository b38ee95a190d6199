"""Where Poise keeps its files on the user's machine (nothing leaves it).

The data folder holds a caller's words and voice: it is private to the user (0700, its
files 0600). `private_umask()` is applied once at start by both doors so every file
Poise creates afterwards is born private; `make_private` narrows what already exists.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

APP_NAME = "poise"
PRIVATE_UMASK = 0o077  # new files 0600 and folders 0700: history, recordings and the log are the user's alone
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class DataDirError(OSError):
    """Poise's data folder cannot be made or used; the message is one plain sentence."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


_user_umask: int | None = None  # the umask Poise was started with: what the user's own files elsewhere get


def no_such_file(name: str | os.PathLike[str]) -> str:
    """The one sentence for a path that is not there (the CLI, the loader, a batch and the app all say it)."""
    return f"{name} does not exist; check the path and try again."


def private_umask() -> None:
    """Make every file and folder Poise creates from now on private to the user (umask 077)."""
    global _user_umask
    previous = os.umask(PRIVATE_UMASK)
    if _user_umask is None:
        _user_umask = previous


def user_umask() -> int:
    """The user's umask from before `private_umask` (the current one if it was never applied)."""
    if _user_umask is not None:
        return _user_umask
    mask = os.umask(PRIVATE_UMASK)
    os.umask(mask)
    return mask


def _data_dir_path() -> Path:
    override = os.environ.get("POISE_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_file_mode(target: Path) -> int:
    """The mode of a new file the user asked for (a report, an export): 0600 inside the data folder, elsewhere
    what the user's own umask gives (0666 & ~umask: 0644 under umask 022), never wider."""
    return PRIVATE_FILE_MODE if _inside_data_dir(target) else 0o666 & ~user_umask() & 0o777


def _inside_data_dir(target: Path) -> bool:
    try:
        return Path(target).resolve().parent.is_relative_to(_data_dir_path().resolve())
    except OSError:
        return False


def make_user_dir(path: Path) -> None:
    """`mkdir -p` for a folder the user asked for (`poise batch --out`): each folder made gets what the user's
    umask gives (0755 under 022; 0700 inside the data folder), not Poise's 077. Raises OSError as mkdir does."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        give_to_user(folder, existed=False)


def give_to_user(target: Path, existed: bool) -> None:
    """A file Poise just wrote for the user under its private umask gets `user_file_mode` (one that existed
    keeps its own mode); never raises."""
    if existed:
        return
    try:
        if Path(target).is_dir():
            os.chmod(target, PRIVATE_DIR_MODE if _inside_data_dir(target) else 0o777 & ~user_umask() & 0o777)
        else:
            os.chmod(target, user_file_mode(target))
    except OSError:
        pass


def make_private(path: Path) -> None:
    """Narrow `path` to 0700 (folder) or 0600 (file) if it is wider; never widens, never raises."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        private = PRIVATE_DIR_MODE if Path(path).is_dir() else PRIVATE_FILE_MODE
        if mode & ~private:
            os.chmod(path, mode & private)
    except OSError:
        pass


def _make_dir(path: Path, what: str) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataDirError(
            exc.errno or 0,
            f"Poise cannot create its {what} {path} ({reason}): make it writable, or choose another "
            f"folder with {'POISE_DATA_DIR' if what == 'data folder' else 'POISE_CONFIG_DIR'}.",
        ) from exc
    make_private(path)
    return path


def data_dir() -> Path:
    """Folder for history and recordings (0700); `POISE_DATA_DIR` overrides (tests, portable installs).

    Raises `DataDirError` (one sentence) when it cannot be created.
    """
    return _make_dir(_data_dir_path(), "data folder")


def secure_data_dir() -> None:
    """Narrow the data folder and everything in it to 0700/0600 (older Poise made them 0755/0644)."""
    root = data_dir()
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            make_private(Path(folder) / name)
        for name in files:
            make_private(Path(folder) / name)


def config_dir() -> Path:
    """Folder for the settings file; `POISE_CONFIG_DIR` overrides, else the platform's
    user config folder (on Linux `$XDG_CONFIG_HOME/poise`)."""
    override = os.environ.get("POISE_CONFIG_DIR")
    path = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    return _make_dir(path, "settings folder")


def cache_dir() -> Path:
    """Folder for what Poise can always make again (the trained phrase model), not created here;
    `POISE_CACHE_DIR` overrides, else the platform's user cache folder (on Linux `$XDG_CACHE_HOME/poise`)."""
    override = os.environ.get("POISE_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def settings_path() -> Path:
    """The one settings file the app and the command line share."""
    return config_dir() / "settings.json"


def log_path() -> Path:
    """Poise's log file: tracebacks and library warnings, never shown to the user."""
    return data_dir() / "poise.log"


def recordings_dir() -> Path:
    return _make_dir(data_dir() / "recordings", "recordings folder")


def history_db_path() -> Path:
    return data_dir() / "history.sqlite"


def assets_dir() -> Path:
    return Path(__file__).resolve().parent / "assets"
