"""Settings keep only what the user chose: improved defaults reach users who never changed them."""

from __future__ import annotations

import json
from pathlib import Path

from poise.app.settings import FILE_FORMAT, FORMAT_KEY, RETIRED_COACH_DEFAULTS, AppSettings, SettingsStore
from poise.audio.coach import CoachConfig

# A settings.json as Poise wrote it before 2026-12-01 (every threshold, the defaults of that day):
# the file found on this machine, whose 1.3 / 240 gave two false "Slow down" cues on the booking call.
OLD_STYLE_FILE = {
    "agent_device": "", "caller_device": "", "model_dir": "", "keep_audio": True, "agent_name": "",
    "overlay_click_through": False, "overlay_pos": None, "window_geometry": "",
    "coach": {
        "enabled": {"slow_down": True, "lower_tone": True, "lower_volume": True, "let_caller_finish": True,
                    "pause_for_caller": True, "dead_air": True, "speak_up": True},
        "pace_ratio": 1.3, "pace_ceiling_wpm": 240.0, "target_wpm_low": 125.0, "target_wpm_high": 165.0,
        "pitch_rise_st": 3.0, "volume_rise_db": 6.0, "volume_drop_db": 8.0, "backchannel_max_s": 1.0,
        "monologue_s": 45.0, "dead_air_s": 6.0, "cooldown_s": 20.0, "display_s": 4.0,
    },
}


def _write(path: Path, data: dict) -> SettingsStore:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return SettingsStore(path)


def test_an_old_style_file_gets_todays_defaults_for_values_nobody_chose(tmp_path: Path) -> None:
    loaded = _write(tmp_path / "settings.json", OLD_STYLE_FILE).load()
    today = CoachConfig()
    assert (loaded.coach.pace_ratio, loaded.coach.pace_ceiling_wpm) == (today.pace_ratio, today.pace_ceiling_wpm)
    assert today.pace_ceiling_wpm != 240.0  # else this test proves nothing (its 1.3 is today's pace_ratio again)
    assert loaded == AppSettings()


def test_every_retired_default_loads_as_todays_default_and_real_choices_stay(tmp_path: Path) -> None:
    today = CoachConfig()
    for key, olds in RETIRED_COACH_DEFAULTS.items():
        assert getattr(today, key) not in olds, key  # a retired default is not today's
        for old in olds:
            store = _write(tmp_path / "settings.json", {"coach": {key: old}})
            assert getattr(store.load().coach, key) == getattr(today, key), (key, old)
    chosen = {"pace_ratio": 1.5, "pace_ceiling_wpm": 300.0, "pitch_rise_st": 4.0, "backchannel_max_s": 0.7}
    store = _write(tmp_path / "settings.json", {"coach": {**OLD_STYLE_FILE["coach"], **chosen}})
    coach = store.load().coach
    assert {k: getattr(coach, k) for k in chosen} == chosen


def test_saving_writes_only_what_differs_from_the_defaults(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    store.save(AppSettings())
    assert json.loads(store.path.read_text()) == {FORMAT_KEY: FILE_FORMAT}
    config = CoachConfig(pace_ratio=1.5)
    config.enabled["dead_air"] = False
    store.update(coach=config, agent_name="Ana", keep_audio=False)
    assert json.loads(store.path.read_text()) == {FORMAT_KEY: FILE_FORMAT,
        "agent_name": "Ana", "keep_audio": False, "coach": {"pace_ratio": 1.5, "enabled": {"dead_air": False}}}
    loaded = store.load()
    assert loaded.coach == config and loaded.agent_name == "Ana" and loaded.keep_audio is False


def test_resaving_an_old_style_file_drops_the_stale_defaults(tmp_path: Path) -> None:
    old = {**OLD_STYLE_FILE, "coach": {**OLD_STYLE_FILE["coach"], "dead_air_s": 9.0}}
    store = _write(tmp_path / "settings.json", old)
    store.update(agent_name="Sam")  # any later save, e.g. the window geometry on exit
    assert json.loads(store.path.read_text()) == {FORMAT_KEY: FILE_FORMAT, "agent_name": "Sam", "coach": {"dead_air_s": 9.0}}


def test_a_retired_default_chosen_in_todays_settings_is_kept(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    store.update(coach=CoachConfig(pace_ratio=1.3, backchannel_max_s=0.5))  # "30 % above normal": a round choice
    coach = store.load().coach
    assert (coach.pace_ratio, coach.backchannel_max_s) == (1.3, 0.5)


def test_bad_cue_values_fall_back_to_the_default_one_by_one(tmp_path: Path) -> None:
    store = _write(tmp_path / "settings.json", {"coach": {
        "pace_ratio": "fast", "dead_air_s": True, "monologue_s": 60, "enabled": {"slow_down": "no", "dead_air": False},
        "unknown": 1}})
    coach = store.load().coach
    today = CoachConfig()
    assert coach.pace_ratio == today.pace_ratio and coach.dead_air_s == today.dead_air_s
    assert coach.monologue_s == 60.0 and isinstance(coach.monologue_s, float)
    assert coach.enabled["slow_down"] is True and coach.enabled["dead_air"] is False
