"""The fastText style classifier on two tiny synthetic styles: archaic and modern function words
mixed into shared content words."""
import random
import tempfile

import pytest

from components.errors import InputError
from components.style.classifier import ClassifierConfig, StyleClassifier

ARCHAIC = "thee thou hath doth art shalt unto ye thy".split()
MODERN = "you have does are shall to your yours".split()
SHARED = "the lord said man house day land king and of".split()
SMALL = ClassifierConfig(dim=16, epochs=10, buckets=2**19)  # ~0.1 s to train


def style(words: list[str], n: int, seed: int) -> list[str]:
    """n sentences of 4-10 tokens: one from `words`, the others from `words` or (twice as likely) SHARED."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        tokens = [rng.choice(words + SHARED + SHARED) for _ in range(rng.randint(3, 9))]
        tokens.insert(rng.randint(0, len(tokens)), rng.choice(words))
        sentences.append(" ".join(tokens))
    return sentences


TRAIN = style(ARCHAIC, 200, 0), style(MODERN, 200, 1)
HELD_OUT = style(ARCHAIC, 50, 2), style(MODERN, 50, 3)
NEUTRAL = [" ".join(random.Random(i).sample(SHARED, 5)) for i in range(20)]  # shared words only: probabilities far from 0 and 1, sensitive to the model


@pytest.fixture(scope="module")
def classifier() -> StyleClassifier:
    return StyleClassifier.train(*TRAIN, labels=("archaic", "modern"), config=SMALL)


def probabilities(c: StyleClassifier, sentences: list[str]) -> list[tuple]:
    labels, probs = c.model.predict(sentences, k=2)
    return [tuple(zip(lab, p.tolist())) for lab, p in zip(labels, probs)]


def test_separates_the_styles_on_held_out_sentences(classifier):
    assert classifier.accuracy(*HELD_OUT) >= 0.95
    assert classifier.share(HELD_OUT[0], "archaic") >= 0.95
    assert classifier.share(HELD_OUT[1], "archaic") <= 0.05
    assert classifier.predict(["thou hath", "you have"]) == ["archaic", "modern"]


def test_empty_sentences_get_a_label_and_no_sentences_no_share(classifier):
    assert set(classifier.predict(["", "  "])) <= {"archaic", "modern"}
    assert classifier.predict([]) == []
    with pytest.raises(ValueError):
        classifier.share([], "archaic")
    with pytest.raises(InputError, match="klingon"):
        classifier.share(["thou art"], "klingon")


def test_training_twice_gives_the_same_model_and_the_seed_matters(classifier):
    for _ in range(3):  # after other trainings have freed memory: a matrix on reused heap memory differed
        again = StyleClassifier.train(*TRAIN, labels=("archaic", "modern"), config=SMALL)
        assert probabilities(again, NEUTRAL + HELD_OUT[0]) == probabilities(classifier, NEUTRAL + HELD_OUT[0])
    other = StyleClassifier.train(*TRAIN, labels=("archaic", "modern"), config=SMALL.model_copy(update={"seed": 2}))
    assert probabilities(other, NEUTRAL) != probabilities(classifier, NEUTRAL)


def test_save_and_load_keep_predictions_and_label_order(classifier, tmp_path):
    classifier.save(tmp_path / "clf")
    loaded = StyleClassifier.load(tmp_path / "clf")
    assert loaded.labels == ("archaic", "modern")
    assert probabilities(loaded, NEUTRAL + HELD_OUT[1]) == probabilities(classifier, NEUTRAL + HELD_OUT[1])
    with pytest.raises(InputError):
        StyleClassifier.load(tmp_path / "missing")


def test_training_leaves_no_files_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    StyleClassifier.train(TRAIN[0][:20], TRAIN[1][:20], config=SMALL)
    assert list(tmp_path.iterdir()) == []


def test_a_matrix_too_small_to_start_zeroed_is_refused():
    with pytest.raises(ValueError, match="uninitialised"):
        ClassifierConfig(dim=16, buckets=5_000)


@pytest.mark.parametrize("empty_side", [[], ["", " "]])
def test_an_empty_training_side_is_named(empty_side):
    with pytest.raises(InputError) as err:
        StyleClassifier.train(TRAIN[0], empty_side, labels=("archaic", "modern"), config=SMALL)
    assert err.value.source == "modern"
    with pytest.raises(InputError, match="distinct"):
        StyleClassifier.train(*TRAIN, labels=("same", "same"), config=SMALL)
