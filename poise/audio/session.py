"""The pipeline: blocks in → prosody → baseline → coach → events out. One for live calls and recordings.

`Session.feed` runs on one worker thread (never the audio callback, never the UI
thread). Everything is indexed by frame, so the cues depend only on the audio, not
on how it was cut into blocks or how fast it arrived.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Protocol

import numpy as np

from .baseline import BaselineTracker
from .coach import (
    CALLER_TURN_GAP_S,
    ONSET_BACKDATE_FRAMES,
    ONSET_GAP_FRAMES,
    PACE_WINDOW_SPEECH_S,
    PITCH_WINDOW_VOICED_S,
    RULE_STEP_FRAMES,
    VOLUME_WINDOW_SPEECH_S,
    WINDOW_MAX_SPAN_S,
    Coach,
    CoachConfig,
    wpm_from_rate,
)
from .errors import describe
from .prosody import FRAME_LEN, ProsodyTracker, frame_end_time
from .stats import build_timeline, conversation_stats, role_stats
from .pace import WORD_DELAY_S
from .track import RoleTrack
from .vad import LeakageEstimator, SileroReplay
from .types import (
    FRAME_HOP,
    FRAME_HOP_S,
    ROLES,
    SAMPLE_RATE,
    AnalysisResult,
    Baseline,
    Block,
    Cue,
    Event,
    Meters,
    Role,
    Segment,
    SourceInfo,
    Status,
    Word,
)

UTTERANCE_MAX_S = 3.0  # s: live transcription gets speech in pieces at most this long, so words arrive within ~2 s
UTTERANCE_MIN_S = 0.3  # s: shorter bursts (clicks, breaths) are not worth a Whisper call
UTTERANCE_PREROLL_S = 0.2  # s of audio kept before the voice-activity onset (VAD needs a few frames to react)
CUT_SEARCH_S = 1.0  # s: a forced cut goes at the quietest frame of this last stretch
METER_STEP_FRAMES = 10  # one Meters event per 100 ms of audio
# The call's numbers count a turn's own pauses as talk, as the floor rules do (a caller pause under
# CALLER_TURN_GAP_S does not end their turn) and as turn-level annotations such as the AMI RTTM do:
# against it the frame-level speech of the AMI talkers reached F1 0.874-0.909, with these pauses 0.902-0.933.
TURN_PAUSE_MAX_FRAMES = int(round(CALLER_TURN_GAP_S / FRAME_HOP_S))  # 50 frames (0.5 s)
BASELINE_LAG_FRAMES = 500  # 5 s: the normal is how the agent sounded until 5 s ago, so a drift is never its own normal
# A live call keeps only its recent frames; older ones are folded into the call's record (track.py) in chunks.
# The longest look-back of a live reader: the rules' windows (WINDOW_MAX_SPAN_S = 20 s; the caller's heat 12 s),
# the baseline's and the heat normal's 5 s lag, an onset's 0.4 s, an utterance cut's 1 s. Twice the longest: with
# 2048 frames (20.5 s) the booking call's cues still came out the same; a reader reaching further raises FreedFramesError.
LIVE_LOOKBACK_FRAMES = int(round(2 * WINDOW_MAX_SPAN_S / FRAME_HOP_S))  # 4000 frames (40 s)
FOLD_FRAMES = 6144  # frames (~61 s, 24 blocks of 256): folded and freed at once, so a chunk's copy is rare and small


class Transcriber(Protocol):
    def submit(self, role: Role, start_t: float, samples: np.ndarray) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...


class Recorder(Protocol):
    error: str | None

    def write(self, block: Block) -> None: ...


class _UtteranceCutter:
    """Cuts one role's speech into utterances for live transcription."""

    def __init__(self, role: Role) -> None:
        self.role = role
        self._audio = np.zeros(0, np.float32)
        self._audio_start = 0  # absolute sample index of _audio[0]
        self._utt_start: int | None = None  # absolute sample index

    def add_samples(self, samples: np.ndarray) -> None:
        self._audio = np.concatenate([self._audio, samples])
        if self._utt_start is None:  # keep only the pre-roll while nobody speaks
            keep = int((UTTERANCE_PREROLL_S + FRAME_LEN / SAMPLE_RATE + 0.2) * SAMPLE_RATE)
            if len(self._audio) > keep:
                drop = len(self._audio) - keep
                self._audio = self._audio[drop:]
                self._audio_start += drop

    def on_frame(self, k: int, speaking: bool, track: RoleTrack) -> tuple[float, np.ndarray] | None:
        """Update with frame k; returns (start time, samples) when an utterance is complete."""
        center = k * FRAME_HOP + FRAME_LEN // 2
        if self._utt_start is None:
            if speaking:
                self._utt_start = max(self._audio_start, center - int(UTTERANCE_PREROLL_S * SAMPLE_RATE))
            return None
        if not speaking:
            return self._cut(center, reopen=False)
        if center - self._utt_start >= UTTERANCE_MAX_S * SAMPLE_RATE:
            lo = max(0, k - int(CUT_SEARCH_S / FRAME_HOP_S))
            quietest = lo + int(np.argmin(track.db[lo : k + 1]))
            return self._cut(quietest * FRAME_HOP + FRAME_LEN // 2, reopen=True)
        return None

    def flush(self) -> tuple[float, np.ndarray] | None:
        if self._utt_start is None:
            return None
        return self._cut(self._audio_start + len(self._audio), reopen=False)

    def _cut(self, end: int, reopen: bool) -> tuple[float, np.ndarray] | None:
        start = self._utt_start
        assert start is not None
        end = min(end, self._audio_start + len(self._audio))
        samples = self._audio[start - self._audio_start : end - self._audio_start].copy()
        self._utt_start = end if reopen else None
        drop = end - self._audio_start
        self._audio = self._audio[drop:]
        self._audio_start = end
        if len(samples) < UTTERANCE_MIN_S * SAMPLE_RATE:
            return None
        return start / SAMPLE_RATE, samples


class Session:
    """One call's analysis, fed block by block in audio time."""

    def __init__(
        self,
        *,
        has_caller: bool,
        config: CoachConfig | None = None,
        baseline: Baseline | None = None,
        transcriber: Transcriber | None = None,
        recorder: Recorder | None = None,
        speech_maps: dict[Role, np.ndarray] | None = None,
        keep_frames: bool = False,
    ) -> None:
        """`speech_maps`: a role's Silero probabilities computed before (`vad.SpeechMap`), replayed instead
        of running the model again. `keep_frames` keeps every frame of the call in `tracks` (tests and
        benchmarks that read them after `finish`); otherwise frames older than LIVE_LOOKBACK_FRAMES behind the
        rules are folded and freed, so a call of any length holds the same memory, and the call's numbers
        come out identical."""
        self.has_caller = has_caller
        self.keep_frames = keep_frames
        self.config = config or CoachConfig()
        self.coach = Coach(self.config, has_caller)
        self.baseline_tracker = BaselineTracker(baseline)
        self.baseline: Baseline = self.baseline_tracker.current()
        self.transcriber = transcriber
        self.recorder = recorder
        self._recorder_error_reported = False
        maps = speech_maps or {}
        self._prosody = {role: ProsodyTracker(SileroReplay(maps[role]) if role in maps else None) for role in ROLES}
        self._leakage = {role: LeakageEstimator() for role in ROLES}  # the other side as heard in this role's channel
        self.tracks: dict[Role, RoleTrack] = {role: RoleTrack() for role in ROLES}
        self._cutters = {role: _UtteranceCutter(role) for role in ROLES} if transcriber else {}
        self._baseline_done = 0  # frames already given to the baseline tracker
        self._rules_done = 0  # frames already judged by the rules (`run_rules`)
        self._rule_t = 0.0  # s: the end of the frame the rules are judging
        self._listeners: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        self.cues: list[Cue] = []
        self.segments: list[Segment] = []
        self.statuses: list[Status] = []
        self.samples_fed = 0
        self._words_arrived: list[Word] = []  # agent words from the live transcriber, not yet given to the coach
        self._words_scheduled: list[Word] = []  # agent words of a recording, by end time

    # --- events -----------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` with every Cue, Segment, Meters and Status (on the thread that produces it)."""
        self._listeners.append(listener)

    def _publish(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def add_segment(self, segment: Segment) -> None:
        """A final transcript segment (from the transcription worker's thread); its words reach the coach now."""
        with self._lock:
            self.segments.append(segment)
            if segment.role == "agent":
                self._words_arrived.extend(segment.words)
        self.coach.language.add_segment(segment)  # phrase cues (poise/language) at the next rule step
        self._publish(segment)

    def admit_transcript(self, segments: list[Segment]) -> None:
        """A recording's transcript: each agent word reaches the coach WORD_DELAY_S after it ends, as it would live
        (and each segment of either role reaches the language cues as late)."""
        self.coach.language.schedule(segments, WORD_DELAY_S)
        words = [w for seg in segments if seg.role == "agent" for w in seg.words]
        with self._lock:
            self._words_scheduled.extend(words)
            self._words_scheduled.sort(key=lambda w: w.end)

    def _admit_words(self, t: float) -> None:
        with self._lock:
            due = self._words_arrived
            self._words_arrived = []
            cut = 0
            while cut < len(self._words_scheduled) and self._words_scheduled[cut].end + WORD_DELAY_S <= t:
                cut += 1
            due += self._words_scheduled[:cut]
            del self._words_scheduled[:cut]
        if due:
            self.coach.pace.add(due)

    def mark_gap(self, gap: Any) -> None:
        """A device gap (`recorder.Gap`, opened or closed): that side's silence there is no one's silence."""
        gaps = self.coach.device_gaps
        for i, known in enumerate(gaps):
            if known.role == gap.role and known.start_s == gap.start_s:
                gaps[i] = gap  # the gap closed
                return
        gaps.append(gap)

    def report_status(self, status: Status) -> None:
        with self._lock:
            self.statuses.append(status)
        self._publish(status)

    @property
    def time_s(self) -> float:
        return self.samples_fed / SAMPLE_RATE

    # --- the pipeline -----------------------------------------------------------------------
    def feed(self, block: Block) -> None:
        """Process one block of both roles (the caller part is silence when absent)."""
        self.measure(block)
        self.run_rules()

    def measure(self, block: Block) -> None:
        """The acoustic half of `feed`: the block's frames (loudness, speech, pitch) onto the tracks.

        `run_rules` judges them later; a recording measures while Whisper transcribes, because the
        rules need the words and the sound does not.
        """
        agent = np.asarray(block.agent, np.float32)
        caller = np.asarray(block.caller, np.float32) if block.caller is not None else np.zeros_like(agent)
        self.samples_fed += len(agent)
        if self.recorder is not None:
            self._record(block)
        measured = {"agent": self._prosody["agent"].measure(agent), "caller": self._prosody["caller"].measure(caller)}
        frames = {}
        for role, other in (("agent", "caller"), ("caller", "agent")):
            mine, theirs = measured[role], measured[other]
            leak = (
                self._leakage[role].expected(mine.start_index, mine.band_db, theirs.band_db, theirs.prob)
                if self.has_caller
                else None
            )
            frames[role] = self._prosody[role].complete(mine, leak)
        for role in ROLES:
            self.tracks[role].append(frames[role])
        if self._cutters:
            self._cutters["agent"].add_samples(agent)
            self._cutters["caller"].add_samples(caller)

    def run_rules(self) -> None:
        """The cue rules, the baseline, the words' admission, the utterance cuts and the meters over every
        frame measured and not yet judged (each rule reads only frames up to its own, so judging later
        gives the same cues)."""
        agent_track = self.tracks["agent"]
        n = agent_track.n
        while self._rules_done < n:  # a recording's whole call at once: folded chunk by chunk as the rules go
            upto = min(n, self._rules_done + FOLD_FRAMES)
            self._run_rules(self._rules_done, upto)
            self._rules_done = upto
            if not self.keep_frames:
                self._fold(final=False)

    def _fold(self, final: bool) -> None:
        """The call's speech settled (hindsight) and the frames no live reader needs folded and freed."""
        free_below = self._rules_done - LIVE_LOOKBACK_FRAMES
        for track in self.tracks.values():
            if final or free_below - track.speech.base >= FOLD_FRAMES:  # settled only when a chunk is due
                track.settle(ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES, TURN_PAUSE_MAX_FRAMES, final=final)
                track.release(free_below)

    def _run_rules(self, first: int, end: int) -> None:
        agent_track = self.tracks["agent"]
        caller_track = self.tracks["caller"] if self.has_caller else None
        for k in range(first, end):
            self._rule_t = float(frame_end_time(k))
            if k % RULE_STEP_FRAMES == 0:
                self._update_baseline(k - BASELINE_LAG_FRAMES)
                self._admit_words(self._rule_t)
            for cue in self.coach.update(k, agent_track, caller_track, self.baseline):
                self.cues.append(cue)
                self._publish(cue)
            for role, cutter in self._cutters.items():
                if role == "caller" and not self.has_caller:
                    continue
                utterance = cutter.on_frame(k, bool(self.tracks[role].speech[k]), self.tracks[role])
                if utterance is not None and self.transcriber is not None:
                    self.transcriber.submit(role, *utterance)
            if k % METER_STEP_FRAMES == 0 and self._listeners:
                self._publish(self.meters(k))

    def _update_baseline(self, k: int) -> None:
        """Give the baseline the agent's frames before k."""
        lo, hi = self._baseline_done, k
        if hi > lo:
            t = self.tracks["agent"]
            self.baseline_tracker.update(t.db[lo:hi], t.speech[lo:hi], t.f0[lo:hi], t.nucleus[lo:hi])
            self._baseline_done = hi
            self.baseline = self.baseline_tracker.current()
            mismatch = self.baseline_tracker.take_mismatch()  # the voice is not the profile's (baseline.py)
            if mismatch is not None:
                self.report_status(Status(t=round(self._rule_t, 3), level="warning", message=mismatch.message))

    def _record(self, block: Block) -> None:
        assert self.recorder is not None
        if self.recorder.error is None:
            self.recorder.write(block)
        if self.recorder.error is not None and not self._recorder_error_reported:
            self._recorder_error_reported = True
            self.report_status(Status(t=self.time_s, level="error", message=self.recorder.error))

    def meters(self, k: int | None = None) -> Meters:
        """The live numbers at frame k (default: the newest)."""
        agent, caller = self.tracks["agent"], self.tracks["caller"]
        if k is None:
            k = agent.n - 1
        end = k + 1
        rate, rate_speech = agent.rate_sps(agent.window_by_speech(end, PACE_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S), end)
        rate = rate if rate_speech >= 2.0 else None
        f0, _ = agent.median_f0(agent.window_by_voiced(end, PITCH_WINDOW_VOICED_S, WINDOW_MAX_SPAN_S), end)
        db, _ = agent.median_db(agent.window_by_speech(end, VOLUME_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S), end)
        cdb, _ = caller.median_db(caller.window_by_speech(end, VOLUME_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S), end)
        b = self.baseline
        return Meters(
            t=round(float(frame_end_time(k)), 3),
            agent_speaking=bool(agent.speech[k]) if k >= 0 else False,
            caller_speaking=bool(caller.speech[k]) if (k >= 0 and self.has_caller) else False,
            agent_db=db,
            agent_pitch_hz=f0,
            agent_rate_sps=rate,
            agent_wpm_est=wpm_from_rate(rate) if rate is not None else None,
            caller_db=cdb if self.has_caller else None,
            baseline_ready=b.is_ready(),
            baseline_pitch_hz=b.pitch_hz,
            baseline_db=b.db,
            baseline_rate_sps=b.rate_sps,
            caller_heat=heat.heat if self.has_caller and (heat := self.coach.language.heat.latest) is not None else None,
        )

    def finish(self, info: SourceInfo | None = None, segments: list[Segment] | None = None) -> AnalysisResult:
        """End of the call: flush live transcription and compute the whole-call numbers.

        `segments` replaces the live transcript (a recording is transcribed in one pass instead).
        """
        self.run_rules()  # frames measured and not yet judged
        if self.transcriber is not None:
            for role, cutter in self._cutters.items():
                utterance = cutter.flush()
                if utterance is not None and (role == "agent" or self.has_caller):
                    self.transcriber.submit(role, *utterance)
            self.transcriber.stop()
        if segments is not None:
            with self._lock:
                self.segments = list(segments)
        self._update_baseline(self.tracks["agent"].n)
        # the call's numbers may use hindsight the live rules could not: kept whole, applied in place now;
        # otherwise applied as the call went (`_fold`), the rest of it now
        if self.keep_frames:
            for track in self.tracks.values():
                track.date_onsets_back(ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES)
                track.bridge_pauses(TURN_PAUSE_MAX_FRAMES)
            calls = {role: track.call_frames(from_live=False) for role, track in self.tracks.items()}
        else:
            self._fold(final=True)
            calls = {role: track.call_frames() for role, track in self.tracks.items()}
        with self._lock:
            all_segments = sorted(self.segments, key=lambda s: (s.start, s.role))
        transcribed = self.transcriber is not None or segments is not None
        duration = self.time_s
        info = info or SourceInfo(path="", duration_s=duration, sample_rate=SAMPLE_RATE, channels=2 if self.has_caller else 1)
        agent, caller = calls["agent"], calls["caller"] if self.has_caller else None
        return AnalysisResult(
            source=info,
            agent=role_stats(agent, all_segments if transcribed else None, "agent"),
            caller=role_stats(caller, all_segments if transcribed else None, "caller") if caller is not None else None,
            conversation=conversation_stats(agent, caller, self.coach.interruptions),
            cues=list(self.cues),
            segments=all_segments,
            timeline=build_timeline(agent, caller),
            baseline=own if (own := self.baseline_tracker.own()).is_ready() else self.baseline,
            caller_heat=list(self.coach.language.state.heat) if self.has_caller else [],
        )


class SessionRunner:
    """Runs a source through a session on a worker thread (live calls, the demo, the review window)."""

    def __init__(self, source: Iterable[Block], session: Session, info: SourceInfo | None = None) -> None:
        self.source = source
        self.session = session
        self._info = info  # None: ask the source when the call ends (a live source's length grows as it runs)
        self.exception: BaseException | None = None  # what ended the run early, for callers that word it themselves
        self.result: AnalysisResult | None = None
        self.error: str | None = None
        self.on_finished: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name="poise-session", daemon=True)
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the source to end; the worker then finishes the session."""
        self._stopping.set()
        stop = getattr(self.source, "stop", None)
        if stop is not None:
            stop()

    @property
    def info(self) -> SourceInfo | None:
        """The source's description now: read at the end of the call, not when the runner was built."""
        return self._info if self._info is not None else getattr(self.source, "info", None)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            for block in self.source:
                self.session.feed(block)
                if self._stopping.is_set():
                    break
            self.result = self.session.finish(self.info)
        except Exception as exc:  # noqa: BLE001 - the worker must report, never die silently
            self.exception = exc
            self.error = describe(exc)
            self.session.report_status(Status(t=self.session.time_s, level="error", message=self.error))
            try:
                self.result = self.session.finish(self.info)
            except Exception:  # noqa: BLE001
                pass
        finally:
            if self.on_finished is not None:
                self.on_finished()
