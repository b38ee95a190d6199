"""What a batch call's result depends on, besides the recording itself: the settings a rerun compares.

A call is skipped on a rerun only when `batch_settings` gives the same dictionary as when it
was analysed (the manifest keeps its hash). It holds every input of `review_call` other
than the audio: the cue rules (the user's `CoachConfig`), the agent and their saved voice
profile (the baseline a review starts from), the stereo side, whether to transcribe and
the model folder's files, whether numbers are kept in the reports, the naming rule that
made the call (its output name and partner file), and the analysis code itself: Poise's
version, a hash of the source files that compute a result, and the versions of the
libraries that transcribe and measure. Changing any of them analyses every call again;
a false "changed" costs time, a false "same" would keep a stale result.
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..app.spec import CallKind, CallSpec
from .discover import DEFAULT_PAIR_RULE, PairRule

# Packages of poise whose code computes a call's result (reports included); the desktop,
# the CLI and the batch's own plumbing are left out, so changing them re-analyses nothing.
RESULT_CODE = ("audio", "language", "report", "app/review.py", "app/redact.py", "app/errors.py", "batch/work.py")
# Libraries whose version can change a transcript or a measure.
RESULT_LIBRARIES = ("faster-whisper", "ctranslate2", "onnxruntime", "numpy", "scipy", "soundfile", "soxr")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """BLAKE2b over the source of `RESULT_CODE` (paths and bytes, in a stable order), hex."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(digest_size=16)
    for part in RESULT_CODE:
        target = root / part
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for path in files:
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    """The installed version of each of `RESULT_LIBRARIES` (None when it is not installed)."""
    out: dict[str, str | None] = {}
    for name in RESULT_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def model_fingerprint(model_dir: str | None) -> dict[str, Any]:
    """The model folder the workers load, by its files' names, sizes and modification times.

    A folder that cannot be read gives only its name: the workers then say why in one sentence.
    """
    found: dict[str, Any] = {"dir": model_dir}
    try:
        from ..audio.transcribe import default_model_path

        folder = Path(model_dir).expanduser() if model_dir else default_model_path()
        found["path"] = str(folder.resolve())
        found["files"] = [
            [p.name, st.st_size, st.st_mtime_ns]
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")
            for st in [p.stat()]
        ]
    except Exception:  # noqa: BLE001 - no usable model: the workers say so
        pass
    return found


def batch_settings(spec: CallSpec, keep_numbers: bool, pair_rule: PairRule | None) -> dict[str, Any]:
    """Everything besides the audio that changes a batch call's result (see the module's docstring)."""
    from ..app.history import History

    prior = History().prior(CallKind.REVIEW, spec.agent)
    rule = pair_rule or PairRule.parse(DEFAULT_PAIR_RULE)  # what discover() uses when none is given
    return {
        "poise": __version__,
        "code": code_fingerprint(),
        "libraries": library_versions(),
        "config": dataclasses.asdict(spec.config),
        "model": model_fingerprint(spec.model_dir) if spec.transcribe else None,
        "transcribe": spec.transcribe,
        "agent_channel": spec.agent_channel,
        "agent": spec.agent,
        "keep_numbers": keep_numbers,
        "profile": dataclasses.asdict(prior) if prior is not None else None,
        "pair_rule": [rule.agent, rule.caller],
    }


__all__ = ["RESULT_CODE", "RESULT_LIBRARIES", "batch_settings", "code_fingerprint", "library_versions", "model_fingerprint"]
