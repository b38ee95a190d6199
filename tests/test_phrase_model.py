"""The phrase classifier beside the rules (poise/language/classifier.py): what it learns from and how it is used."""

from __future__ import annotations

import numpy as np
import pytest

from poise.language import classifier as C
from poise.language.phrases import ROLE_FAMILIES, classify


def test_it_learns_from_every_labelled_sentence_outside_the_test_split() -> None:
    examples = C.load_examples()
    learned = [e for e in examples if e.split != "test"]
    assert {e.split for e in learned} <= {"dev", "train"} and len(learned) >= 300
    model = C.model()
    sentence = max((e for e in examples if e.split == "test"), key=lambda e: len(e.text))
    probe = C.train(learned)
    assert probe.vocabulary == model.vocabulary  # the bundled model saw exactly these sentences
    assert np.array_equal(probe.weights, model.weights)  # and training is deterministic
    assert probe.probabilities(sentence.text, sentence.role) == model.probabilities(sentence.text, sentence.role)


def test_negated_words_are_features_of_their_own() -> None:
    feats = C.features("I'm not at all sorry, but I'm sorry you waited.", "agent")
    assert "not_sorry" in feats and "sorry" in feats and "role=agent" in feats


def test_the_model_only_reports_families_of_the_speakers_role() -> None:
    for e in C.load_examples()[:200]:
        for match in classify(e.text, e.role):
            assert match.family in ROLE_FAMILIES[e.role]


def test_a_family_only_the_model_finds_is_marked_as_the_models() -> None:
    found = {}
    for e in C.load_examples():
        rules = {m.family for m in classify(e.text, e.role, use_model=False)}
        for m in classify(e.text, e.role):
            if m.family not in rules:
                found[m.family] = m
    assert found, "the model adds nothing to the rules on the labelled set"
    assert all(m.rule == "model" and m.text for m in found.values())


def test_the_trained_model_is_kept_in_the_cache_and_loaded_from_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("POISE_CACHE_DIR", str(tmp_path))
    C._trained.cache_clear()
    try:
        first = C.model()
        assert len(list(tmp_path.glob(C.CACHE_PREFIX + "*.npz"))) == 1 and not list(tmp_path.glob(".*"))
        C._trained.cache_clear()
        with monkeypatch.context() as m:
            m.setattr(C, "train", lambda *a, **k: pytest.fail("trained again although the cache holds the model"))
            again = C.model()
        assert again.vocabulary == first.vocabulary and np.array_equal(again.weights, first.weights)
    finally:
        C._trained.cache_clear()


@pytest.mark.parametrize("damage", ["empty", "truncated", "not a model", "other shapes"])
def test_a_damaged_cached_model_is_trained_again_and_replaced(damage: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("POISE_CACHE_DIR", str(tmp_path))
    C._trained.cache_clear()
    try:
        first = C.model()
        kept = next(tmp_path.glob(C.CACHE_PREFIX + "*.npz"))
        good = kept.read_bytes()
        if damage == "other shapes":
            np.savez(kept, vocabulary=np.frombuffer(b"a\nb", np.uint8), weights=np.zeros((2, 3)), bias=np.zeros(3),
                     families=np.array(["x", "y", "z"]))
        else:
            kept.write_bytes({"empty": b"", "truncated": good[: len(good) // 2], "not a model": b"not a model"}[damage])
        C._trained.cache_clear()
        assert np.array_equal(C.model().weights, first.weights)
        assert kept.read_bytes() == good  # written again, whole
    finally:
        C._trained.cache_clear()


def test_a_cache_that_cannot_be_written_costs_only_the_training(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("POISE_CACHE_DIR", str(tmp_path))
    C._trained.cache_clear()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    try:
        with monkeypatch.context() as m:
            m.setattr(C.tempfile, "mkstemp", full_disk)
            model = C.model()
        assert model.weights.size and not list(tmp_path.iterdir())
    finally:
        C._trained.cache_clear()
