"""Word embeddings: fastText skipgram training, count-based (PPMI-SVD) vectors beside them, and the
`.vec` text format."""
from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sparse
from pydantic import BaseModel, ConfigDict, Field
from scipy.sparse.linalg import svds

from components.errors import InputError


@dataclass(frozen=True)
class Embeddings:
    """A vocabulary and its vectors.

    words: the vocabulary, most frequent first (as fastText writes it).
    vectors: float32 array of shape (len(words), dim).
    """

    words: list[str]
    vectors: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}


def _vec_rows(path: Path, max_words: int | None) -> Iterator[tuple[int, int, str, list[str]]]:
    """(announced count, line number, word, value strings) of a `.vec` file's rows, checking the
    header, each row's length, duplicates and UTF-8; InputError naming `path` otherwise."""
    if not path.is_file():
        raise InputError(path, "embedding file not found")
    seen: set[str] = set()
    try:
        with path.open(encoding="utf-8") as f:
            header = f.readline().split()
            if len(header) != 2 or not all(h.isdigit() for h in header):
                raise InputError(path, f"first line must be '<count> <dim>', got {' '.join(header)!r}")
            count, dim = int(header[0]), int(header[1])
            if dim <= 0:
                raise InputError(path, f"dimension must be positive, got {dim}")
            for lineno, line in enumerate(f, start=2):
                if max_words is not None and len(seen) >= max_words:
                    break
                parts = line.rstrip("\n").rstrip(" ").split(" ")
                if len(parts) != dim + 1:
                    raise InputError(path, f"line {lineno}: expected {dim} values, got {len(parts) - 1}")
                if parts[0] in seen:
                    raise InputError(path, f"line {lineno}: duplicate word {parts[0]!r}")
                seen.add(parts[0])
                yield count, lineno, parts[0], parts[1:]
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 ({e.reason} at byte {e.start})") from None


def read_vec(path: Path, max_words: int | None = None) -> Embeddings:
    """Read a fastText `.vec` text file, checking its shape and values.

    Raises InputError naming `path` for a missing file, a bad header, rows of the
    wrong dimension, duplicate words or non-finite values.
    """
    path = Path(path)
    words: list[str] = []
    rows: list[np.ndarray] = []
    count = 0
    for count, lineno, word, values in _vec_rows(path, max_words):
        try:
            vec = np.asarray(values, dtype=np.float32)
        except ValueError as e:
            raise InputError(path, f"line {lineno}: {e}") from None
        if not np.isfinite(vec).all():
            raise InputError(path, f"line {lineno}: non-finite value in vector of {word!r}")
        words.append(word)
        rows.append(vec)
    if not words:
        raise InputError(path, "no vectors in file")
    if max_words is None and len(words) != count:
        raise InputError(path, f"header announces {count} words, file holds {len(words)}")
    return Embeddings(words, np.stack(rows))


_NOT_FINITE = re.compile(r"nan|inf", re.IGNORECASE)


def check_vec(path: Path) -> int:
    """Check a whole `.vec` file as `read_vec` would, without converting its values (a few
    seconds for a 200k-word file, before any flow starts); its dimension."""
    path = Path(path)
    words, count, dim = 0, 0, 0
    for count, lineno, word, values in _vec_rows(path, None):
        if _NOT_FINITE.search(" ".join(values)):
            raise InputError(path, f"line {lineno}: non-finite value in vector of {word!r}")
        words, dim = words + 1, len(values)
    if not words:
        raise InputError(path, "no vectors in file")
    if words != count:
        raise InputError(path, f"header announces {count} words, file holds {words}")
    return dim


def write_vec(emb: Embeddings, path: Path, precision: int = 5) -> None:
    """Write `emb` in `.vec` text format (header '<count> <dim>', then 'word v1 ... vd')."""
    if emb.vectors.ndim != 2 or emb.vectors.shape[0] != len(emb.words):
        raise ValueError(f"vectors of shape {emb.vectors.shape} do not match {len(emb.words)} words")
    fmt = f"%.{precision}f"
    with Path(path).open("w", encoding="utf-8") as f:
        f.write(f"{len(emb.words)} {emb.dim}\n")
        for word, vec in zip(emb.words, emb.vectors):
            f.write(word + " " + " ".join(fmt % x for x in vec) + "\n")


# fastText 0.9.3 initialises its input matrix in ten blocks, one per training thread: with
# fewer than ten threads only the first blocks get random values and the rest start at zero.
# Multi-threaded (Hogwild) training fills every block but differs from run to run; the
# reproducible mode trains on one thread from a seeded start of every word row instead.
_INIT_BLOCKS = 10

EOS = "</s>"  # fastText's end-of-line token: not a word, left out of exported vectors


class CountVectorsConfig(BaseModel):
    """PPMI-SVD vectors (Levy, Goldberg & Dagan 2015) appended to fastText's: on corpora of about
    a million tokens the two together map far better than either alone. 0 dimensions: off."""

    model_config = ConfigDict(frozen=True)

    dim: int = Field(0, ge=0, le=1000)             # SVD components kept; 0 leaves fastText's vectors alone
    window: int = Field(5, ge=1)                   # co-occurrence window, weighted (window-d+1)/window
    smoothing: float = Field(0.75, gt=0, le=1)     # context counts raised to this power (context distribution smoothing)
    power: float = Field(1.0, ge=0)                # singular values raised to this power weigh the components
    weight: float = Field(1.0, gt=0)               # their share beside fastText's: each part unit length, this one scaled


class EmbeddingConfig(BaseModel):
    """fastText skipgram settings (defaults suit Bible-sized corpora of ~1M tokens), optionally
    with count-based vectors appended (`count`).

    `reproducible` (the default) trains on one thread from word vectors drawn with `seed`,
    so the same corpus gives the same vectors bit for bit (the two sides train in parallel);
    off, fastText uses every core and its vectors vary between runs.
    """

    model_config = ConfigDict(frozen=True)

    dim: int = Field(300, ge=2, le=1000)           # vector size
    epochs: int = Field(10, ge=1)                  # passes over the corpus; small corpora need more
    min_count: int = Field(3, ge=1)                # rarer words get no vector
    window: int = Field(5, ge=1)                   # context window size
    negatives: int = Field(10, ge=1)               # negative samples per positive
    lr: float = Field(0.05, gt=0)                  # initial learning rate
    min_subword: int = Field(3, ge=0)              # character n-gram range; 0/0 disables subwords
    max_subword: int = Field(6, ge=0)
    buckets: int = Field(200_000, ge=1)            # hashed n-gram rows; fastText's 2M wastes memory here
    reproducible: bool = True                      # one thread, seeded start: the same vectors every run
    seed: int = 0                                  # draws the start of the word rows (reproducible mode)
    count: CountVectorsConfig = CountVectorsConfig()  # PPMI-SVD vectors appended (off by default)


# fewer distinct words than this cannot give a space worth mapping (and fastText may stop)
MIN_WORDS = 10


# fastText runs in a child process: its C++ progress lines (stderr) can be read there without
# touching this process's stderr, which other tasks' threads share.
_TRAIN_CHILD = """
import json, sys
import fasttext, numpy as np
job = json.loads(sys.argv[1])
model = fasttext.train_unsupervised(**job["args"], verbose=2)
words, counts = model.get_words(include_freq=True)
np.save(job["out"] + "/vectors.npy", np.stack([model.get_word_vector(w) for w in words]).astype(np.float32))
with open(job["out"] + "/words.json", "w", encoding="utf-8") as f:
    json.dump({"words": list(words), "counts": [int(c) for c in counts]}, f)
"""
_PROGRESS = re.compile(r"Progress:\s*([\d.]+)%.*?words/sec/thread:\s*(\d+).*?avg\.loss:\s*([\d.naninf-]+)")

# (done epochs, total epochs, metrics): called once per finished epoch
EpochCallback = Callable[[int, int, dict[str, float]], None]


def train_fasttext(corpus: Path, config: EmbeddingConfig, threads: int, source: str | None = None,
                   on_epoch: EpochCallback | None = None,
                   on_wait: Callable[[float], None] | None = None) -> tuple[Embeddings, list[int]]:
    """Train skipgram vectors on a tokenised corpus (one sentence per line, tokens split by spaces).

    Returns the embeddings (vocabulary most frequent first, vectors (vocab, dim)) and
    the corpus count of each word. A corpus too small for the settings is refused, naming
    `source` (default: the file) and the counts, before fastText runs. `on_epoch` hears of
    finished epochs with fastText's running loss (on one thread, fastText reports only the
    last), `on_wait` of the seconds so far every 30 s without news.
    """
    corpus = Path(corpus)
    name = source or str(corpus)
    if not corpus.is_file() or corpus.stat().st_size == 0:
        raise InputError(name, "empty corpus: nothing to train embeddings on")
    text = corpus.read_text(encoding="utf-8")
    counts_in = Counter(text.split())
    frequent = sum(1 for c in counts_in.values() if c >= config.min_count)
    if frequent < MIN_WORDS:
        raise InputError(name, f"too small for embeddings: {frequent} of {len(counts_in)} distinct words occur "
                               f"at least min_count={config.min_count} times (at least {MIN_WORDS} needed)")
    args = dict(input=str(corpus), model="skipgram", dim=config.dim, epoch=config.epochs,
                minCount=config.min_count, ws=config.window, neg=config.negatives, lr=config.lr,
                minn=config.min_subword, maxn=config.max_subword, bucket=config.buckets,
                thread=max(threads, _INIT_BLOCKS))
    with tempfile.TemporaryDirectory(prefix="fasttext-") as out:
        if config.reproducible:
            args.update(thread=1, pretrainedVectors=_seeded_start(counts_in, text.count("\n"), config, Path(out)))
        failure = run_fasttext_child(json.dumps({"args": args, "out": out}), config.epochs, on_epoch, on_wait)
        if failure is not None:  # e.g. "Encountered NaN" on corpora too small for the settings
            raise InputError(name, f"fastText training failed: {failure}")
        trained = json.loads((Path(out) / "words.json").read_text(encoding="utf-8"))
        all_vectors = np.load(Path(out) / "vectors.npy")
    kept = [i for i, w in enumerate(trained["words"]) if w != EOS]
    words = [trained["words"][i] for i in kept]
    counts = [counts_in[w] for w in words]  # the corpus's (a seeded start adds one to fastText's)
    if len(words) < 2:
        raise InputError(name, f"only {len(words)} words reach min_count={config.min_count}")
    return Embeddings(words, all_vectors[kept]), counts


def _seeded_start(counts: Counter, lines: int, config: EmbeddingConfig, directory: Path) -> str:
    """A .vec of fastText's own start distribution, U(-1/dim, 1/dim), for every word it will keep
    (and its end-of-line token), drawn with `config.seed` in a fixed order; its path."""
    words = sorted((w for w, c in counts.items() if c >= config.min_count), key=lambda w: (-counts[w], w))
    if lines >= config.min_count:
        words.append(EOS)
    start = np.random.default_rng(config.seed).uniform(-1 / config.dim, 1 / config.dim, (len(words), config.dim))
    path = directory / "start.vec"
    write_vec(Embeddings(words, start.astype(np.float32)), path, precision=8)
    return str(path)


def run_fasttext_child(job: str, epochs: int, on_epoch: EpochCallback | None = None,
                       on_wait: Callable[[float], None] | None = None, wait_every: float = 30.0,
                       code: str = _TRAIN_CHILD) -> str | None:
    """Run fastText in a fresh process (`code`, given the JSON `job` as its argument; by default the
    skipgram child), reporting epochs as its progress lines pass, and calling `on_wait` with the
    seconds so far whenever `wait_every` pass without one (fastText prints no progress while it
    trains on one thread); its last error line when it fails, else None."""
    child = subprocess.Popen([sys.executable, "-c", code, job], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    done, other, buffer, started = 0, [], b"", time.monotonic()
    while True:
        if not select.select([child.stderr], [], [], wait_every)[0]:
            if on_wait is not None:
                on_wait(time.monotonic() - started)
            continue
        chunk = child.stderr.read1(4096)
        if not chunk:
            break
        *lines, buffer = re.split(rb"[\r\n]", buffer + chunk)
        for line in (raw.decode("utf-8", "replace").strip() for raw in lines):
            match = _PROGRESS.search(line)
            if match is None:
                if line:
                    other.append(line)
                continue
            reached = min(epochs, int(float(match[1]) / 100 * epochs + 1e-6))
            if reached > done and on_epoch is not None:  # epochs passed between two lines are not invented
                on_epoch(reached, epochs, {"loss": float(match[3]), "words/s/thread": float(match[2])})
            done = max(done, reached)
    if child.wait() != 0:
        return other[-1] if other else f"exit status {child.returncode}"
    return None


def cooccurrences(lines: Iterator[str] | Sequence[str], words: Sequence[str], window: int) -> sparse.csr_matrix:
    """Symmetric co-occurrence counts (len(words), len(words)) of the words within `window` tokens
    of each other in the same line, a pair d apart weighted (window - d + 1) / window (word2vec's
    dynamic window in expectation); tokens outside `words` keep their place but count for nothing."""
    index = {w: i for i, w in enumerate(words)}
    ids, line_of = [], []
    for n, line in enumerate(lines):
        tokens = line.split()
        ids.extend(index.get(t, -1) for t in tokens)
        line_of.extend([n] * len(tokens))
    ids_a, line_a = np.asarray(ids, dtype=np.int64), np.asarray(line_of, dtype=np.int64)
    rows, cols, weights = [], [], []
    for d in range(1, window + 1):
        a, b = ids_a[:-d], ids_a[d:]
        keep = (a >= 0) & (b >= 0) & (line_a[:-d] == line_a[d:])
        a, b = a[keep], b[keep]
        rows += [a, b]
        cols += [b, a]
        weights.append(np.full(2 * len(a), (window - d + 1) / window))
    size = len(words)
    # one matrix from every pair: the conversion sums the repeated (row, col) entries
    return sparse.coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(size, size)).tocsr()


def ppmi_svd(counts: sparse.csr_matrix, config: CountVectorsConfig, seed: int = 0) -> np.ndarray:
    """Word vectors (words, config.dim) from co-occurrence counts: positive PMI with smoothed
    context counts, truncated SVD, each word's row and context row weighted by the singular
    values to `config.power` and added. Columns beyond the matrix's rank are zero. Deterministic
    for a given `seed` (ARPACK's start vector)."""
    size = counts.shape[0]
    coo = counts.tocoo()
    total = coo.data.sum()
    out = np.zeros((size, config.dim), dtype=np.float32)
    if total <= 0:
        return out
    row_p = np.asarray(counts.sum(axis=1)).ravel() / total
    context = np.asarray(counts.sum(axis=0)).ravel() ** config.smoothing
    context_p = context / context.sum()
    pmi = np.log(coo.data / total / (row_p[coo.row] * context_p[coo.col]))
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape)
    k = min(config.dim, size - 1)
    if k < 1:
        return out
    if size > 2 * config.dim:
        u, s, vt = svds(ppmi, k=k, random_state=seed)
    else:  # small vocabularies: ARPACK needs k < size - 1 and is slower than a dense SVD here
        u, s, vt = np.linalg.svd(ppmi.toarray())
        u, s, vt = u[:, :k], s[:k], vt[:k]
    order = np.argsort(-s)
    scale = s[order] ** config.power
    out[:, :k] = u[:, order] * scale + vt[order].T * scale
    return out


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero)."""
    return vectors / np.maximum(1e-12, np.linalg.norm(vectors, axis=1, keepdims=True))


def with_count_vectors(emb: Embeddings, corpus: Path, config: CountVectorsConfig, seed: int = 0) -> Embeddings:
    """`emb` with PPMI-SVD vectors of the same words from `corpus` appended: both parts unit length
    per word, the count-based part scaled by `config.weight`. Shape (words, emb.dim + config.dim)."""
    if config.dim == 0:
        return emb
    with Path(corpus).open(encoding="utf-8") as f:
        counts = cooccurrences(f, emb.words, config.window)
    count = unit_rows(ppmi_svd(counts, config, seed)) * config.weight
    return Embeddings(emb.words, np.concatenate([unit_rows(emb.vectors), count], axis=1).astype(np.float32))


def save_vectors(emb: Embeddings, counts: Sequence[int], directory: Path) -> None:
    """The `vectors` artifact: `vectors.vec` plus `vocab.tsv` (word, corpus count)."""
    write_vec(emb, Path(directory) / "vectors.vec")
    (Path(directory) / "vocab.tsv").write_text("".join(f"{w}\t{c}\n" for w, c in zip(emb.words, counts)),
                                               encoding="utf-8")


def load_vectors(directory: Path) -> Embeddings:
    """The embeddings of a `vectors` artifact."""
    return read_vec(Path(directory) / "vectors.vec")


def load_vocabulary(directory: Path) -> list[str]:
    """The words of a `vectors` artifact, most frequent first."""
    lines = (Path(directory) / "vocab.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in lines]
