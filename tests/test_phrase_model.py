"""The phrase classifier beside the rules (poise/language/classifier.py): what it learns from and how it is used."""

from __future__ import annotations

import os

import numpy as np

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


def test_the_trained_model_is_kept_in_the_cache_and_remade_when_unreadable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    C._trained.cache_clear()
    try:
        first = C.model()
        kept = list((tmp_path / "poise").glob(C.CACHE_PREFIX + "*.npz"))
        assert len(kept) == 1
        C._trained.cache_clear()
        again = C.model()  # loaded, not trained
        assert again.vocabulary == first.vocabulary and np.array_equal(again.weights, first.weights)
        kept[0].write_bytes(b"not a model")  # damaged: trained again, and kept again
        C._trained.cache_clear()
        remade = C.model()
        assert np.array_equal(remade.weights, first.weights) and kept[0].stat().st_size > 1000
        (tmp_path / "poise").chmod(0o500)  # a cache it cannot write to: trained, nothing raised
        kept[0].chmod(0o000) if os.geteuid() != 0 else kept[0].unlink()
        C._trained.cache_clear()
        assert np.array_equal(C.model().weights, first.weights)
    finally:
        (tmp_path / "poise").chmod(0o700)
        C._trained.cache_clear()
