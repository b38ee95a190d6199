"""The engine's plain sentence for a failure it cannot word better, with the details kept in the log.

The application layer (`poise.app.errors`) words what it knows more about (models,
history, missing files) and falls back to `describe` here; this module stays below it
so the pipeline thread (`SessionRunner`) can report without reaching up a layer.
"""

from __future__ import annotations

import errno
import logging
import traceback
from pathlib import Path

from .. import paths
from .types import AudioInputError

log = logging.getLogger("poise")


class ModelError(Exception):
    """The Whisper model cannot be used; the message is one plain sentence for the user. (Here, not in
    transcribe.py, so that naming it does not import faster-whisper and PyAV: the app's start did.)"""


def log_path() -> Path:
    """Where tracebacks go (`paths.log_path`)."""
    return paths.log_path()


def log_exception(exc: BaseException) -> None:
    """Append the traceback to the log file (never shown to the user)."""
    try:
        with open(log_path(), "a", encoding="utf-8") as f:
            f.write("".join(traceback.format_exception(exc)))
    except OSError:
        pass


def describe(exc: BaseException) -> str:
    """What happened and what to do, in one sentence a user can act on."""
    if isinstance(exc, AudioInputError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "The disk is full: free some space and try again (what was recorded so far is kept)."
    if isinstance(exc, PermissionError):
        return f"Poise may not open {exc.filename or 'a file it needs'}: check its permissions and try again."
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory: close other programs or analyse a shorter recording."
    log_exception(exc)
    return f"Poise hit an unexpected problem ({type(exc).__name__}); details are in {log_path()}. Please try again."
