"""A fastText style classifier: which of two styles a tokenised sentence is written in.

Transfer accuracy is the share of outputs it assigns the target style (Shen et al. 2017's
protocol); it is trained on the two styles' training corpora, never on transfer outputs.
"""
from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import fasttext
from pydantic import BaseModel, ConfigDict, Field, model_validator

from components.atomic import read_json, write_json
from components.embeddings import run_fasttext_child
from components.errors import InputError

_PREFIX = "__label__"  # fastText reads a line's labels from tokens with this prefix
_ZEROED_FLOATS = 2**23  # 32 MiB of float32: glibc mmaps (zeroed) any request this large
_MODEL, _LABELS = "model.bin", "labels.json"  # the files `save` writes into its directory
# fastText in a fresh process (see ClassifierConfig): train, save, and the parent loads the file
_TRAIN_CHILD = """
import json, sys
import fasttext
job = json.loads(sys.argv[1])
fasttext.train_supervised(**job["args"]).save_model(job["out"])
"""


class ClassifierConfig(BaseModel):
    """fastText supervised settings for corpora of some 10k-100k sentences a style.

    Training is single-threaded and seeded, so the same corpora give the same model bit for bit,
    provided the input matrix starts at zero past its first tenth (below). fastText 0.9.3 allocates
    that matrix uninitialised (posix_memalign) and draws only the first tenth of it on one thread
    (one block per thread, of ten): the rest is whatever memory malloc hands back, reused heap
    memory on a small matrix, which gave different models and "Encountered NaN" run to run.
    glibc serves requests of 32 MiB and more (its largest mmap threshold) with fresh zeroed pages,
    so `buckets * dim` must reach 2**23 floats (the word rows come on top). word_ngrams >= 2
    because fastText drops the buckets altogether for word_ngrams 1, leaving a small matrix.
    Training runs in a child process: in a long-lived one (a flow holding torch and its corpora) the
    heap's free space can exceed 32 MiB and serve the matrix unzeroed, which gave "Encountered NaN"
    in the style flow on the built-in corpora.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dim: int = Field(50, ge=2, le=1000)        # hidden size; two classes need little
    epochs: int = Field(20, ge=1)              # passes over both corpora; small corpora need more
    lr: float = Field(0.1, gt=0)               # fastText's supervised default
    word_ngrams: int = Field(2, ge=2)          # bigrams catch 'thou art' / 'you are' beside single words
    min_count: int = Field(1, ge=1)            # rare archaic forms are the signal: keep every word
    buckets: int = Field(200_000, ge=1)        # hashed n-gram rows: 40 MB at dim 50; fastText's 2M, 400 MB
    seed: int = Field(1, ge=1)                 # the start and the sampling of the one training thread, and
    #   the shuffle of the training lines. >= 1: fastText seeds std::minstd_rand with it, which
    #   takes 0 as 1, so seeds 0 and 1 give the same model

    @model_validator(mode="after")
    def _zeroed_matrix(self) -> "ClassifierConfig":
        if self.buckets * self.dim < _ZEROED_FLOATS:
            raise ValueError(f"buckets * dim = {self.buckets * self.dim} is under {_ZEROED_FLOATS} floats (32 MiB): "
                             "fastText would train from uninitialised memory (see the class docstring)")
        return self


def _clean(sentence: str) -> str:
    """One line of single-space-separated tokens (fastText reads one sentence per line)."""
    return " ".join(sentence.split())


class StyleClassifier:
    """A trained fastText model and the two style labels, in the order they were given."""

    def __init__(self, model: fasttext.FastText._FastText, labels: tuple[str, str]) -> None:
        self.model = model
        self.labels = labels

    @classmethod
    def train(cls, sentences_a: Sequence[str], sentences_b: Sequence[str],
              labels: tuple[str, str] = ("archaic", "modern"),
              config: ClassifierConfig = ClassifierConfig()) -> "StyleClassifier":
        """Train on tokenised sentences of style `labels[0]` (`sentences_a`) and `labels[1]`.

        The lines are shuffled with `config.seed` (fastText's learning rate decays over the file,
        so one style after the other would favour the second). Raises InputError naming the style
        whose side has no tokens, or the labels when they are not two distinct single tokens.
        """
        labels = (str(labels[0]), str(labels[1]))
        if labels[0] == labels[1] or any(not lab or _clean(lab) != lab for lab in labels):
            raise InputError(f"labels {labels}", "need two distinct style names without spaces")
        for label, side in zip(labels, (sentences_a, sentences_b)):
            if not any(s.split() for s in side):
                raise InputError(label, "no training sentences for this style")
        lines = [f"{_PREFIX}{label} {_clean(s)}\n"
                 for label, side in zip(labels, (sentences_a, sentences_b)) for s in side]
        random.Random(config.seed).shuffle(lines)
        with tempfile.TemporaryDirectory(prefix="style-classifier-") as tmp:
            path = Path(tmp) / "train.txt"
            path.write_text("".join(lines), encoding="utf-8")
            # thread=1: Hogwild threads differ run to run. Only the first tenth of the input rows is
            # drawn (ClassifierConfig): the frequent words, which come first; the rest start at zero,
            # which supervised training copes with (their gradient comes through the output rows)
            args = dict(input=str(path), dim=config.dim, epoch=config.epochs, lr=config.lr,
                        wordNgrams=config.word_ngrams, minCount=config.min_count, bucket=config.buckets,
                        seed=config.seed, thread=1, verbose=0)
            out = Path(tmp) / _MODEL
            failure = run_fasttext_child(json.dumps({"args": args, "out": str(out)}), config.epochs, code=_TRAIN_CHILD)
            if failure is not None:
                raise RuntimeError(f"fastText style classifier training failed: {failure}")
            model = fasttext.load_model(str(out))
        return cls(model, labels)

    def predict(self, sentences: Sequence[str]) -> list[str]:
        """The more likely style label of each tokenised sentence. An empty sentence is judged
        on fastText's end-of-line token alone, i.e. on the styles' priors."""
        if not sentences:
            return []
        # a list goes through multilinePredict; the one-string path breaks under numpy 2 (copy=False)
        predicted, _ = self.model.predict([_clean(s) for s in sentences], k=1)
        return [p[0].removeprefix(_PREFIX) for p in predicted]

    def share(self, sentences: Sequence[str], label: str) -> float:
        """Fraction (0..1) of `sentences` judged to be in style `label`.

        Raises ValueError for no sentences (a share of nothing is undefined, and 0.0 would read
        as a failed transfer) and InputError for a label the classifier does not know."""
        if label not in self.labels:
            raise InputError(label, f"not one of the classifier's styles {self.labels}")
        if not sentences:
            raise ValueError("no sentences to classify")
        return sum(p == label for p in self.predict(sentences)) / len(sentences)

    def accuracy(self, sentences_a: Sequence[str], sentences_b: Sequence[str]) -> float:
        """Fraction (0..1) of held-out sentences of both styles (`sentences_a` in `labels[0]`,
        `sentences_b` in `labels[1]`) given their own style, pooled. ValueError if both are empty."""
        total = len(sentences_a) + len(sentences_b)
        if total == 0:
            raise ValueError("no sentences to classify")
        right = sum(p == self.labels[0] for p in self.predict(sentences_a))
        right += sum(p == self.labels[1] for p in self.predict(sentences_b))
        return right / total

    def save(self, directory: Path) -> None:
        """Write the fastText model (`model.bin`) and the labels in order (`labels.json`) into
        `directory`, created if missing."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_model(str(directory / _MODEL))
        write_json(directory / _LABELS, list(self.labels))

    @classmethod
    def load(cls, directory: Path) -> "StyleClassifier":
        """Read what `save` wrote; InputError naming `directory` when a file is missing."""
        directory = Path(directory)
        for name in (_MODEL, _LABELS):
            if not (directory / name).is_file():
                raise InputError(directory, f"no {name}: not a saved style classifier")
        first, second = read_json(directory / _LABELS)
        return cls(fasttext.load_model(str(directory / _MODEL)), (first, second))
