"""Analyse a recorded call: the same Session as live, plus one Whisper pass per channel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from .coach import CoachConfig
from .session import Session
from .sources import FileSource, load_call
from .transcribe import load_model, transcribe_batch
from .types import AnalysisResult, AudioInputError, Segment

ANALYSIS_BLOCK_S = 1.0  # s per block when replaying a file: larger blocks, fewer Python calls, same frames
TRANSCRIBE_SHARE = 0.9  # share of the progress bar given to Whisper (it takes most of the time)
ANALYSIS_CPU_THREADS = 2  # Whisper threads for a recording: both cores (live calls use one)

Progress = Callable[[float, str], None]


class Cancelled(Exception):
    """The user stopped the analysis."""


def analyze_file(
    path: str | Path,
    caller_path: str | Path | None = None,
    agent_channel: str = "left",
    *,
    model_path: str | Path | None = None,
    config: CoachConfig | None = None,
    transcribe: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AnalysisResult:
    """Everything Poise knows about a recorded call. Raises AudioInputError (bad input),
    transcribe.ModelError (no usable model) or Cancelled."""
    report = progress or (lambda fraction, label: None)
    report(0.0, "reading audio")
    call = load_call(path, caller_path, agent_channel)  # type: ignore[arg-type]
    channels = [("agent", call.agent)] + ([("caller", call.caller)] if call.caller is not None else [])

    segments: list[Segment] = []
    failure: list[BaseException] = []
    done = {"prosody": 0.0, "words": 0.0 if transcribe else 1.0}

    def update(label: str) -> None:
        share = TRANSCRIBE_SHARE if transcribe else 0.0
        report(min(1.0, share * done["words"] + (1 - share) * done["prosody"]), label)

    def transcribe_all() -> None:
        try:
            model = load_model(model_path, cpu_threads=ANALYSIS_CPU_THREADS)
            for i, (role, audio) in enumerate(channels):
                if cancel is not None and cancel.is_set():
                    return

                def on_progress(fraction: float, i: int = i, role: str = role) -> None:
                    done["words"] = (i + fraction) / len(channels)
                    update(f"transcribing {role}")

                segments.extend(transcribe_batch(model, audio, role, progress=on_progress))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            failure.append(exc)

    worker = threading.Thread(target=transcribe_all, name="poise-transcribe", daemon=True)
    if transcribe:
        worker.start()
    session = Session(has_caller=call.caller is not None, config=config)
    source = FileSource(call, block_s=ANALYSIS_BLOCK_S)
    total = max(call.duration_s, 1e-9)
    for block in source:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        session.feed(block)
        done["prosody"] = min(1.0, (block.t0 + block.duration) / total)
        update("measuring voice")
    if transcribe:
        while worker.is_alive():
            worker.join(0.2)
            if cancel is not None and cancel.is_set():
                raise Cancelled()
        if failure:
            raise failure[0]
    result = session.finish(call.info, segments if transcribe else None)
    if result.agent.talk_time_s == 0 and (result.caller is None or result.caller.talk_time_s == 0):
        raise AudioInputError(f"{path} contains no speech Poise can hear: check that it is the right recording.")
    report(1.0, "done")
    return result
