"""Cue rules: when a prompt would help the agent, with hysteresis, cooldown and one budget.

The rules read only frames up to "now" (causal) and only acoustic measures, never
words, so a cue appears as soon as the sound shows the drift, and a replayed
recording produces exactly the cues the agent would have seen live.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


from .baseline import hz_to_st
from .prosody import frame_end_time
from .track import RoleTrack
from .types import FRAME_HOP_S, Baseline, Cue

CUE_KINDS: tuple[str, ...] = (
    "slow_down",
    "lower_tone",
    "lower_volume",
    "let_caller_finish",
    "pause_for_caller",
    "dead_air",
    "speak_up",
)
CUE_MESSAGES: dict[str, str] = {
    "slow_down": "Slow down",
    "lower_tone": "Lower your tone",
    "lower_volume": "Soften your voice",
    "let_caller_finish": "Let the caller finish",
    "pause_for_caller": "Pause — invite the caller in",
    "dead_air": "Say what you're doing",
    "speak_up": "Speak up",
}

SYLLABLES_PER_WORD = 1.25  # detected nuclei per transcribed word; calibrated on the read clips (benchmarks/accuracy.py)
RULE_STEP_FRAMES = 10  # slow rules are evaluated every 100 ms of audio
PACE_WINDOW_SPEECH_S = 8.0  # s of recent agent speech the pace is measured over
PACE_MIN_SPEECH_S = 4.0  # s: less speech than this in the window says nothing about pace
PACE_SUSTAIN_STEPS = 10  # 1 s: a pace burst shorter than this is a phrase, not a habit
PITCH_WINDOW_VOICED_S = 3.0  # s of recent voiced agent frames for the pitch median
VOLUME_WINDOW_SPEECH_S = 1.0  # s of recent voiced agent speech for the loudness median (reacts within ~1 s)
VOLUME_QUICK_WINDOW_S = 0.4  # s of voiced speech for the quick loudness check
VOLUME_QUICK_EXTRA_DB = 2.0  # dB over the volume threshold the quick check needs (a short window is noisier)
QUIET_WINDOW_SPEECH_S = 2.0  # s for "speak up": quietness must last longer than a trailing-off word
WINDOW_MAX_SPAN_S = 20.0  # s: older speech is not "recent", however little was said since
RECENT_SPEECH_S = 1.0  # s: the agent must have spoken this recently for a pace/tone/volume cue
CALLER_FLOOR_MIN_S = 0.8  # s the caller must have been talking to hold the floor
CALLER_HEARD_RECENT_S = 0.3  # s: the caller was audible this recently, so an agent onset cuts into their turn
CALLER_TURN_GAP_S = 0.5  # s: a shorter caller pause does not end their turn
CALLER_TURN_MIN_S = 1.0  # s: a caller utterance this long ends an agent monologue (shorter is a backchannel)
VOICE_RECENT_FRAMES = 3  # 30 ms: the agent is still talking, not trailing off into the activity hangover
OVERLAP_GAP_FRAMES = 5  # 50 ms dips inside the agent's overlapping speech do not restart it


@dataclass
class CoachConfig:
    """Every threshold the user can tune (Settings), with defaults from the design's norms."""

    enabled: dict[str, bool] = field(default_factory=lambda: {k: True for k in CUE_KINDS})
    pace_ratio: float = 1.25  # recent pace / own normal that triggers "slow down" (≥ 15 %: a tempo change listeners notice)
    pace_ceiling_wpm: float = 220.0  # estimated wpm above which "slow down" fires whatever the normal
    target_wpm_low: float = 125.0  # comfortable band for phone speech (shown in the live view)
    target_wpm_high: float = 165.0
    pitch_rise_st: float = 3.0  # semitones above own normal (2.5 fired on the natural intonation of read speech)
    volume_rise_db: float = 6.0  # dB above own normal
    volume_drop_db: float = 8.0  # dB below own normal
    backchannel_max_s: float = 0.55  # agent speech shorter than this inside a caller turn is "mm-hm", "okay" (~0.3-0.5 s)
    monologue_s: float = 45.0  # s of agent talk without a caller turn
    dead_air_s: float = 6.0  # s of mutual silence mid-call
    cooldown_s: float = 20.0  # s between two cues of the same kind
    display_s: float = 4.0  # s a cue stays on screen; no other cue starts meanwhile

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoachConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        config = cls(**known)
        config.enabled = {k: bool(config.enabled.get(k, True)) for k in CUE_KINDS}
        return config


def wpm_from_rate(rate_sps: float) -> float:
    """Estimated words per minute of an articulation rate in syllable nuclei per second."""
    return rate_sps * 60.0 / SYLLABLES_PER_WORD


class _Hysteresis:
    """Fires when a value crosses `on`, then stays quiet until it falls back past `off`."""

    def __init__(self) -> None:
        self.armed = True

    def check(self, triggered: bool, released: bool) -> bool:
        if not self.armed:
            if released:
                self.armed = True
            return False
        return triggered


class Coach:
    """Turns two role tracks into cues, frame by frame."""

    def __init__(self, config: CoachConfig | None = None, has_caller: bool = True) -> None:
        self.config = config or CoachConfig()
        self.has_caller = has_caller
        self._hyst = {kind: _Hysteresis() for kind in CUE_KINDS}
        self._last_fired: dict[str, float] = {}
        self._screen_free_at = 0.0
        # floor state, in frame indices
        self._agent_run_start: int | None = None  # start of the agent's current talk spurt
        self._agent_gap = 0
        self._last_agent_speech: int | None = None
        self._caller_turn_start: int | None = None
        self._caller_last_speech = -10**9
        self._caller_last_heard = -10**9  # last frame the caller was audible (not just inside the VAD hangover)
        self._caller_run_start: int | None = None
        self._overlap_start: int | None = None  # agent onset inside a caller turn
        self._overlap_counted = False
        self._monologue_start: int | None = None
        self._last_any_speech: int | None = None
        self._dead_air_open = False
        self._agent: RoleTrack | None = None
        self._pace_over_steps = 0  # consecutive rule steps with the pace over its threshold
        self.interruptions = 0  # agent took the floor from the caller (counted whatever the cue budget)

    # --- the budget ------------------------------------------------------------------------
    def _emit(self, kind: str, t: float, evidence: dict[str, Any]) -> Cue | None:
        """A cue if its kind is enabled and the budget allows it now; None leaves the rule armed."""
        cfg = self.config
        if not cfg.enabled.get(kind, True):
            return None
        if t < self._screen_free_at or t - self._last_fired.get(kind, -1e9) < cfg.cooldown_s:
            return None
        self._hyst[kind].armed = False
        self._last_fired[kind] = t
        self._screen_free_at = t + cfg.display_s
        return Cue(t=round(t, 3), kind=kind, message=CUE_MESSAGES[kind], evidence=evidence)

    # --- per frame ---------------------------------------------------------------------------
    def _agent_heard_within(self, k: int, frames: int) -> bool:
        """Whether the agent was actually audible lately (not just inside the activity detector's hangover)."""
        assert self._agent is not None
        return bool(self._agent.active[max(0, k - frames + 1) : k + 1].any())

    def update(self, k: int, agent: RoleTrack, caller: RoleTrack | None, baseline: Baseline) -> list[Cue]:
        """Rules at frame index k (both tracks hold frames up to and including k)."""
        t = float(frame_end_time(k))
        self._agent = agent
        cues: list[Cue] = []
        agent_speaking = bool(agent.speech[k])
        caller_speaking = bool(caller.speech[k]) if caller is not None else False
        if caller is not None and caller.active[k]:
            self._caller_last_heard = k
        self._update_floor(k, agent_speaking, caller_speaking)

        cue = self._let_caller_finish(k, t, agent_speaking)
        if cue:
            cues.append(cue)
        if k % RULE_STEP_FRAMES == 0:
            for rule in (self._dead_air, self._pause_for_caller):
                cue = rule(k, t)
                if cue:
                    cues.append(cue)
            if baseline.is_ready() and self._agent_spoke_within(k, RECENT_SPEECH_S):
                for rule in (self._slow_down, self._lower_tone, self._lower_volume, self._speak_up):
                    cue = rule(k, t, agent, baseline)
                    if cue:
                        cues.append(cue)
        return cues

    def _agent_spoke_within(self, k: int, seconds: float) -> bool:
        return self._agent_run_start is not None or (
            self._last_agent_speech is not None and k - self._last_agent_speech <= seconds / FRAME_HOP_S
        )

    def _update_floor(self, k: int, agent_speaking: bool, caller_speaking: bool) -> None:
        # caller turn: speech with pauses under CALLER_TURN_GAP_S
        if caller_speaking:
            if self._caller_turn_start is None or k - self._caller_last_speech > CALLER_TURN_GAP_S / FRAME_HOP_S:
                self._caller_turn_start = k
            if self._caller_run_start is None:
                self._caller_run_start = k
            self._caller_last_speech = k
            if (k - self._caller_run_start) * FRAME_HOP_S >= CALLER_TURN_MIN_S:
                self._monologue_start = None  # the caller took a real turn
                self._hyst["pause_for_caller"].armed = True
        else:
            self._caller_run_start = None
            if self._caller_turn_start is not None and k - self._caller_last_speech > CALLER_TURN_GAP_S / FRAME_HOP_S:
                self._caller_turn_start = None

        # agent talk spurts, tolerant of short dips
        if agent_speaking:
            if self._agent_run_start is None:
                self._agent_run_start = k
                self._on_agent_onset(k)
            self._agent_gap = 0
            self._last_agent_speech = k
            if self._monologue_start is None:
                self._monologue_start = k
        elif self._agent_run_start is not None:
            self._agent_gap += 1
            if self._agent_gap > OVERLAP_GAP_FRAMES:
                self._agent_run_start = None
                self._overlap_start = None

        if agent_speaking or caller_speaking:
            self._last_any_speech = k
            if self._dead_air_open:
                self._dead_air_open = False
                self._hyst["dead_air"].armed = True

    def _caller_holds_floor(self, k: int) -> bool:
        if self._caller_turn_start is None:
            return False
        recent = k - self._caller_last_heard <= CALLER_HEARD_RECENT_S / FRAME_HOP_S
        return recent and (k - self._caller_turn_start) * FRAME_HOP_S >= CALLER_FLOOR_MIN_S

    def _on_agent_onset(self, k: int) -> None:
        if self.has_caller and self._caller_holds_floor(k):
            self._overlap_start = k
            self._overlap_counted = False

    # --- rules ---------------------------------------------------------------------------------
    def _let_caller_finish(self, k: int, t: float, agent_speaking: bool) -> Cue | None:
        if self._overlap_start is None or self._agent_run_start is None:
            return None
        held = (k - self._overlap_start + 1) * FRAME_HOP_S
        if held < self.config.backchannel_max_s or not self._agent_heard_within(k, VOICE_RECENT_FRAMES):
            return None
        if not self._overlap_counted:
            self._overlap_counted = True
            self.interruptions += 1
            self._hyst["let_caller_finish"].armed = True
        if not self._hyst["let_caller_finish"].check(True, False):
            return None
        cue = self._emit(
            "let_caller_finish",
            t,
            {"overlap_start": round(float(frame_end_time(self._overlap_start)) - 0.04, 3), "agent_held_s": round(held, 2)},
        )
        if cue is None and held > self.config.backchannel_max_s + 1.0:
            self._hyst["let_caller_finish"].armed = False  # too late to help; wait for the next overlap
        return cue

    def _pause_for_caller(self, k: int, t: float) -> Cue | None:
        if not self.has_caller or self._monologue_start is None or self._agent_run_start is None:
            return None
        length = (k - self._monologue_start) * FRAME_HOP_S
        if not self._hyst["pause_for_caller"].check(length >= self.config.monologue_s, False):
            return None
        return self._emit("pause_for_caller", t, {"monologue_s": round(length, 1)})

    def _dead_air(self, k: int, t: float) -> Cue | None:
        if not self.has_caller or self._last_any_speech is None:
            return None  # agent-only audio cannot tell silence from listening; or the call has not started
        silence = (k - self._last_any_speech) * FRAME_HOP_S
        if silence < self.config.dead_air_s:
            return None
        self._dead_air_open = True
        if not self._hyst["dead_air"].check(True, False):
            return None
        return self._emit("dead_air", t, {"silence_s": round(silence, 1)})

    def _slow_down(self, k: int, t: float, agent: RoleTrack, baseline: Baseline) -> Cue | None:
        start = agent.window_by_speech(k + 1, PACE_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S)
        rate, speech_s = agent.rate_sps(start, k + 1)
        if rate is None or speech_s < PACE_MIN_SPEECH_S or not baseline.rate_sps:
            return None
        cfg = self.config
        ratio = rate / baseline.rate_sps
        wpm = wpm_from_rate(rate)
        over = ratio >= cfg.pace_ratio or wpm >= cfg.pace_ceiling_wpm
        self._pace_over_steps = self._pace_over_steps + 1 if over else 0
        triggered = self._pace_over_steps >= PACE_SUSTAIN_STEPS
        released = ratio < cfg.pace_ratio - 0.1 and wpm < cfg.pace_ceiling_wpm * 0.9
        if not self._hyst["slow_down"].check(triggered, released):
            return None
        return self._emit(
            "slow_down",
            t,
            {
                "rate_sps": round(rate, 2),
                "baseline_rate_sps": round(baseline.rate_sps, 2),
                "wpm": round(wpm, 1),
                "baseline_wpm": round(wpm_from_rate(baseline.rate_sps), 1),
            },
        )

    def _lower_tone(self, k: int, t: float, agent: RoleTrack, baseline: Baseline) -> Cue | None:
        start = agent.window_by_voiced(k + 1, PITCH_WINDOW_VOICED_S, WINDOW_MAX_SPAN_S)
        f0, voiced_s = agent.median_f0(start, k + 1)
        if f0 is None or voiced_s < PITCH_WINDOW_VOICED_S / 2 or not baseline.pitch_hz:
            return None
        rise = float(hz_to_st(f0) - hz_to_st(baseline.pitch_hz))
        if not self._hyst["lower_tone"].check(rise >= self.config.pitch_rise_st, rise < self.config.pitch_rise_st - 1.0):
            return None
        return self._emit(
            "lower_tone", t, {"pitch_hz": round(f0, 1), "baseline_pitch_hz": round(baseline.pitch_hz, 1), "rise_st": round(rise, 2)}
        )

    def _lower_volume(self, k: int, t: float, agent: RoleTrack, baseline: Baseline) -> Cue | None:
        if baseline.db is None:
            return None
        start = agent.window_by_voiced(k + 1, VOLUME_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S)
        db, speech_s = agent.median_db(start, k + 1)
        if db is None or speech_s < VOLUME_WINDOW_SPEECH_S / 2:
            return None
        rise = db - baseline.db
        # a clearly louder voice is caught sooner on a shorter window
        quick_start = agent.window_by_voiced(k + 1, VOLUME_QUICK_WINDOW_S, WINDOW_MAX_SPAN_S)
        quick_db, quick_s = agent.median_db(quick_start, k + 1)
        quick = quick_db is not None and quick_s >= VOLUME_QUICK_WINDOW_S / 2 and (
            quick_db - baseline.db >= self.config.volume_rise_db + VOLUME_QUICK_EXTRA_DB
        )
        triggered = rise >= self.config.volume_rise_db or quick
        calm = self.config.volume_rise_db - 2.0
        released = rise < calm and (quick_db is None or quick_db - baseline.db < calm)
        if not self._hyst["lower_volume"].check(triggered, released):
            return None
        if quick and rise < self.config.volume_rise_db:
            db, rise = quick_db, quick_db - baseline.db
        return self._emit("lower_volume", t, {"db": round(db, 1), "baseline_db": round(baseline.db, 1), "rise_db": round(rise, 1)})

    def _speak_up(self, k: int, t: float, agent: RoleTrack, baseline: Baseline) -> Cue | None:
        start = agent.window_by_voiced(k + 1, QUIET_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S)
        db, speech_s = agent.median_db(start, k + 1)
        if db is None or speech_s < QUIET_WINDOW_SPEECH_S * 0.8 or baseline.db is None:
            return None
        drop = baseline.db - db
        if not self._hyst["speak_up"].check(drop >= self.config.volume_drop_db, drop < self.config.volume_drop_db - 2.0):
            return None
        return self._emit("speak_up", t, {"db": round(db, 1), "baseline_db": round(baseline.db, 1), "drop_db": round(drop, 1)})
