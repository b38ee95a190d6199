"""The score of a practice take: on real read speech at its natural pace and sped up, and on exact timelines."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import speech_path

from poise.app.practice import (
    PITCH_CALM_ST,
    PracticeScore,
    overall_score,
    practice_call,
    score_take,
)
from poise.audio.coach import wpm_from_rate
from poise.audio.sources import FileSource, load_call
from poise.audio.types import AnalysisResult, Baseline, ConversationStats, RoleStats, SourceInfo, Timeline

# one LibriVox reader, five consecutive sentences: ~25 s of read speech at his own pace
READER_CLIPS = [f"ps_librivox_sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")]
SPED_UP = 1.4  # tempo of the rushed take (sox tempo -s: pitch kept)


def _take(path) -> AnalysisResult:
    """The recording read through a practice call, as the read-along runs it (not in real time)."""
    call = load_call(path)
    practice = practice_call(lambda: FileSource(call, realtime=False))
    practice.begin()
    outcome = practice.wait(120)
    assert outcome is not None and outcome.error is None and outcome.result is not None
    return outcome.result


@pytest.fixture(scope="module")
def takes(tmp_path_factory) -> dict[str, AnalysisResult]:
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    clips = [str(speech_path(name)) for name in READER_CLIPS]
    folder = tmp_path_factory.mktemp("takes")
    natural, fast = folder / "natural.wav", folder / "fast.wav"
    subprocess.run(["sox", *clips, str(natural)], check=True, capture_output=True)
    subprocess.run(["sox", str(natural), str(fast), "tempo", "-s", str(SPED_UP)], check=True, capture_output=True)
    return {"natural": _take(natural), "fast": _take(fast)}


def test_a_rushed_take_scores_lower_on_time_in_band_near_the_natural_pace(takes):
    natural_pace = score_take(takes["natural"], 150).median_wpm
    assert 120 < natural_pace < 190  # a calm audiobook reader
    near = round(natural_pace / 5) * 5  # the spin box's 5 wpm steps
    for target in (near - 5, near, near + 5):
        natural, fast = score_take(takes["natural"], target), score_take(takes["fast"], target)
        assert fast.time_in_band < natural.time_in_band, (target, natural.summary(), fast.summary())
        if target >= near:  # at and just above his pace (measured: 62 % vs 30 %, 54 % vs 29 %)
            assert natural.time_in_band >= 0.5, (target, natural.summary())
            assert fast.time_in_band <= natural.time_in_band - 0.2, (target, natural.summary(), fast.summary())
        assert fast.above_s > fast.below_s  # out of band because too fast, not too slow
        assert fast.overall < natural.overall
        assert fast.median_wpm > natural.median_wpm * 1.12  # the pace measure follows most of the 1.4x
        for s in (natural, fast):
            assert 0 <= s.steadiness <= 1 and 0 <= s.pitch_calm <= 1 and 0 <= s.overall <= 100
            assert s.speech_s > 12 and s.note is None


def test_the_pitch_is_calm_for_a_reader_at_his_own_pitch_and_the_tempo_keeps_it(takes):
    natural, fast = score_take(takes["natural"], 155), score_take(takes["fast"], 155)
    assert natural.pitch_calm > 0.6 and fast.pitch_calm > 0.6  # read prose: lively but not raised
    assert fast.pitch_median_hz == pytest.approx(natural.pitch_median_hz, rel=0.05)


def test_a_score_survives_its_round_trip_through_json(takes):
    score = score_take(takes["natural"], 155)
    back = PracticeScore.from_detail(score.to_detail())
    assert back.overall == pytest.approx(score.overall, abs=0.05)
    assert back.time_in_band == pytest.approx(score.time_in_band, abs=0.001)
    assert back.band == pytest.approx(score.band, abs=0.05)
    assert len(back.t) == len(back.wpm) == len(score.t) and back.wpm[3] == pytest.approx(score.wpm[3], abs=0.05)


# --------------------------------------------------------------------------- exact timelines


def _result(wpm: list[float | None], pitch: list[float | None], speaking: list[float] | None = None) -> AnalysisResult:
    n = len(wpm)
    rate = [None if w is None else w * 1.25 / 60.0 for w in wpm]  # wpm_from_rate inverted (SYLLABLES_PER_WORD)
    assert all(r is None or wpm_from_rate(r) == pytest.approx(w) for r, w in zip(rate, wpm))
    voiced = sorted(p for p in pitch if p is not None)
    role = RoleStats(float(n), None, None, None, voiced[len(voiced) // 2] if voiced else None, None, None, None)
    timeline = Timeline(1.0, [float(i) for i in range(n)], speaking or [1.0] * n, [], rate, pitch, [None] * n, [])
    return AnalysisResult(
        source=SourceInfo("take", float(n), 16000, 1), agent=role, caller=None,
        conversation=ConversationStats(None, None, None, None, None), cues=[], segments=[], timeline=timeline,
        baseline=Baseline(),
    )


def test_time_in_band_steadiness_and_pitch_calm_on_an_exact_take():
    # 10 s at the target, 10 s at 1.3x it; pitch at 100 Hz with 4 s held 4 semitones up
    up = 100 * 2 ** (4 / 12)
    result = _result([150.0] * 10 + [195.0] * 10, [100.0] * 16 + [up] * 4)
    s = score_take(result, 150)
    assert s.time_in_band == pytest.approx(0.5)
    assert s.above_s == pytest.approx(10) and s.below_s == 0
    cv = 22.5 / 172.5  # two equal halves at 150 and 195: sd 22.5 around 172.5
    assert s.steadiness == pytest.approx(1 - cv / 0.5, abs=5e-4)  # (a score holds the 3 digits it is saved with)
    assert s.pitch_calm == pytest.approx(16 / 20)
    assert s.overall == pytest.approx(100 * (0.5 * 0.5 + 0.3 * (1 - cv / 0.5) + 0.2 * 0.8), abs=0.05)
    assert "50 %" in s.summary() and "too fast" in s.summary()
    # just inside the semitone limit counts as calm
    inside = 100 * 2 ** ((PITCH_CALM_ST - 0.1) / 12)
    assert score_take(_result([150.0] * 20, [100.0] * 16 + [inside] * 4), 150).pitch_calm == pytest.approx(1.0)


def test_a_steady_take_on_target_scores_100_and_silence_does_not_count():
    s = score_take(_result([150.0] * 12 + [None] * 8, [120.0] * 12 + [None] * 8, [1.0] * 12 + [0.0] * 8), 150)
    assert (s.time_in_band, s.steadiness, s.pitch_calm, s.overall) == (1.0, 1.0, 1.0, 100.0)
    assert s.speech_s == pytest.approx(12)


def test_a_live_take_is_scored_on_the_pace_its_gauge_showed():
    """The read-along showed 138 wpm "On pace" while the score, from the timeline's own estimate, said "too slow"."""
    result = _result([120.0] * 20, [120.0] * 20)  # the timeline's estimate: every step 120 wpm, under a 150 target's band
    assert score_take(result, 150).time_in_band == 0.0
    shown = [(i / 10, 150.0 if i < 150 else None) for i in range(200)]  # ten meters a second: 150 wpm for 15 s, then none
    s = score_take(result, 150, shown)
    assert s.median_wpm == pytest.approx(150.0) and s.time_in_band == pytest.approx(1.0)
    assert s.wpm[:15] == [150.0] * 15 and s.wpm[15:] == [None] * 5
    assert s.speech_s == pytest.approx(15)  # steps the gauge showed no pace for are not scored


def test_a_take_too_short_to_score_says_so():
    s = score_take(_result([150.0, 150.0, None, None], [120.0, 120.0, None, None]), 150)
    assert s.overall is None and s.time_in_band is None
    assert s.note and "Too little speech" in s.note and "\n" not in s.note
    assert s.summary() == s.note
    assert score_take(_result([None] * 5, [None] * 5, [0.0] * 5), 150).note.startswith("Too little speech to score (no speech")


def test_the_overall_score_without_a_pitch_measure_reweights_the_other_two():
    assert overall_score(1.0, 1.0, None) == pytest.approx(100)
    assert overall_score(0.5, 0.0, None) == pytest.approx(100 * 0.25 / 0.8)
    assert overall_score(0.0, 0.0, 1.0) == pytest.approx(20)
