"""A small phrase classifier trained on the checked-in sentences, beside the rules of `phrases.py`.

The rules reach the phrasing their authors thought of; on sentences written by someone who had
not read them, recall fell to 0.14-0.50 for four families (benchmarks/language.py, blind half).
This model learns the families from every labelled sentence outside the `test` split of
`data/phrases.tsv`: one logistic regression per family (one-vs-rest, L2) over the normalised
sentence's words, word pairs and word triples, with the words after a negator marked ("not_sorry")
and the speaker's role as a feature. Trained in-process on first use (0.3-0.6 s; see `train`) and
kept in the user's cache folder for the next process (`_trained`), deterministic, no download; a
sentence costs well under a millisecond.

A family is reported when the rules find it or the model's probability reaches the family's
threshold (`THRESHOLDS`: cross-validation on the training sentences, and the everyday talk of
../shared/speech's transcripts; never a test sentence).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import optimize, sparse  # imported where this module is: a first import of scipy on two threads at once fails

from .. import paths
from . import phrases
from .phrases import FAMILIES, clauses, normalize

log = logging.getLogger(__name__)
DATA = Path(__file__).resolve().parent / "data" / "phrases.tsv"
L2 = 0.1  # weight penalty against the summed log loss: 5-fold CV F1 (rules or model, every n-gram kept) 0.834 at 3, 0.851 at 1, 0.870 at
#   0.1, 0.871-0.873 at 0.03-0.01; the plateau's strongest
NEGATED_TOKENS = 3  # words after a negator that carry its mark ("i am not at all sorry": not_at, not_all, not_sorry)
MIN_FEATURE_COUNT = 2  # n-grams in fewer training sentences are dropped: 5-fold CV F1 0.870 with all (27,859 features,
#   0.72 s to train), 0.876 from 2 (7,100; 0.33 s) and from 3
_NEGATOR = re.compile(r"^(?:not|never|no|nobody|without|hardly)$")
# probability at which the model alone reports a family (`python -m benchmarks.language --fit-thresholds`): the
#   lowest of 0.5-0.95 at which rules-or-model keeps precision >= 0.95 (or the rules' own, where lower) on
#   held-out folds of the training sentences, raised past the model's highest reading on the everyday talk of
#   ../shared/speech's transcripts (defensive 0.84 on "well, there is not that much difference", hostile 0.94
#   on "this is diane in new jersey"): never under 0.5, since a call is mostly talk with no family. Refitted
#   after training batch F (2026-12-04): defensive 0.95 -> 0.85, abuse 0.7 -> 0.6 (acknowledge kept at 0.65 where
#   the fit gave 0.6: cross-validation could not tell them apart); after batch G's caller sentences (2026-12-03)
#   the fit gives these values as they stand, acknowledge's 0.65 included; after the team's polite replies
#   (2026-12-06, "You're welcome." read as abuse) abuse 0.6 -> 0.55
THRESHOLDS: dict[str, float] = {"acknowledge": 0.65, "apology": 0.5, "defensive": 0.85, "confirm": 0.5, "next_steps": 0.5,
                                "escalation": 0.5, "boundary": 0.5, "abuse": 0.55, "hostile": 0.95}


@dataclass(frozen=True)
class Example:
    """One labelled sentence."""

    split: str  # dev / train (learned from) or test (never)
    role: str
    labels: frozenset[str]
    kind: str
    text: str
    blind: str = ""  # the date of the blind batch it belongs to: written by someone who had not read the rules


BLIND_MARK = "blind batch"  # a comment line holding this opens sentences written blind (until the next comment)


def load_examples(path: Path = DATA) -> list[Example]:
    """The labelled sentences: tab-separated split, role, labels ("none" or comma-separated), kind, text."""
    rows, blind = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            blind = line[1:].split()[0] if BLIND_MARK in line else ""
            continue
        if not line.strip() or line.startswith("split\t"):
            continue
        split, role, labels, kind, text = line.split("\t")
        rows.append(Example(split, role, frozenset() if labels == "none" else frozenset(labels.split(",")), kind, text, blind))
    return rows


def features(text: str, role: str | None) -> list[str]:
    """The sentence's n-grams (1-3 words, within a clause), negation-marked words and its role."""
    out = [f"role={role or '?'}"]
    for clause in clauses(normalize(text)):
        question = clause.endswith("?")
        words = clause.rstrip("?").split()
        marked, left = [], 0
        for w in words:
            if _NEGATOR.match(w):
                left = NEGATED_TOKENS
                marked.append(w)
            elif left:
                marked.append("not_" + w)
                left -= 1
            else:
                marked.append(w)
        padded = ["<s>"] + words + ["</s>?" if question else "</s>"]
        out += marked
        out += [f"{a} {b}" for a, b in zip(padded, padded[1:])]
        out += [f"{a} {b} {c}" for a, b, c in zip(padded, padded[1:], padded[2:])]
    return out


@dataclass
class PhraseModel:
    """Per-family weights over a fixed vocabulary of features."""

    vocabulary: dict[str, int]
    weights: np.ndarray  # (n_features, n_families)
    bias: np.ndarray  # (n_families,)
    families: tuple[str, ...]

    def probabilities(self, text: str, role: str | None = None) -> dict[str, float]:
        """P(family | sentence) for every family."""
        idx = [self.vocabulary[f] for f in set(features(text, role)) if f in self.vocabulary]
        z = self.weights[idx].sum(axis=0) + self.bias
        return {f: 1.0 / (1.0 + math.exp(-float(v))) for f, v in zip(self.families, z)}


def _design(examples: list[Example], vocabulary: dict[str, int] | None = None) -> tuple[sparse.csr_matrix, dict[str, int]]:
    feats = [set(features(e.text, e.role)) for e in examples]
    if vocabulary is None:
        counts: dict[str, int] = {}
        for fs in feats:
            for f in fs:
                counts[f] = counts.get(f, 0) + 1
        vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_FEATURE_COUNT))}
    rows, cols = [], []
    for r, fs in enumerate(feats):
        for f in fs:
            j = vocabulary.get(f)
            if j is not None:
                rows.append(r)
                cols.append(j)
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(examples), len(vocabulary)))
    return x, vocabulary


def _fit_one(x: sparse.csr_matrix, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by L-BFGS on a sparse design matrix: (weights, bias)."""
    n = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:n], theta[n]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)
        g = p - y
        return value, np.concatenate([x.T @ g + l2 * w, [g.sum()]])

    res = optimize.minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[:n], float(res.x[n])


def train(examples: list[Example], l2: float = L2) -> PhraseModel:
    """One model per family from `examples` (every split given is learned from)."""
    x, vocabulary = _design(examples)
    weights = np.zeros((len(vocabulary), len(FAMILIES)))
    bias = np.zeros(len(FAMILIES))
    for k, family in enumerate(FAMILIES):
        y = np.array([family in e.labels for e in examples], float)
        weights[:, k], bias[k] = _fit_one(x, y, l2)
    return PhraseModel(vocabulary, weights, bias, FAMILIES)


_LOCK = threading.Lock()


CACHE_PREFIX = "phrase-model-"  # the trained model kept in the cache folder: loading it takes ~4 ms, training 0.3-0.6 s,
#   which every `poise analyze` and live start paid


def _sources_key() -> str:
    """A digest of everything the trained model depends on: the sentences, this code and its settings, numpy and
    scipy. In a frozen app, whose modules are not files, the app's own executable (its size and time) stands for
    the code: every build is a new key."""
    import scipy

    digest = hashlib.sha256(DATA.read_bytes())
    digest.update(repr((L2, MIN_FEATURE_COUNT, NEGATED_TOKENS, FAMILIES, np.__version__, scipy.__version__)).encode())
    for path in (Path(__file__), Path(phrases.__file__)):
        try:
            digest.update(path.read_bytes())
        except OSError:
            built = Path(sys.executable).stat()
            digest.update(f"{sys.executable} {built.st_size} {built.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _load_cached(path: Path) -> PhraseModel | None:
    """The model kept at `path`, or None when there is none or it is not one this code wrote whole."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            words = bytes(saved["vocabulary"]).decode("utf-8").split("\n")
            weights, bias = saved["weights"], saved["bias"]
            families = tuple(str(f) for f in saved["families"])
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - empty, truncated, foreign: any damage means "train it again"
        log.info("the cached phrase model %s is unreadable; training it again", path, exc_info=True)
        return None
    if (families != FAMILIES or weights.dtype != np.float64 or bias.dtype != np.float64
            or weights.shape != (len(words), len(FAMILIES)) or bias.shape != (len(FAMILIES),)):
        log.info("the cached phrase model %s does not fit this code; training it again", path)
        return None
    return PhraseModel({w: i for i, w in enumerate(words)}, weights, bias, families)


def _save_cached(model: PhraseModel, path: Path) -> None:
    """Write `model` to `path` whole or not at all (batch workers may write it at once); other keys' models removed."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        words = "\n".join(sorted(model.vocabulary, key=model.vocabulary.__getitem__)).encode("utf-8")
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".phrase-model", suffix=".npz")
        tmp = Path(name)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, vocabulary=np.frombuffer(words, np.uint8), weights=model.weights, bias=model.bias,
                     families=np.array(model.families))
            f.flush()
            os.fsync(f.fileno())  # a crash after the rename must not leave an empty model behind
        os.replace(tmp, path)
        tmp = None
    except OSError:  # a full disk or a read-only home: the model is simply trained again next time
        log.info("could not keep the phrase model in %s", path.parent, exc_info=True)
        return
    finally:
        if tmp is not None:  # failed or interrupted (Ctrl+C) before the rename
            tmp.unlink(missing_ok=True)
    for old in path.parent.glob(CACHE_PREFIX + "*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _trained() -> PhraseModel:
    try:
        cache: Path | None = paths.cache_dir() / f"{CACHE_PREFIX}{_sources_key()}.npz"
    except OSError:  # the sentences unreadable: training says so below; no cache folder: train
        cache = None
    cached = _load_cached(cache) if cache is not None else None
    if cached is not None:
        return cached
    trained = train([e for e in load_examples() if e.split != "test"])
    if cache is not None:
        _save_cached(trained, cache)
    return trained


def model() -> PhraseModel:
    """The model learned from the bundled sentences (on first use in a process: loaded from the cache, or trained)."""
    with _LOCK:
        return _trained()


def warm_up() -> None:
    """Load or train the model now, on a thread of its own, so the first sentence does not wait for it; a
    failure is logged and the first sentence tries again (and reports the problem the usual way)."""

    def work() -> None:
        try:
            model()
        except Exception:  # noqa: BLE001 - never a traceback on stderr from a helper thread
            log.exception("training the phrase model ahead of the call failed")

    threading.Thread(target=work, name="phrase-model", daemon=True).start()


def model_families(text: str, role: str | None = None) -> set[str]:
    """Families whose probability reaches their threshold."""
    probs = model().probabilities(text, role)
    return {f for f, p in probs.items() if p >= THRESHOLDS[f]}
