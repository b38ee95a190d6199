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
from ..audio.errors import ModelError
from ..audio.types import AudioInputError
from ..audio.vad import SpeechModelError

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
    if isinstance(exc, (AudioInputError, ModelError, SpeechModelError, StoreError, paths.DataDirError)) and str(exc):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        name = Path(str(exc.filename or (exc.args[0] if exc.args else "file"))).name
        if doing == "demo":
            return f"The demo call ({name}) is missing from this installation: reinstall Poise."
        return paths.no_such_file(name)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        # not the engine's "what was recorded so far is kept": whether it was is the recorder's to say
        return "The disk is full: free some space and try again."
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


class QuietFileHandler(logging.FileHandler):
    """A log file that never prints `--- Logging error ---` and a traceback on the terminal.

    When the log cannot be written (the disk is full, the file was removed), the record is
    dropped: the user already gets one sentence for the problem itself.
    """

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


def configure_logging() -> None:
    """Send warnings of libraries and Poise's own messages to the log file (once per process).

    Also makes Poise's files private: umask 077 for the process, and the data folder and
    what is already in it narrowed to 0700/0600. Never raises: a data folder that cannot
    be made leaves logging off (whatever needs the folder says so in one sentence).
    """
    paths.private_umask()  # first: everything made from here on is the user's alone
    root = logging.getLogger()
    try:
        paths.secure_data_dir()
        path = str(log_path())
    except paths.DataDirError:  # said in one sentence by whatever needs the folder
        path = ""
    if path and not any(isinstance(h, logging.FileHandler) and h.baseFilename == path for h in root.handlers):
        try:
            handler: logging.Handler = QuietFileHandler(path, encoding="utf-8")
            paths.make_private(Path(path))
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    if not path and not root.handlers:
        root.addHandler(logging.NullHandler())  # no log file: never logging's last resort, the terminal
    if root.level == logging.NOTSET or root.level > LIBRARY_LEVEL:
        root.setLevel(LIBRARY_LEVEL)
    logging.getLogger("poise").setLevel(POISE_LEVEL)


__all__ = ["QuietFileHandler", "configure_logging", "describe", "is_bad_input", "log_exception", "log_path", "log_uncaught"]
