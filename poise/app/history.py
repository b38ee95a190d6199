"""What history keeps, in one place: which calls are saved and which refine the voice profile.

| kind        | saved as a call                      | refines the agent's voice profile |
|-------------|--------------------------------------|-----------------------------------|
| live        | yes, with its recording              | yes: it is the agent's own voice, live (not when the voice plainly was not the profile's) |
| demo        | yes (kept out of trends by the store) | no: the demo voice is not the agent's |
| review      | yes, unless that recording is already in history (a live call's audio, or reviewed before) | no: a recording may be anyone's, and a live call's audio was counted when it ran |
| calibration | no (it is not a call)                | yes: that is what it is for |
| practice    | no                                   | no: reading a script at a forced pace is not the agent's normal |

Both doors apply this: the app for every call and every review it opens, the command
line for `poise coach --headless` and for `poise analyze --save`. A history that
cannot be opened never stops a call: the problem becomes a `warning` sentence. Each
saved call also applies the retention setting (`poise.app.forget`, off by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from .. import paths
from ..audio.baseline import MISMATCH_ST, hz_to_st
from ..audio.recorder import Gap, finished_gaps, recording_gaps
from ..audio.store import CallRow, HistoryStore, StoreError
from ..audio.types import AnalysisResult, Baseline
from ..language.notes import save_draft_notes
from .forget import apply_retention
from .spec import CallKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    save_call: bool
    refine_profile: bool
    starts_from_profile: bool  # the session starts from the agent's saved normal (cues from the first second)


POLICY: dict[CallKind, Policy] = {
    CallKind.LIVE: Policy(save_call=True, refine_profile=True, starts_from_profile=True),
    CallKind.DEMO: Policy(save_call=True, refine_profile=False, starts_from_profile=False),
    CallKind.REVIEW: Policy(save_call=True, refine_profile=False, starts_from_profile=True),
    CallKind.CALIBRATION: Policy(save_call=False, refine_profile=True, starts_from_profile=False),
    CallKind.PRACTICE: Policy(save_call=False, refine_profile=False, starts_from_profile=False),
}


@dataclass(frozen=True)
class Saved:
    """What `History.record` did."""

    call_id: int | None = None  # the new history row, if one was added
    profile: Baseline | None = None  # the agent's profile after this call, if it was refined
    warning: str | None = None  # one sentence when history could not be used
    call_lost: bool = False  # the policy says keep this call, and it could not be saved
    already_in: int | None = None  # a review of a recording history holds already: that call (one row per recording)
    note: str | None = None  # a sentence for the user that is not a problem ("already in history as call 3 (Dana)")


class History:
    """The policy above over a `HistoryStore` (opened per use: safe from any thread)."""

    def __init__(self, path: Path | None = None) -> None:
        self.warning: str | None = None  # the last problem, one sentence (also returned by `record`)
        self._unusable: str | None = None  # why there is no history file at all (its folder cannot be made)
        self._notice: str | None = None  # a damaged file was moved aside: not yet said in a `Saved`
        if path is None:
            try:
                path = paths.history_db_path()  # fixed now: a call saves where it began
            except paths.DataDirError as exc:
                self._unusable = str(exc)
        self.path: Path | None = path

    def _open(self) -> HistoryStore:
        if self.path is None:
            raise StoreError(self._unusable or "Poise has no history folder; restart Poise.")
        store = HistoryStore(self.path)
        if store.warning:  # the file was damaged and moved aside: said once, by whichever use comes next
            log.warning("%s", store.warning)
            self.warning = self._notice = store.warning
        return store

    def _take_notice(self) -> str | None:
        notice, self._notice = self._notice, None
        return notice

    def prior(self, kind: CallKind, agent: str) -> Baseline | None:
        """The saved voice profile a call of `kind` starts from (None: it learns from scratch)."""
        self.warning = None
        if not POLICY[kind].starts_from_profile:
            return None
        if self.path is None:
            self.warning = self._unusable
            return None
        if not self.path.exists():
            return None  # no history yet: nothing to start from (and no file made just to read it)
        try:
            with self._open() as store:
                return store.load_profile(agent)
        except StoreError as exc:
            log.warning("could not read the voice profile: %s", exc)
            self.warning = str(exc)
            return None

    def record(
        self, kind: CallKind, agent: str, result: AnalysisResult | None = None,
        recording: Path | None = None, baseline: Baseline | None = None, gaps: list[Gap] | None = None,
    ) -> Saved:
        """Apply the policy to a finished run: save the call and/or refine the profile.

        `baseline` is what refines the profile (default: the result's own baseline). The call is
        saved with its device gaps: `gaps` (a live call's), else the result's, else those marked
        beside `recording` (its `.gaps.json`).
        """
        self.warning = None
        if result is not None:
            result = _with_gaps(result, gaps, recording)
        policy = POLICY[kind]
        baseline = baseline if baseline is not None else (result.baseline if result is not None else None)
        call_id = profile = already_in = note = None
        problems: list[str] = []
        wants_call = policy.save_call and result is not None
        try:
            with self._open() as store:
                # The call first: it is what the user would miss. Each step is tried on its own,
                # so a profile that cannot be refined never keeps the call out (or the reverse).
                if wants_call:
                    try:
                        already_in = store.call_with_recording(recording) if kind is CallKind.REVIEW and recording else None
                        if already_in is not None:
                            owner = (store.call_origin(already_in) or ("someone", {}))[0]
                            note = f"This recording is already in history as call {already_in} ({owner}), so it was not saved again."
                        else:
                            call_id = store.save_call(result, kind.value, agent=agent, recording=recording)
                            if kind is not CallKind.DEMO:  # a promised follow-up becomes a reminder (issue 10)
                                _keep_draft_notes(store, call_id, result)
                    except StoreError as exc:
                        problems.append(str(exc))
                if policy.refine_profile and baseline is not None:
                    try:
                        if kind is CallKind.LIVE and _other_voice(store.load_profile(agent), baseline):
                            log.info("history: %s's profile was left alone: this call's voice did not match it", agent)
                        else:
                            profile = store.update_profile(agent, baseline)
                    except StoreError as exc:
                        problems.append(str(exc))
                if call_id is not None:
                    try:  # the retention setting (off by default) is kept on every save, by every door
                        apply_retention(store)
                    except StoreError as exc:
                        log.warning("applying the retention setting failed: %s", exc)
        except StoreError as exc:
            problems.append(str(exc))
        lost = wants_call and call_id is None and bool(problems)
        if problems:
            message = problems[0]
            if lost and "not saved" not in message:
                message = f"This call was not saved to history because {message[0].lower()}{message[1:]}"
            log.warning("history: %s", message)
            self.warning = message
        else:
            self.warning = self._take_notice()
        return Saved(call_id, profile, self.warning, call_lost=lost, already_in=already_in, note=note)


def _keep_draft_notes(store: HistoryStore, call_id: int, result: AnalysisResult) -> None:
    """The drafted notes of a call that promised a follow-up; a failure here never costs the saved call."""
    try:
        save_draft_notes(store, call_id, result.segments)
    except Exception:  # noqa: BLE001 - the call is saved; its reminder is a convenience
        log.warning("history: the call's draft notes were not saved", exc_info=True)


def _with_gaps(result: AnalysisResult, gaps: list[Gap] | None, recording: Path | None) -> AnalysisResult:
    """`result` carrying the call's device gaps (see `History.record`), closed at the call's end."""
    duration = result.source.duration_s
    if gaps:
        found = finished_gaps(list(gaps), duration)
    elif result.gaps:
        return result
    elif recording is not None:
        found = recording_gaps(Path(recording), duration)
    else:
        return result
    return replace(result, gaps=found) if found else result


def _other_voice(profile: Baseline | None, heard: Baseline) -> bool:
    """A live call whose normal pitch is plainly not the profile's (as the session judged it live):
    someone else at the desk must not drag the agent's profile towards their voice."""
    if profile is None or profile.pitch_hz is None or heard.pitch_hz is None:
        return False
    return abs(float(hz_to_st(heard.pitch_hz)) - float(hz_to_st(profile.pitch_hz))) >= MISMATCH_ST




@dataclass(frozen=True)
class CallAudio:
    """The audio a saved call is reviewed from, opened as it was analysed."""

    file: Path
    caller_file: Path | None = None
    agent_channel: str = "left"


def call_audio(store: HistoryStore, row: CallRow) -> CallAudio | None:
    """A saved call's audio, else None when it is gone: its recording, else the file it was reviewed from. A
    review opens with the side and caller file it was analysed with; Poise's own recordings hold the agent left."""
    file = next((p for p in (row.recording, Path(row.source) if row.source else None) if p is not None and p.is_file()), None)
    if file is None or row.kind != "review":
        return None if file is None else CallAudio(file)
    source = (store.call_origin(row.id) or ("", {}))[1]
    caller = Path(source["caller_path"]) if source.get("caller_path") else None
    if caller is not None and not caller.is_file():
        return None
    return CallAudio(file, caller, source.get("agent_channel") or "left")


__all__ = ["POLICY", "CallAudio", "History", "Policy", "Saved", "call_audio"]
