"""The application layer without Qt: a call's lifecycle, the history policy, the shared settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import speech_path
from poise.app.calls import LiveCall
from poise.app.history import POLICY, History
from poise.app.review import review_call
from poise.app.settings import AppSettings, SettingsStore, load_settings
from poise.app.spec import CallKind, CallSpec, CallState
from poise.audio.coach import CoachConfig
from poise.audio.store import HistoryStore
from poise.audio.types import SAMPLE_RATE, Baseline

FAST = 8.0  # demo playback speed: the lifecycle, not real time, is under test
WAIT_S = 60.0  # s: the longest any call here may take on a busy 2-core machine


@pytest.fixture(scope="module")
def short_call(tmp_path_factory) -> Path:
    """~8 s of a man reading (agent) with a silent caller side, 16 kHz stereo."""
    agent, rate = sf.read(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav"), dtype="float32")
    assert rate == SAMPLE_RATE
    stereo = np.zeros((len(agent) + SAMPLE_RATE // 2, 2), np.float32)
    stereo[: len(agent), 0] = agent
    path = tmp_path_factory.mktemp("call") / "short_call.wav"
    sf.write(path, stereo, SAMPLE_RATE)
    return path


def _demo(path: Path, **choices: object) -> CallSpec:
    return CallSpec(kind=CallKind.DEMO, file=path, speed=FAST, transcribe=False, **choices)  # type: ignore[arg-type]


def test_a_call_goes_through_its_states_and_ends_with_its_real_length(short_call: Path) -> None:
    states: list[CallState] = []
    events: list[object] = []
    call = LiveCall(_demo(short_call), on_event=events.append, on_state=states.append)
    call.begin()  # returns at once
    outcome = call.wait(WAIT_S)
    assert outcome is not None and outcome.error is None
    assert states == [CallState.PREPARING, CallState.RUNNING, CallState.FINISHED]
    assert outcome.result is not None
    assert outcome.result.source.duration_s == pytest.approx(sf.info(str(short_call)).duration, abs=0.1)
    assert events  # meters reached the listener
    with HistoryStore() as store:  # a demo is saved, and never becomes the agent's profile
        assert [c.kind for c in store.list_calls()] == ["demo"] and store.load_profile("default") is None


def test_stop_returns_at_once_and_the_call_finishes_with_what_it_heard(short_call: Path) -> None:
    call = LiveCall(CallSpec(kind=CallKind.DEMO, file=short_call, speed=1.0, transcribe=False))
    assert call.prepare()
    call.start()
    assert call.state is CallState.RUNNING
    call.wait(1.5)
    call.stop()
    assert call.state is CallState.STOPPING
    outcome = call.wait(WAIT_S)
    assert call.state is CallState.FINISHED
    assert outcome is not None and outcome.result is not None
    assert 0.5 < outcome.result.source.duration_s < 4.0


def test_a_call_stopped_while_preparing_ends_without_a_result(short_call: Path) -> None:
    call = LiveCall(_demo(short_call))
    call.stop()  # before it ran: prepare() sees the request
    assert call.prepare() is False
    assert call.state is CallState.FINISHED and call.outcome is not None and call.outcome.result is None


def test_a_missing_file_fails_with_one_sentence(tmp_path: Path) -> None:
    call = LiveCall(_demo(tmp_path / "gone.ogg"))
    assert call.prepare() is False
    assert call.state is CallState.FAILED
    assert call.outcome is not None and call.outcome.error is not None
    assert "gone.ogg" in call.outcome.error and "\n" not in call.outcome.error


def test_an_unknown_device_is_bad_input(tmp_path: Path) -> None:
    pytest.importorskip("sounddevice")
    call = LiveCall(CallSpec(kind=CallKind.LIVE, agent_device="no-such-device-xyz", transcribe=False))
    assert call.prepare() is False
    assert call.state is CallState.FAILED and call.outcome is not None and call.outcome.bad_input


# History policy ------------------------------------------------------------------------------


def _result(path: Path):
    outcome = review_call(CallSpec(kind=CallKind.REVIEW, file=path, transcribe=False), save=False)
    assert outcome.result is not None, outcome.error
    return outcome.result


def test_the_history_policy_for_each_kind(short_call: Path) -> None:
    result = _result(short_call)
    history = History()
    measured = Baseline(pitch_hz=120.0, db=-22.0, rate_sps=4.0, speech_s=30.0)
    saved = {kind: history.record(kind, "ana", result, baseline=measured) for kind in CallKind}
    with HistoryStore() as store:
        kinds = sorted(c.kind for c in store.list_calls())
        profile = store.load_profile("ana")
    assert kinds == sorted(k.value for k, p in POLICY.items() if p.save_call)  # live, demo, review
    refined = [k for k, s in saved.items() if s.profile is not None]
    assert refined == [k for k, p in POLICY.items() if p.refine_profile] == [CallKind.LIVE, CallKind.CALIBRATION]
    assert profile is not None and profile.speech_s == pytest.approx(60.0)  # two refinements of 30 s


def test_a_review_of_a_recording_already_in_history_is_not_saved_again(short_call: Path) -> None:
    spec = CallSpec(kind=CallKind.REVIEW, file=short_call, transcribe=False)
    first, second = review_call(spec), review_call(spec)
    assert first.call_id is not None and second.call_id is None and second.result is not None
    live = History().record(CallKind.LIVE, "default", first.result, recording=short_call)
    assert live.call_id is not None
    with HistoryStore() as store:
        assert sorted(c.kind for c in store.list_calls()) == ["live", "review"]


def test_a_review_starts_from_the_agents_saved_profile(short_call: Path) -> None:
    spec = CallSpec(kind=CallKind.REVIEW, file=short_call, transcribe=False, agent="ana")
    fresh = review_call(spec, save=False).result
    with HistoryStore() as store:
        store.update_profile("ana", Baseline(pitch_hz=110.0, db=-40.0, rate_sps=3.0, speech_s=600.0))
    primed = review_call(spec, save=False).result
    assert fresh is not None and primed is not None
    assert not any(c.kind == "lower_volume" for c in fresh.cues)  # 8 s: too short to learn a normal
    assert any(c.kind == "lower_volume" for c in primed.cues), primed.cues  # read ~15 dB above the saved normal


# Settings ------------------------------------------------------------------------------------


def test_settings_round_trip_and_updates_keep_other_fields(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load() == AppSettings()
    config = CoachConfig(pace_ratio=1.4)
    config.enabled["dead_air"] = False
    store.update(model_dir="/models/small.en", coach=config)
    store.update(agent_name="  Ana ")
    loaded = store.load()
    assert loaded.model_dir == "/models/small.en" and loaded.coach == config and loaded.agent_name == "Ana"
    assert AppSettings.from_dict(json.loads(store.path.read_text())) == loaded


def test_an_unreadable_settings_file_gives_defaults(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() == AppSettings()
    store.path.write_text(json.dumps({"keep_audio": "yes", "overlay_pos": [1], "coach": 3, "model_dir": "/m"}))
    loaded = store.load()
    assert loaded.keep_audio is True and loaded.overlay_pos is None and loaded.coach == CoachConfig()
    assert loaded.model_dir == "/m"


def test_a_spec_from_settings_takes_the_users_choices() -> None:
    SettingsStore().update(model_dir="/models/base.en", agent_name="Sam", caller_device="Monitor", keep_audio=False)
    spec = CallSpec.from_settings(CallKind.LIVE, load_settings(), agent_device="Headset")
    assert (spec.model_dir, spec.agent, spec.caller_device, spec.agent_device) == (
        "/models/base.en", "Sam", "Monitor", "Headset")
    assert spec.keep_audio is False and spec.has_caller is True
