"""Speech, not sound: whose speech the engine hears on realistic lines (real speech, generated degradations).

Truth here is unambiguous by construction: a channel that holds only the other side's leakage,
or only noise, has no speech of its own; where speech is present, the reference is the same
recording without the degradation (its clean channel has a −70 dBFS floor and one talker).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr

from poise.audio.session import Session
from poise.audio.types import SAMPLE_RATE, Block
from tests.conftest import speech_path

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
READER = "ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav"
RNG = np.random.default_rng(7)


def _load_call() -> tuple[np.ndarray, np.ndarray]:
    x, rate = sf.read(str(speech_path(CALL)), dtype="float32", always_2d=True)
    return (soxr.resample(x[:, 0], rate, SAMPLE_RATE).astype(np.float32),
            soxr.resample(x[:, 1], rate, SAMPLE_RATE).astype(np.float32))


def _at_db(x: np.ndarray, db: float) -> np.ndarray:
    return (x * 10 ** (db / 20) / (np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)).astype(np.float32)


def _pink(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    spec = np.fft.rfft((rng or RNG).standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    return np.fft.irfft(spec, n).astype(np.float32)


def _delayed(x: np.ndarray, delay_s: float, gain_db: float) -> np.ndarray:
    d = int(delay_s * SAMPLE_RATE)
    return np.concatenate([np.zeros(d, np.float32), x[: len(x) - d]]) * np.float32(10 ** (gain_db / 20))


def _run(agent: np.ndarray, caller: np.ndarray | None, block_s: float = 1.0) -> Session:
    session = Session(has_caller=caller is not None, keep_frames=True)  # the tests read every frame after finish
    step = int(block_s * SAMPLE_RATE)
    for i in range(0, len(agent), step):
        session.feed(Block(i / SAMPLE_RATE, agent[i : i + step], None if caller is None else caller[i : i + step]))
    session.finish()
    return session


def _speech_s(session: Session, role: str) -> float:
    track = session.tracks[role]
    return float(track.speech[: track.n].sum()) / 100


@pytest.mark.parametrize("gain_db,delay_s", [(-20.0, 0.15), (-30.0, 0.05), (-35.0, 0.02)])
def test_an_agent_channel_holding_only_the_callers_leakage_is_silent(gain_db, delay_s):
    _, caller = _load_call()
    caller = caller[: 90 * SAMPLE_RATE]
    floor = _at_db(_pink(len(caller)), -60.0)
    agent = _delayed(caller, delay_s, gain_db) + floor  # sidetone/echo of the caller and a noise floor, nobody else
    session = _run(agent, caller)
    assert _speech_s(session, "agent") <= 1.0, f"{_speech_s(session, 'agent')} s of 'agent speech' from leakage alone"
    agent_cues = [c for c in session.cues if c.kind != "dead_air"]  # the caller's pauses are real mutual silence
    assert agent_cues == [], agent_cues
    assert session.coach.interruptions == 0


def test_crosstalk_both_ways_keeps_each_sides_talk_time():
    agent, caller = _load_call()
    clean = _run(agent, caller)
    leaky = _run(agent + _delayed(caller, 0.12, -22.0), caller + _delayed(agent, 0.08, -24.0))
    for role in ("agent", "caller"):
        assert _speech_s(leaky, role) == pytest.approx(_speech_s(clean, role), rel=0.1), role
    a, c = (leaky.tracks[r].speech[: leaky.tracks[r].n] for r in ("agent", "caller"))
    assert (a & c).sum() / 100 <= 3.0  # the call's own overlap is 0.4 s; leakage must not add tens of seconds


def test_noise_from_the_first_second_is_not_speech_and_does_not_become_the_normal():
    reader, rate = sf.read(str(speech_path(READER)), dtype="float32")
    reader = soxr.resample(reader, rate, SAMPLE_RATE).astype(np.float32)
    speech = np.concatenate([np.zeros(5 * SAMPLE_RATE, np.float32)] + [reader, np.zeros(SAMPLE_RATE // 2, np.float32)] * 6)
    level = 20 * np.log10(np.sqrt(np.mean(np.square(reader[np.abs(reader) > 1e-3]))))
    noisy = speech + _at_db(_pink(len(speech)), level - 20.0)  # 20 dB SNR, from sample one
    clean_s, noisy_s = _run(speech, None), _run(noisy, None)
    lead = noisy_s.tracks["agent"].speech[:480]  # the first 4.8 s: noise only
    assert lead.sum() == 0, f"{lead.sum() / 100} s of the noise-only lead counted as speech"
    assert _speech_s(noisy_s, "agent") == pytest.approx(_speech_s(clean_s, "agent"), rel=0.15)
    clean_b, noisy_b = clean_s.baseline_tracker.own(), noisy_s.baseline_tracker.own()
    assert noisy_b.is_ready() and clean_b.is_ready()
    assert noisy_b.pitch_hz == pytest.approx(clean_b.pitch_hz, rel=0.05)
    assert noisy_b.db == pytest.approx(clean_b.db, abs=2.0)


def test_at_10_db_snr_most_of_the_callers_speech_is_still_heard():
    agent, caller = _load_call()
    level = 20 * np.log10(np.sqrt(np.mean(np.square(caller[np.abs(caller) > 1e-3]))))
    clean = _run(agent, caller)
    noisy = _run(agent, caller + _at_db(_pink(len(caller)), level - 10.0))
    heard = noisy.tracks["caller"].speech[: noisy.tracks["caller"].n] & clean.tracks["caller"].speech[: clean.tracks["caller"].n]
    assert heard.sum() / 100 >= 0.8 * _speech_s(clean, "caller")
    # "still talking right now" (what let_caller_finish asks of the caller) holds too: judged on the speech
    # band, 0.89 of the clean call's audible caller frames stay audible (0.78 on the broadband level)
    clean_now = clean.tracks["caller"].active[: clean.tracks["caller"].n]
    noisy_now = noisy.tracks["caller"].active[: noisy.tracks["caller"].n]
    assert (clean_now & noisy_now).sum() >= 0.85 * clean_now.sum()
    assert not [c for c in noisy.cues if c.kind in ("dead_air", "pause_for_caller")], noisy.cues


@pytest.mark.parametrize("name", ["hum", "comfort_noise", "thumps"])
def test_line_noises_alone_are_not_speech(name):
    n = 30 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    if name == "hum":  # 50 Hz mains hum with harmonics at -40 dBFS
        x = _at_db(sum(a * np.sin(2 * np.pi * 50 * (i + 1) * t) for i, a in enumerate((1.0, 0.5, 0.3, 0.2))), -40.0)
    elif name == "comfort_noise":  # digital silence, then comfort noise at -53 dBFS
        x = np.concatenate([np.zeros(n // 2, np.float32), _at_db(_pink(n - n // 2), -53.0)])
    else:  # a decaying 30 Hz bump at -12 dBFS peak every 2 s over a -60 dBFS floor
        x = _at_db(_pink(n), -60.0)
        bump_t = np.arange(int(0.2 * SAMPLE_RATE)) / SAMPLE_RATE
        bump = (0.25 * np.sin(2 * np.pi * 30 * bump_t) * np.exp(-bump_t / 0.05)).astype(np.float32)
        for start in range(SAMPLE_RATE, n - len(bump), 2 * SAMPLE_RATE):
            x[start : start + len(bump)] += bump
    session = _run(x.astype(np.float32), np.zeros(n, np.float32))
    assert _speech_s(session, "agent") <= 0.3


def test_speech_judgement_does_not_depend_on_block_size():
    agent, caller = _load_call()
    agent, caller = agent[: 60 * SAMPLE_RATE], caller[: 60 * SAMPLE_RATE]
    agent = agent + _delayed(caller, 0.1, -25.0)
    small, odd = _run(agent, caller, block_s=0.1), _run(agent, caller, block_s=1.7)
    for role in ("agent", "caller"):
        n = small.tracks[role].n
        assert np.array_equal(small.tracks[role].speech[:n], odd.tracks[role].speech[:n]), role
        assert np.array_equal(small.tracks[role].active[:n], odd.tracks[role].active[:n]), role


def test_judging_after_measuring_the_whole_call_gives_the_live_cues():
    # a recording is measured while Whisper runs and judged afterwards (analysis.py): the rules must
    # read only frames up to their own, so the cues are those of feeding block by block (the demo call
    # holds every situation)
    from pathlib import Path

    import poise
    from poise.audio.sources import load_call

    demo = load_call(Path(poise.__file__).parent / "assets" / "demo_call.ogg")
    agent, caller = demo.agent, demo.caller
    live = _run(agent, caller, block_s=0.1)
    deferred = Session(has_caller=True)
    for i in range(0, len(agent), SAMPLE_RATE):
        deferred.measure(Block(i / SAMPLE_RATE, agent[i : i + SAMPLE_RATE], caller[i : i + SAMPLE_RATE]))
    assert deferred.cues == []
    result = deferred.finish()
    assert [c.to_json() for c in result.cues] == [c.to_json() for c in live.cues] != []
    assert result.conversation == live.finish().conversation


def test_a_quieter_voice_under_line_noise_measures_as_much_quieter():
    # at 10 dB SNR (pink noise from the first second) the reader drops 10 dB halfway: the noise under the
    # voice is taken out of its loudness, so the drop reads 9-11.5 dB, not the 8.5 dB of the raw level
    # (under the 8 dB of "Speak up" with any dip). One noise draw reads anywhere from 7.9 to 14.3 dB (few frames
    # of the quiet half keep their pitch under the noise), so the median of five fixed draws is judged.
    voice, rate = sf.read(str(speech_path(READER)), dtype="float32")
    voice = soxr.resample(voice, rate, SAMPLE_RATE).astype(np.float32)
    level = 20 * np.log10(np.sqrt(np.mean(np.square(voice[np.abs(voice) > 1e-3]))))
    half = len(voice) // 2
    voice[half:] *= np.float32(10 ** (-10 / 20))
    k_half = half // 160
    drops = []
    for seed in range(5):
        noise = _pink(len(voice), np.random.default_rng(seed))
        track = _run(voice + _at_db(noise, level - 10.0), None).tracks["agent"]

        def voiced_median_db(lo: int, hi: int) -> float:
            mask = track.speech[lo:hi] & np.isfinite(track.f0[lo:hi])
            return float(np.median(track.db[lo:hi][mask]))

        drops.append(voiced_median_db(0, k_half) - voiced_median_db(k_half, track.n))
    assert 9.0 <= float(np.median(drops)) <= 11.5, drops


def test_a_hummed_backchannel_keeps_the_line_alive():
    # AMI headsets (truth: the meeting's RTTM and words): MEO015's "Mm-hmm" at 34.99-35.28 s, which the
    # speech model scores 0.02-0.34, is heard as his voice, so the 5.2 s and 1.8 s silences around it
    # are not one 6 s stretch of dead air
    tracks = [sf.read(str(speech_path(f"pyannote_ami_seriously_source{i}.wav")), dtype="float32")[0] for i in (0, 1)]
    session = _run(tracks[0], tracks[1])
    agent = session.tracks["agent"]
    hum = slice(int(34.99 * 100), int(35.28 * 100))
    assert not agent.speech[hum].any()
    assert agent.voiced_sound[hum].sum() >= 8
    assert [c.kind for c in session.cues if c.kind == "dead_air"] == []


def test_the_calls_numbers_date_each_run_from_its_first_audible_frame():
    # the speech model confirms a voice 30-400 ms late; at the end of the call each run is extended back
    # over the own-level sound before it (dips up to 80 ms bridged, at most 400 ms), as the floor rule
    # dates its onsets live
    from poise.audio.prosody import Frames
    from poise.audio.track import RoleTrack

    n = 200
    speech, audible = np.zeros(n, bool), np.zeros(n, bool)
    speech[100:150] = audible[100:150] = True
    audible[80:95] = True  # sound the model had not confirmed yet, a 50 ms closure before the run
    audible[20:60] = True  # far from any run, a 0.4 s gap away: not this run's start
    speech[170:190] = audible[170:190] = True
    audible[120:190] = True
    track = RoleTrack()
    track.append(Frames(0, np.zeros(n, np.float32), speech.copy(), np.full(n, np.nan, np.float32), np.zeros(n, bool),
                        speech.copy(), audible))
    assert track.date_onsets_back(40, 8) == 20 + 20
    assert np.flatnonzero(track.speech[:n])[0] == 80 and not track.speech[:80].any()
    assert track.speech[150:190].all()  # the later run reaches back over the audible frames before it
    assert track.speech_frames_between(0, n) == int(track.speech[:n].sum())


def test_the_calls_numbers_count_a_turns_own_pauses_as_talk():
    # turn-level, as the floor rules and the AMI RTTM count it: silences of at most 0.5 s between two
    # speech runs are talk; a longer one, and the silence before the first and after the last run, are not
    from poise.audio.prosody import Frames
    from poise.audio.stats import role_stats
    from poise.audio.track import RoleTrack

    n = 400
    speech = np.zeros(n, bool)
    speech[50:100] = speech[130:180] = True  # a 0.3 s pause
    speech[230:280] = True  # a 0.5 s pause: still the same turn
    speech[331:360] = True  # a 0.51 s silence: a new turn
    nucleus = np.zeros(n, bool)
    nucleus[np.flatnonzero(speech)[::20]] = True
    track = RoleTrack()
    track.append(Frames(0, np.zeros(n, np.float32), speech.copy(), np.full(n, np.nan, np.float32), nucleus,
                        speech.copy(), speech.copy()))
    rate_before = role_stats(track, None, "agent").articulation_rate_sps
    assert track.bridge_pauses(50) == 30 + 50
    assert track.speech[50:280].all() and not track.speech[280:331].any() and track.speech[331:360].all()
    assert not track.speech[:50].any() and not track.speech[360:n].any()
    assert track.speech_frames_between(0, n) == int(track.speech[:n].sum()) == 230 + 29
    stats = role_stats(track, None, "agent")
    assert stats.talk_time_s == pytest.approx(2.59)
    assert stats.articulation_rate_sps == rate_before  # pauses are talk time, not articulation
