"""A planted language pair: language 'xb' is a word-for-word cipher of 'xa' with the same grammar."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from components.embeddings import Embeddings
from components.backtranslate.config import DecodeConfig, ModelConfig, TrainConfig, TranslateConfig
from components.backtranslate.vocab import Vocabulary
from components.backtranslate.wordbyword import csls_lexicon


@dataclass
class CipherPair:
    train: tuple[list[str], list[str]]   # monolingual, different sentences on each side
    valid: tuple[list[str], list[str]]
    test_src: list[str]
    test_tgt: list[str]                  # the cipher of test_src
    test_raw: tuple[list[str], list[str]]  # both as a text file would hold them (capital, full stop)
    aligned: tuple[Embeddings, Embeddings]
    lexicons: tuple[dict[str, str], dict[str, str]]
    vocabs: tuple[Vocabulary, Vocabulary]


def cipher(sentence: str) -> str:
    return " ".join("q" + w for w in sentence.split())


def as_written(tokens: str) -> str:
    """'the n1 v2 the n3 .' -> 'The n1 v2 the n3.'"""
    return tokens[0].upper() + tokens[1:].replace(" .", ".")


def cipher_pair(n: int = 600, seed: int = 0, noise: float = 0.1) -> CipherPair:
    rng = np.random.default_rng(seed)
    nouns, verbs = [f"n{i}" for i in range(8)], [f"v{i}" for i in range(4)]

    def sentence() -> str:
        words = ["the", nouns[rng.integers(8)], verbs[rng.integers(4)], "the", nouns[rng.integers(8)]]
        return " ".join(words + (["and", verbs[rng.integers(4)]] if rng.random() < 0.5 else []) + ["."])

    a = [sentence() for _ in range(n)]
    b = [cipher(sentence()) for _ in range(n)]
    words = sorted({w for s in a for w in s.split()})
    vec = rng.normal(size=(len(words), 12)).astype(np.float32)
    src = Embeddings(words, vec)
    tgt = Embeddings([cipher(w) for w in words], vec + noise * rng.normal(size=vec.shape).astype(np.float32))
    test = [sentence() for _ in range(30)]
    vocabs = (Vocabulary.build("xa", a, 100), Vocabulary.build("xb", b, 100))
    test_tgt = [cipher(s) for s in test]
    raw = ([as_written(s) for s in test], [as_written(s) for s in test_tgt])
    return CipherPair((a[:-50], b[:-50]), (a[-50:], b[-50:]), test, test_tgt, raw, (src, tgt),
                      (csls_lexicon(src, tgt), csls_lexicon(tgt, src)), vocabs)


def tiny_config(**train: object) -> TranslateConfig:
    """A model small enough to train in seconds on one core."""
    t = {"steps": 20, "checkpoint_every": 10, "word_by_word_steps": 5, "tokens_per_batch": 200, "warmup": 5,
         "ae_decay_steps": 20, "valid_sentences": 20, "lr": 1e-3, **train}
    return TranslateConfig(model=ModelConfig(d_model=32, layers=1, heads=2, ff=64, vocabulary=100, max_positions=40,
                                             dropout=0.0),
                           train=TrainConfig(**t), decode=DecodeConfig(batch_sentences=16))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread, and the suite shares two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def pair() -> CipherPair:
    return cipher_pair()


def store_stage_inputs(store, pair: CipherPair):
    """The pair as the corpus and mapping stages store it: (src corpus, tgt corpus, test, aligned export) refs."""
    from components.align.catalog import AlignedExport
    from components.corpus import Sentences

    def sentences(lines, raw=None):
        return Sentences([str(i) for i in range(len(lines))], list(lines), raw)

    refs = []
    for lang, train, valid in (("xa", pair.train[0], pair.valid[0]), ("xb", pair.train[1], pair.valid[1])):
        with store.writer("corpus", f"{lang}-A", {"lang": lang}, directory=True) as out:
            sentences(train).write(out.path, "train")
            sentences(valid).write(out.path, "valid")
        refs.append(out.ref)
    with store.writer("parallel-test", "test-xa-xb", {"sentences": len(pair.test_src)}, directory=True) as out:
        sentences(pair.test_src, pair.test_raw[0]).write(out.path, "src")
        sentences(pair.test_tgt, pair.test_raw[1]).write(out.path, "tgt")
    test = out.ref
    with store.writer("aligned-vectors", "aligned-xa-xb", {"method": "planted", "seed": 0}, directory=True) as out:
        AlignedExport("xa", "xb", *pair.aligned).save(out.path)
    return refs[0], refs[1], test, out.ref
