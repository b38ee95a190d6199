"""Reviewing a recording: the same cues the agent would have seen live with the same settings.

Both doors review through `review_call`: the cue rules of the spec (the user's), the
agent's saved voice profile as the starting normal (so pace, pitch and volume cues can
come in the first 30 s, as live), and the history policy for reviews.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..audio.analysis import Cancelled, Progress, analyze_file
from .errors import describe, is_bad_input
from .history import History
from .spec import CallKind, CallOutcome, CallSpec


def review_call(
    spec: CallSpec,
    *,
    history: History | None = None,
    save: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CallOutcome:
    """Analyse `spec.file` (blocking; run it off a UI thread). Never raises: a failure is
    the outcome's `error`, a cancel is the error "Analysis cancelled."."""
    assert spec.kind is CallKind.REVIEW and spec.file is not None
    history = history if history is not None else History()
    prior = history.prior(CallKind.REVIEW, spec.agent)
    try:
        result = analyze_file(
            spec.file, spec.caller_file, spec.agent_channel,
            model_path=spec.model_dir, config=spec.config, baseline=prior,
            transcribe=spec.transcribe, progress=progress, cancel=cancel,
        )
    except Cancelled:
        return CallOutcome(error="Analysis cancelled.")
    except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence
        return CallOutcome(error=describe(exc, "review"), warning=history.warning, bad_input=is_bad_input(exc))
    if not save:
        return CallOutcome(result=result, warning=history.warning)
    saved = history.record(CallKind.REVIEW, spec.agent, result, recording=Path(spec.file).absolute())
    return CallOutcome(result=result, call_id=saved.call_id, warning=saved.warning)


__all__ = ["review_call"]
