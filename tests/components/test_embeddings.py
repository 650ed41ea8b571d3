import numpy as np
import pytest

from components.embeddings import (CountVectorsConfig, EmbeddingConfig, Embeddings, check_vec, cooccurrences, ppmi_svd,
                                   read_vec, train_fasttext, with_count_vectors, write_vec)
from components.errors import InputError


def test_vec_round_trip(tmp_path):
    emb = Embeddings(["a", "b", "c"], np.arange(12, dtype=np.float32).reshape(3, 4) / 7)
    write_vec(emb, tmp_path / "x.vec")
    back = read_vec(tmp_path / "x.vec")
    assert back.words == emb.words
    np.testing.assert_allclose(back.vectors, emb.vectors, atol=1e-5)


@pytest.mark.parametrize("body, message", [
    ("2 3\na 1 2 3\nb 1 2\n", "expected 3 values"),
    ("2 2\na 1 2\na 3 4\n", "duplicate word 'a'"),
    ("2 2\na 1 2\nb nan 4\n", "non-finite"),
    ("a 1 2\n", "first line"),
    ("3 2\na 1 2\n", "announces 3 words"),
    ("2 2\n", "no vectors"),
    ("2 2\na 1 2\nb -Inf 4\n", "non-finite"),
])
@pytest.mark.parametrize("reader", [read_vec, check_vec])
def test_bad_vec_files_name_the_file(tmp_path, body, message, reader):
    path = tmp_path / "bad.vec"
    path.write_text(body)
    with pytest.raises(InputError, match=message) as err:
        reader(path)
    assert "bad.vec" in str(err.value)


def test_check_vec_gives_the_dimension_and_lets_words_spelled_like_numbers_pass(tmp_path):
    path = tmp_path / "ok.vec"
    path.write_text("3 2\nnan 1 2\ninfinity 3 4\nx 1e-3 -2.5\n")
    assert check_vec(path) == 2 and read_vec(path).words == ["nan", "infinity", "x"]


def test_fasttext_trains_on_a_tiny_corpus(tmp_path):
    corpus = tmp_path / "c.txt"
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    lines = [" ".join(["the", *rng.choice(words, size=12)]) for _ in range(2000)]
    corpus.write_text("\n".join(lines) + "\n")
    epochs = []
    emb, counts = train_fasttext(corpus, EmbeddingConfig(dim=20, epochs=3, min_count=1, reproducible=False),
                                 threads=1, on_epoch=lambda done, total, metrics: epochs.append((done, total, metrics)))
    assert emb.words[0] == "the" and "</s>" not in emb.words
    assert emb.vectors.shape == (301, 20) and np.isfinite(emb.vectors).all()
    assert counts[0] == 2000
    # progress: epochs in order, the last one always, with fastText's running loss
    assert [t for _, t, _ in epochs] == [3] * len(epochs) and epochs[-1][0] == 3
    assert [d for d, _, _ in epochs] == sorted({d for d, _, _ in epochs})
    assert all(m["loss"] > 0 and m["words/s/thread"] > 0 for _, _, m in epochs)


def test_fasttext_failure_is_one_line_naming_the_corpus(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c d e f g h i j k\n" * 50)
    with pytest.raises(InputError, match=r"my corpus: fastText training failed: .*(NaN|lr)") as err:
        train_fasttext(corpus, EmbeddingConfig(dim=8, epochs=1, min_count=1, lr=1e9), threads=1, source="my corpus")
    assert "\n" not in str(err.value)


def test_fasttext_refuses_empty_corpus(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="empty.txt"):
        train_fasttext(tmp_path / "empty.txt", EmbeddingConfig(dim=8), threads=1)


def test_fasttext_refuses_a_corpus_too_small_for_min_count_naming_it(tmp_path):
    # one distinct line, de-duplicated: a handful of words, each seen once (fastText: "Empty vocabulary")
    (tmp_path / "tiny.txt").write_text("in the beginning god created the heaven\n")
    with pytest.raises(InputError, match=r"my corpus: too small for embeddings: 0 of 6 distinct words .*min_count=3"):
        train_fasttext(tmp_path / "tiny.txt", EmbeddingConfig(dim=8), threads=1, source="my corpus")


def test_reproducible_training_gives_the_same_vectors_and_the_seed_matters(tmp_path):
    corpus = tmp_path / "c.txt"
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(200)]
    corpus.write_text("".join(" ".join(rng.choice(words, size=10)) + "\n" for _ in range(1500)))
    config = EmbeddingConfig(dim=16, epochs=2, min_count=2)
    (a, counts), (b, _) = (train_fasttext(corpus, config, threads=2) for _ in range(2))
    other, _ = train_fasttext(corpus, config.model_copy(update={"seed": 1}), threads=2)
    assert a.words == b.words and np.array_equal(a.vectors, b.vectors)
    assert a.words == other.words and not np.allclose(a.vectors, other.vectors)
    corpus_counts = {w: int(c) for w, c in zip(*np.unique(corpus.read_text().split(), return_counts=True))}
    assert counts == [corpus_counts[w] for w in a.words]
    assert np.isfinite(a.vectors).all() and np.abs(a.vectors).min(axis=1).max() > 0


def test_a_silent_child_is_heard_of_while_it_trains():
    from components.embeddings import run_fasttext_child

    waits = []
    # a child that prints nothing for a while, then fails with an error line of its own
    failure = run_fasttext_child('{"args": {"input": "/nonexistent/corpus.txt"}, "out": "/tmp"}', 1, None,
                                 on_wait=waits.append, wait_every=0.05)
    assert failure and "corpus.txt" in failure
    assert waits and all(b > a for a, b in zip(waits, waits[1:]))  # imports alone take longer than 0.05 s


def test_cooccurrences_match_a_direct_count_within_lines():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(12)]
    lines = [" ".join(rng.choice([*vocab, "rare"], size=rng.integers(1, 9))) for _ in range(40)]
    window = 3
    expected = np.zeros((12, 12))
    index = {w: i for i, w in enumerate(vocab)}
    for line in lines:
        tokens = line.split()
        for i, a in enumerate(tokens):
            for j in range(i + 1, min(len(tokens), i + window + 1)):
                if a in index and tokens[j] in index:
                    weight = (window - (j - i) + 1) / window
                    expected[index[a], index[tokens[j]]] += weight
                    expected[index[tokens[j]], index[a]] += weight
    np.testing.assert_allclose(cooccurrences(lines, vocab, window).toarray(), expected)


def _shared_context_corpus():
    """'cat' and 'dog' occur in the same contexts, 'ship' and 'boat' in others."""
    rng = np.random.default_rng(1)
    animals, vessels = ["eats", "barks", "sleeps", "runs"], ["sails", "sinks", "floats", "docks"]
    lines = []
    for _ in range(400):
        lines.append(f"the {rng.choice(['cat', 'dog'])} {rng.choice(animals)} {rng.choice(animals)}")
        lines.append(f"a {rng.choice(['ship', 'boat'])} {rng.choice(vessels)} {rng.choice(vessels)}")
    return lines, ["the", "a", "cat", "dog", "ship", "boat", *animals, *vessels]


def test_ppmi_svd_gives_words_of_shared_contexts_close_vectors_and_is_deterministic():
    lines, words = _shared_context_corpus()
    counts = cooccurrences(lines, words, 2)
    config = CountVectorsConfig(dim=4)
    vectors = ppmi_svd(counts, config, seed=3)
    assert vectors.shape == (len(words), 4)
    np.testing.assert_array_equal(vectors, ppmi_svd(counts, config, seed=3))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    at = {w: i for i, w in enumerate(words)}
    assert unit[at["cat"]] @ unit[at["dog"]] > 0.9 > 0.2 > abs(unit[at["cat"]] @ unit[at["ship"]])
    wide = ppmi_svd(counts, CountVectorsConfig(dim=20))  # more components than words: the rest are zero
    assert wide.shape == (len(words), 20) and not wide[:, len(words) - 1:].any()


def test_count_vectors_are_appended_unit_length_and_weighted(tmp_path):
    lines, words = _shared_context_corpus()
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n")
    emb = Embeddings(words, np.random.default_rng(0).normal(size=(len(words), 6)).astype(np.float32))
    both = with_count_vectors(emb, corpus, CountVectorsConfig(dim=4, weight=0.5))
    assert both.words == words and both.dim == 10
    np.testing.assert_allclose(np.linalg.norm(both.vectors[:, :6], axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(both.vectors[:, 6:], axis=1), 0.5, rtol=1e-5)
    assert with_count_vectors(emb, corpus, CountVectorsConfig(dim=0)) is emb
