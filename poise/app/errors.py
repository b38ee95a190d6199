"""Errors in one plain sentence, and where Poise's log goes: used by the app, the CLI and the desktop.

`describe(exc, doing)` is the one wording of a failure for the user: the engine's own
message when it has one (bad audio, no model, history unusable), a sentence for the
common system failures, else a pointer to the log file with the traceback in it.
`configure_logging()` is called once at start by both doors.
"""

from __future__ import annotations

import errno
import logging
import traceback
from pathlib import Path
from types import TracebackType

from .. import paths
from ..audio import errors as engine_errors
from ..audio.store import StoreError
from ..audio.transcribe import ModelError
from ..audio.types import AudioInputError

LIBRARY_LEVEL = logging.WARNING  # libraries: warnings only (faster-whisper logs every utterance at INFO)
POISE_LEVEL = logging.INFO  # Poise's own messages: what happened to each call
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UNCAUGHT_SENTENCE = "Something went wrong inside Poise; details are in {log}. Your settings and recordings are safe."

log_exception = engine_errors.log_exception


def log_path() -> Path:
    return paths.log_path()


def describe(exc: BaseException, doing: str = "") -> str:
    """One sentence: what went wrong and what to do. `doing` is the kind of call ("live",
    "demo", "review"…) and sharpens the wording of missing files and device errors."""
    if isinstance(exc, (AudioInputError, ModelError, StoreError)) and str(exc):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        name = Path(str(exc.filename or (exc.args[0] if exc.args else "file"))).name
        if doing == "demo":
            return f"The demo call ({name}) is missing from this installation: reinstall Poise."
        return f"{name} could not be found: check the file and try again."
    if doing == "live" and isinstance(exc, OSError) and not isinstance(exc, PermissionError) and exc.errno != errno.ENOSPC:
        return "Poise could not open your audio devices: check they are connected and pick them again."
    return engine_errors.describe(exc)


def is_bad_input(exc: BaseException) -> bool:
    """A failure of what the user gave (an unusable recording or device), not of Poise."""
    return isinstance(exc, AudioInputError)


def log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    """Write an uncaught exception's traceback to the log; returns the sentence to show instead."""
    try:
        with open(log_path(), "a", encoding="utf-8") as f:
            f.write("".join(traceback.format_exception(exc_type, exc, tb)))
    except OSError:
        pass
    return UNCAUGHT_SENTENCE.format(log=log_path())


def configure_logging() -> None:
    """Send warnings of libraries and Poise's own messages to the log file (once per process).

    The terminal and the window only ever get one sentence per problem.
    """
    root = logging.getLogger()
    path = str(log_path())
    if not any(isinstance(h, logging.FileHandler) and h.baseFilename == path for h in root.handlers):
        try:
            handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > LIBRARY_LEVEL:
        root.setLevel(LIBRARY_LEVEL)
    logging.getLogger("poise").setLevel(POISE_LEVEL)


__all__ = ["configure_logging", "describe", "is_bad_input", "log_exception", "log_path", "log_uncaught"]
