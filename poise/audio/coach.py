"""Cue rules: when a prompt would help the agent, with hysteresis, cooldown and one budget.

The rules read only frames up to "now" (causal). Pitch, loudness and the floor come from
the sound, so they react within a second or two; pace comes from the agent's transcribed
words (`pace.py`), admitted with the delay they have live, so a replayed recording
produces the cues the agent would have seen live.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any


from .baseline import hz_to_st
from .pace import WordPace
from .prosody import frame_end_time
from .track import RoleTrack
from .types import FRAME_HOP_S, Baseline, Cue
from poise.language.coach import ACKNOWLEDGE_AFTER_S, LANGUAGE_KINDS, LANGUAGE_MESSAGES, LanguageCoach

CUE_KINDS: tuple[str, ...] = (
    "slow_down",
    "lower_tone",
    "lower_volume",
    "let_caller_finish",
    "pause_for_caller",
    "dead_air",
    "speak_up",
) + LANGUAGE_KINDS  # acknowledge, avoid_defensive, set_boundary, next_steps: from the words (poise/language)
PREEMPTING_KINDS = frozenset({"let_caller_finish"})  # helps only within a second: it replaces a cue on screen
CUE_MESSAGES: dict[str, str] = {
    "slow_down": "Slow down",
    "lower_tone": "Lower your tone",
    "lower_volume": "Soften your voice",
    "let_caller_finish": "Let the caller finish",
    "pause_for_caller": "Pause — invite the caller in",
    "dead_air": "Say what you're doing",
    "speak_up": "Speak up",
    **LANGUAGE_MESSAGES,
}

SYLLABLES_PER_WORD = 1.25  # detected nuclei per transcribed word; calibrated on the read clips (benchmarks/accuracy.py)
RULE_STEP_FRAMES = 10  # slow rules are evaluated every 100 ms of audio
PACE_WINDOW_SPEECH_S = 8.0  # s of recent agent speech the acoustic pace (meters, timeline) is measured over
FAREWELL_TAIL_S = 1.5  # s of sound after a goodbye's last word that still belongs to it (the other side's "bye",
#   Whisper ending the word early)
PACE_SUSTAIN_STEPS = 5  # 0.5 s (about two words): one quick phrase is not a habit
PITCH_WINDOW_VOICED_S = 3.0  # s of recent voiced agent frames for the pitch median
VOLUME_WINDOW_SPEECH_S = 1.2  # s of recent voiced agent speech for the loudness median (one stressed word is < half)
PHRASE_MIN_VOICED_S = 0.2  # s of voiced frames in the current phrase before its own level counts
VOLUME_SUSTAIN_STEPS = 4  # 0.4 s: the median must stay raised this long (a raised voice, not an exclamation)
QUIET_WINDOW_SPEECH_S = 2.0  # s of speech for "speak up": quietness must last longer than a trailing-off word
QUIET_SUSTAIN_STEPS = 10  # 1 s
QUIET_MIN_VOICED_S = 0.3  # s of voiced frames in that window (30 frames for the median): a quiet voice under 10 dB
#   SNR pink noise is pitched in one frame in four to six (0.35-0.5 s of 2 s), and at 0.5 s the read call's went uncued
NOISE_MIN_S = 1.0  # s of line-noise frames in WINDOW_MAX_SPAN_S before the noise is taken out of her level
NOISE_CORRECTION_MAX_DB = 6.0  # dB: taking the noise out lowers a level at most this much (a voice at the noise's own
#   level says nothing of how quiet it is)
WINDOW_MAX_SPAN_S = 20.0  # s: older speech is not "recent", however little was said since
SPEAKING_NOW_S = 0.3  # s: pace/tone/volume cues only while the agent is talking (audible this recently)
CALLER_FLOOR_MIN_S = 0.5  # s the caller must have been talking to hold the floor (with the 1 s hold: a 1.5 s+ utterance)
CALLER_HEARD_RECENT_S = 0.5  # s: the caller was heard this recently before the agent's onset (at 0.3 s an agent starting
#   0.4 s into a caller's mid-turn pause, the caller going on at once, was not cued; the fire-time check keeps handovers out)
CALLER_STILL_TALKING_S = 0.25  # s: when the cue fires, the caller was audible this recently (not a handover)
CALLER_TURN_GAP_S = 0.5  # s: a shorter caller pause does not end their turn
CALLER_TURN_MIN_S = 1.0  # s: a caller utterance this long ends an agent monologue (shorter is a backchannel)
FLOOR_JUDGE_MAX_S = 2.0  # s after the agent's onset: later, a cue would no longer help (1 s of her speech must fit)
FLOOR_TAKE_PAUSE_S = 0.5  # s: a shorter pause of the agent's does not end her floor take (a built interrupt paused
#   0.46 s after 0.85 s of speech and went on over the caller); the pause does not count towards the hold
ONSET_BACKDATE_FRAMES = 40  # 400 ms: the speech model confirms a voice up to this late; the onset is the first audible frame
ONSET_GAP_FRAMES = 8  # 80 ms: a stop consonant's closure inside the onset (50-100 ms; at 30 ms a quiet first
#   syllable and its closure dated an onset 0.25 s late on the real call)
VOICE_RECENT_FRAMES = 3  # 30 ms: the agent is still talking, not trailing off into the activity hangover
OVERLAP_GAP_FRAMES = 5  # 50 ms dips inside the agent's overlapping speech do not restart it
VOICED_SOUND_MIN_FRAMES = 8  # 80 ms of own-level periodic sound is a voice (a vowel; a hummed "mm-hmm": 0.3-0.5 s), not a click


@dataclass
class CoachConfig:
    """Every threshold the user can tune (Settings), with defaults from the design's norms."""

    enabled: dict[str, bool] = field(default_factory=lambda: {k: True for k in CUE_KINDS})
    pace_ratio: float = 1.3  # recent pace / own normal that triggers "slow down" (words inside phrases: pace.py)
    pace_ceiling_wpm: float = 280.0  # estimated wpm above which "slow down" fires whatever the normal (240 cued fast talkers' normal)
    target_wpm_low: float = 125.0  # comfortable band for phone speech (shown in the live view)
    target_wpm_high: float = 165.0
    pitch_rise_st: float = 3.0  # semitones above own normal (2.5 fired on the natural intonation of read speech)
    volume_rise_db: float = 6.0  # dB above own normal
    volume_drop_db: float = 8.0  # dB below own normal
    backchannel_max_s: float = 1.0  # agent speech shorter than this inside a caller turn is a backchannel: "mm-hm",
    #   "okay" (0.2-0.5 s), but also "Menu, alright" (0.66 s) and "Mm. Yeah." (0.74 s) on the AMI headsets and the
    #   booking agent's 0.94 s acknowledgement; at 0.55 s the rule cued 52 of 84 built backchannels of 0.59-0.94 s
    #   (and their cooldown hid real floor takes), at 1.0 s none, all 30 floor takes still cued, 1.0 s after the onset
    monologue_s: float = 45.0  # s of agent talk without a caller turn
    dead_air_s: float = 6.0  # s of mutual silence mid-call
    cooldown_s: float = 20.0  # s between two cues of the same kind
    display_s: float = 4.0  # s a cue stays on screen; no other cue starts meanwhile
    acknowledge_after_s: float = ACKNOWLEDGE_AFTER_S  # s the caller is heated before "Acknowledge" (poise/language/coach.py)

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
    """Turns two role tracks (and the agent's words) into cues, frame by frame."""

    def __init__(self, config: CoachConfig | None = None, has_caller: bool = True) -> None:
        self.config = config or CoachConfig()
        self.has_caller = has_caller
        self.pace = WordPace()  # the agent's words, fed by the Session as they arrive
        self._hyst = {kind: _Hysteresis() for kind in CUE_KINDS}
        self._last_fired: dict[str, float] = {}
        self._screen_free_at = 0.0
        # floor state, in frame indices
        self._agent_run_start: int | None = None  # first speech frame of the agent's current talk spurt
        self._agent_gap = 0
        self._last_agent_speech: int | None = None
        self._caller_turn_start: int | None = None
        self._caller_last_speech = -10**9
        self._caller_run_start: int | None = None
        self._floor_take: int | None = None  # onset of an agent spurt that began inside a caller turn, not yet judged
        self._floor_take_counted = False
        self._floor_take_turn: int | None = None
        self._floor_take_quiet = 0  # frames of the agent's bridged pauses since the floor take's onset
        self._paused_take: tuple[int, int | None, bool, int] | None = None  # (onset, turn, counted, quiet since)
        self._monologue_start: int | None = None
        self._last_any_speech: int | None = None
        self._dead_air_open = False
        self.device_gaps: list[Any] = []  # recorder.Gap: a side whose device delivered nothing (its silence is not the call's)
        self._steps_over = {kind: 0 for kind in CUE_KINDS}  # consecutive rule steps over the threshold
        self.interruptions = 0  # agent took the floor from the caller (counted whatever the cue budget)
        self.language = LanguageCoach(self.config.acknowledge_after_s)  # the words' cues; the Session feeds it segments

    # --- the budget ------------------------------------------------------------------------
    def _emit(self, kind: str, t: float, evidence: dict[str, Any]) -> Cue | None:
        """A cue if its kind is enabled and the budget allows it now; None leaves the rule armed."""
        cfg = self.config
        if not cfg.enabled.get(kind, True):
            return None
        screen_busy = t < self._screen_free_at and kind not in PREEMPTING_KINDS
        if screen_busy or t - self._last_fired.get(kind, -1e9) < cfg.cooldown_s:
            return None
        self._hyst[kind].armed = False
        self._last_fired[kind] = t
        self._screen_free_at = t + cfg.display_s
        return Cue(t=round(t, 3), kind=kind, message=CUE_MESSAGES[kind], evidence=evidence)

    def _offer(self, kind: str, t: float, evidence: dict[str, Any], message: str | None = None) -> Cue | None:
        """A language cue through the same budget; `message` replaces the catalogue's (a better phrase)."""
        cue = self._emit(kind, t, evidence)
        if cue is not None and message:
            cue.message = message
        return cue

    def _sustained(self, kind: str, over: bool, steps: int) -> bool:
        """Whether `over` has held for `steps` consecutive rule steps."""
        self._steps_over[kind] = self._steps_over[kind] + 1 if over else 0
        return self._steps_over[kind] >= steps

    # --- per frame ---------------------------------------------------------------------------
    def update(self, k: int, agent: RoleTrack, caller: RoleTrack | None, baseline: Baseline) -> list[Cue]:
        """Rules at frame index k (both tracks hold frames up to and including k)."""
        t = float(frame_end_time(k))
        cues: list[Cue] = []
        agent_speaking = bool(agent.speech[k])
        caller_speaking = bool(caller.speech[k]) if caller is not None else False
        self._update_floor(k, agent, caller, agent_speaking, caller_speaking)

        if caller is not None:
            cue = self._let_caller_finish(k, t, agent, caller)
            if cue:
                cues.append(cue)
        if k % RULE_STEP_FRAMES == 0:
            cues += self.language.step(k, t, caller, self._offer)
            for rule in (self._dead_air, self._pause_for_caller):
                cue = rule(k, t)
                if cue:
                    cues.append(cue)
            speaking_now = agent_speaking and _heard_within(agent, k, int(SPEAKING_NOW_S / FRAME_HOP_S))
            if speaking_now:  # pace needs only her words' own normal; pitch and loudness a calibrated baseline
                rules = (self._slow_down,) + ((self._lower_tone, self._lower_volume, partial(self._speak_up, caller=caller))
                                               if baseline.is_ready() else ())
                for rule in rules:
                    cue = rule(k, t, agent, baseline)
                    if cue:
                        cues.append(cue)
        return cues

    def _update_floor(
        self, k: int, agent: RoleTrack, caller: RoleTrack | None, agent_speaking: bool, caller_speaking: bool
    ) -> None:
        # caller turn: speech with pauses under CALLER_TURN_GAP_S
        if caller_speaking:
            if self._caller_turn_start is None or k - self._caller_last_speech > CALLER_TURN_GAP_S / FRAME_HOP_S:
                self._caller_turn_start = _first_audible(caller, k) if caller is not None else k
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
                paused = self._paused_take
                if paused is not None and (k - paused[3]) * FRAME_HOP_S <= FLOOR_TAKE_PAUSE_S:
                    self._floor_take, self._floor_take_turn, self._floor_take_counted, _ = paused
                    self._floor_take_quiet += k - paused[3]
                else:
                    onset = _first_audible(agent, k)  # the speech model confirms a voice later than it is heard
                    self._floor_take = onset if caller is not None and self._caller_held_floor_at(onset, caller) else None
                    self._floor_take_counted = False
                    self._floor_take_turn = self._caller_turn_start  # the caller turn it cut into (pauses < 0.5 s keep it going)
                    self._floor_take_quiet = 0
                self._paused_take = None
            self._agent_gap = 0
            self._last_agent_speech = k
            if self._monologue_start is None:
                self._monologue_start = k
        elif self._agent_run_start is not None:
            self._agent_gap += 1
            if self._agent_gap > OVERLAP_GAP_FRAMES:
                if self._floor_take is not None:
                    self._paused_take = (self._floor_take, self._floor_take_turn, self._floor_take_counted, k - self._agent_gap + 1)
                self._agent_run_start = self._floor_take = None

        heard_voice = agent_speaking or caller_speaking or _voiced_sound_ends_at(agent, k)
        if caller is not None and not heard_voice:
            heard_voice = _voiced_sound_ends_at(caller, k)
        if heard_voice:  # a hummed backchannel the speech model misses still shows the line is alive
            self._last_any_speech = k
            if self._dead_air_open:
                self._dead_air_open = False
                self._hyst["dead_air"].armed = True

    def _caller_held_floor_at(self, onset: int, caller: RoleTrack) -> bool:
        """The caller was in a turn of at least CALLER_FLOOR_MIN_S and audible just before `onset`."""
        if self._caller_turn_start is None or (onset - self._caller_turn_start) * FRAME_HOP_S < CALLER_FLOOR_MIN_S:
            return False
        lo = max(0, onset - int(CALLER_HEARD_RECENT_S / FRAME_HOP_S))
        return bool(caller.active[lo : onset + 1].any())

    # --- rules ---------------------------------------------------------------------------------
    def _let_caller_finish(self, k: int, t: float, agent: RoleTrack, caller: RoleTrack) -> Cue | None:
        """The agent has talked past a backchannel into the caller's turn and the caller is still talking."""
        onset = self._floor_take
        if onset is None:
            return None
        held = (k - onset + 1 - self._floor_take_quiet) * FRAME_HOP_S
        if (k - onset + 1) * FRAME_HOP_S > FLOOR_JUDGE_MAX_S:
            self._floor_take = None  # too late to help; wait for the next one
            return None
        if held < self.config.backchannel_max_s or not _heard_within(agent, k, VOICE_RECENT_FRAMES):
            return None
        same_turn = self._caller_turn_start is not None and self._caller_turn_start == self._floor_take_turn
        caller_still_talking = same_turn and _heard_within(caller, k, int(CALLER_STILL_TALKING_S / FRAME_HOP_S))
        if not caller_still_talking:
            return None
        if not self._floor_take_counted:
            self.interruptions += 1
            self._floor_take_counted = True
        cue = self._emit(
            "let_caller_finish",
            t,
            {"overlap_start": round(float(frame_end_time(onset)) - 0.04, 3), "agent_held_s": round(held, 2)},
        )
        if cue is not None:
            self._floor_take = None
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
        farewell_end = self.language.farewell_end  # words reach the coach 1-2 s late, well before dead_air_s has passed
        if farewell_end is not None and farewell_end >= self._last_any_speech * FRAME_HOP_S - FAREWELL_TAIL_S:
            return None  # nobody has spoken since a goodbye: the call is over, not stalled
        silence = (k - self._last_any_speech) * FRAME_HOP_S
        for gap in list(self.device_gaps):  # a lost headset is not dead air, and the clock restarts when it is back
            if gap.start_s <= t and (gap.end_s is None or gap.end_s > t):
                return None
            if gap.end_s is not None and t - gap.end_s < silence:
                silence = t - gap.end_s
        if silence < self.config.dead_air_s:
            return None
        self._dead_air_open = True
        if not self._hyst["dead_air"].check(True, False):
            return None
        return self._emit("dead_air", t, {"silence_s": round(silence, 1)})

    def _slow_down(self, k: int, t: float, agent: RoleTrack, baseline: Baseline) -> Cue | None:
        """Pace from her words against her own normal (pace.py); needs no acoustic baseline."""
        reading = self.pace.recent(t)
        if reading is None:
            return None
        cfg = self.config
        over = reading.ratio >= cfg.pace_ratio or (reading.wpm or 0.0) >= cfg.pace_ceiling_wpm
        triggered = self._sustained("slow_down", over, PACE_SUSTAIN_STEPS)
        released = reading.ratio < cfg.pace_ratio - 0.1 and (reading.wpm or 0.0) < cfg.pace_ceiling_wpm * 0.9
        if not self._hyst["slow_down"].check(triggered, released):
            return None
        evidence = {
            "rate_sps": round(reading.rate_sps, 2),
            "baseline_rate_sps": round(reading.baseline_rate_sps, 2),
            "ratio": round(reading.ratio, 2),
            "wpm": round(reading.wpm, 1) if reading.wpm is not None else None,
            "baseline_wpm": round(reading.baseline_wpm, 1) if reading.baseline_wpm is not None else None,
        }
        return self._emit("slow_down", t, evidence)

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

    def _phrase_raised(self, k: int, agent: RoleTrack, window_start: int, baseline_db: float) -> bool:
        """The part of the window in the phrase she is saying now is raised too, not only a window that still
        holds an earlier phrase (on the built calls the tail of a loud phrase plus the first words of the next
        made 4 of 8 false cues)."""
        if self._agent_run_start is None:
            return False
        db, voiced_s = agent.median_db(max(self._agent_run_start, window_start), k + 1)
        return db is not None and voiced_s >= PHRASE_MIN_VOICED_S and db - baseline_db >= self.config.volume_rise_db

    def _lower_volume(self, k: int, t: float, agent: RoleTrack, baseline: Baseline) -> Cue | None:
        if baseline.db is None:
            return None
        start = agent.window_by_voiced(k + 1, VOLUME_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S)
        db, voiced_s = agent.median_db(start, k + 1)
        if db is None or voiced_s < VOLUME_WINDOW_SPEECH_S / 2:
            return None
        rise = db - baseline.db
        over = rise >= self.config.volume_rise_db and self._phrase_raised(k, agent, start, baseline.db)
        triggered = self._sustained("lower_volume", over, VOLUME_SUSTAIN_STEPS)
        if not self._hyst["lower_volume"].check(triggered, rise < self.config.volume_rise_db - 2.0):
            return None
        return self._emit("lower_volume", t, {"db": round(db, 1), "baseline_db": round(baseline.db, 1), "rise_db": round(rise, 1)})

    def _speak_up(self, k: int, t: float, agent: RoleTrack, baseline: Baseline, caller: RoleTrack | None = None) -> Cue | None:
        """Her voiced level over the last QUIET_WINDOW_SPEECH_S of *speech*: a quiet voice in line noise keeps
        its pitch in only a third of its speech, so a window of 2 s of voiced frames reached back 15-20 s into
        her normal voice and two of four quiet stretches under 10 dB SNR pink noise went uncued. Both levels
        have the rest of the line's noise taken out (the frames' loudness has only the noise floor's low edge
        out, prosody.py): under 10 dB SNR pink noise a voice 10 dB down read 6-8 dB down, now 8-12."""
        if baseline.db is None:
            return None
        start = agent.window_by_speech(k + 1, QUIET_WINDOW_SPEECH_S, WINDOW_MAX_SPAN_S)
        db, voiced_s = agent.median_db(start, k + 1)
        speech_s = agent.speech_frames_between(start, k + 1) * FRAME_HOP_S
        if db is None or voiced_s < QUIET_MIN_VOICED_S or speech_s < QUIET_WINDOW_SPEECH_S * 0.8:
            return None
        drop = baseline.db - db
        if drop + NOISE_CORRECTION_MAX_DB >= self.config.volume_drop_db - 2.0:  # else taking the noise out changes nothing
            noise = agent.noise_power_db(max(0, k + 1 - int(WINDOW_MAX_SPAN_S / FRAME_HOP_S)), k + 1, NOISE_MIN_S, caller)
            drop = _above_noise(baseline.db, noise) - _above_noise(db, noise)
        triggered = self._sustained("speak_up", drop >= self.config.volume_drop_db, QUIET_SUSTAIN_STEPS)
        if not self._hyst["speak_up"].check(triggered, drop < self.config.volume_drop_db - 2.0):
            return None
        return self._emit("speak_up", t, {"db": round(db, 1), "baseline_db": round(baseline.db, 1), "drop_db": round(drop, 1)})


def _above_noise(db: float, noise_db: float | None) -> float:
    """A level with the noise's power taken out of it (at most NOISE_CORRECTION_MAX_DB lower)."""
    if noise_db is None:
        return db
    rest = 10.0 ** (db / 10.0) - 10.0 ** (noise_db / 10.0)
    return db - NOISE_CORRECTION_MAX_DB if rest <= 0 else max(10.0 * math.log10(rest), db - NOISE_CORRECTION_MAX_DB)


def _first_audible(track: RoleTrack, k: int) -> int:
    """The first frame of the audible run that ends at k (the speech model confirms a voice 30-400 ms late);
    dips of up to ONSET_GAP_FRAMES inside the run (a stop consonant) do not end it."""
    onset, gap, i = k, 0, k - 1
    while i >= max(0, k - ONSET_BACKDATE_FRAMES):
        if track.audible[i]:
            onset, gap = i, 0
        else:
            gap += 1
            if gap > ONSET_GAP_FRAMES:
                break
        i -= 1
    return onset


def _voiced_sound_ends_at(track: RoleTrack, k: int) -> bool:
    """Frame k ends at least VOICED_SOUND_MIN_FRAMES of own-level periodic sound."""
    return k + 1 >= VOICED_SOUND_MIN_FRAMES and bool(track.voiced_sound[k + 1 - VOICED_SOUND_MIN_FRAMES : k + 1].all())


def _heard_within(track: RoleTrack, k: int, frames: int) -> bool:
    """Whether the role's own speech was audible in the last `frames` frames up to k (not just the hangover)."""
    return bool(track.active[max(0, k - frames + 1) : k + 1].any())
