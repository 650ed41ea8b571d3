"""The corpus stage end to end on small files: outputs, caching, refresh, bad input."""
import time
from pathlib import Path

import numpy as np
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from components.corpus import CorpusConfig, DictionaryConfig, SideConfig, Sentences
from components.embeddings import CountVectorsConfig, EmbeddingConfig
from components.errors import InputError
from components.store import ArtifactStore
from flows.corpus import prepare_corpus

EN = [f"e{i}" for i in range(200)]
FR = [f"f{i}" for i in range(200)]


def _write_corpus(path: Path, vocab: list[str], lines: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    path.write_text("".join(" ".join(rng.choice(vocab, size=10)) + " .\n" for _ in range(lines)),
                    encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    d = tmp_path / "in"
    d.mkdir()
    rng = np.random.default_rng(9)
    test_idx = [rng.choice(200, size=6) for _ in range(20)]
    (d / "test.en").write_text("".join(" ".join(EN[i] for i in s) + "\n" for s in test_idx))
    (d / "test.fr").write_text("".join(" ".join(FR[i] for i in s) + "\n" for s in test_idx))
    (d / "dict.tsv").write_text("".join(f"{e}\t{f}\n" for e, f in zip(EN, FR)))
    return {"en": _write_corpus(d / "en.txt", EN, 1500, 1), "fr": _write_corpus(d / "fr.txt", FR, 1500, 2),
            "test_en": d / "test.en", "test_fr": d / "test.fr", "dict": d / "dict.tsv"}


def _config(files: dict[str, Path], **overrides) -> CorpusConfig:
    base = dict(src=SideConfig(lang="en", files=(files["en"],)), tgt=SideConfig(lang="fr", files=(files["fr"],)),
                test_files=(files["test_en"], files["test_fr"]),
                embeddings=EmbeddingConfig(dim=20, epochs=1, min_count=1, count=CountVectorsConfig(dim=4)),
                dictionary=DictionaryConfig(files=(files["dict"],)))
    base.update(overrides)
    return CorpusConfig(**base)


def _task_states(flow_state) -> dict[str, str]:
    """Task run name -> final state name ('Completed', 'Cached', ...) for one corpus flow run.

    Task runs reach the server in the background: under load the last one may still read
    'Running', or not be there yet, just after the flow returns, so wait (up to 30 s) until
    every stage's run is there and every run is final."""
    deadline = time.monotonic() + 30
    while True:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[flow_state.state_details.flow_run_id])))
        there = all(r.state.is_final() for r in runs) and set(STAGES) <= {r.name for r in runs}
        if there or time.monotonic() > deadline:
            return {r.name: r.state.name for r in runs}
        time.sleep(0.5)


STAGES = ["prepare-side-en", "prepare-side-fr", "prepare-test", "train-embeddings-en", "train-embeddings-fr",
          "build-dictionary", "check-leakage", "measure-isomorphism"]


def test_outputs_cache_partial_rerun_and_refresh(files, data_dir):
    cfg = _config(files)
    first = prepare_corpus(cfg, return_state=True)
    result = first.result()
    store = ArtifactStore(data_dir / "store")
    for ref in (result.src_corpus, result.tgt_corpus, result.test, result.src_vectors, result.dictionary):
        assert store.verify(ref)
    train = Sentences.read(store.path(result.src_corpus), "train")
    assert len(train.lines) + result.src_corpus.meta["valid_sentences"] == 1500
    test_fr = Sentences.read(store.path(result.test), "tgt")  # the user's test lines, as read, beside their tokens
    assert test_fr.raw == files["test_fr"].read_text().splitlines() and len(test_fr.lines) == 20
    assert result.tgt_vectors.meta["words"] == 201  # 200 words and "."
    assert result.tgt_vectors.meta["dim"] == 24 and result.tgt_vectors.meta["parts"] == [20, 4]  # fastText's, PPMI-SVD
    assert result.dictionary.meta["seed_pairs"] + result.dictionary.meta["test_pairs"] == 200
    assert all(v == 0 for v in result.leakage.values())
    assert result.isomorphism["eigenvector_similarity"] >= 0 and -1 <= result.isomorphism["relational_similarity"] <= 1
    assert any(str(r["statistic"]).startswith("isomorphism") for r in result.stats_rows())
    states = _task_states(first)
    assert all(states[s] == "Completed" for s in STAGES), states

    again = _task_states(prepare_corpus(cfg, return_state=True))
    assert all(again[s] == "Cached" for s in STAGES), again

    _write_corpus(files["fr"], FR, 1600, 3)  # the target corpus changes; the source does not
    changed = _task_states(prepare_corpus(cfg, return_state=True))
    assert changed["prepare-side-en"] == changed["train-embeddings-en"] == "Cached", changed
    assert changed["prepare-side-fr"] == changed["train-embeddings-fr"] == "Completed", changed
    assert changed["build-dictionary"] == "Completed"

    refreshed = _task_states(prepare_corpus(cfg, refresh=True, return_state=True))
    assert all(refreshed[s] == "Completed" for s in STAGES if s != "check-leakage"), refreshed


def _store_objects(data_dir: Path) -> set[Path]:
    return set((data_dir / "store" / "objects").glob("*/*")) if (data_dir / "store").exists() else set()


@pytest.mark.parametrize("problem", ["missing", "empty", "latin-1"])
def test_bad_corpus_files_fail_clearly_and_leave_nothing(files, data_dir, problem):
    bad = files["fr"]
    if problem == "missing":
        bad = bad.with_name("absent.txt")
    elif problem == "empty":
        bad.write_text("\n\n")
    else:
        bad.write_bytes("le caf\u00e9 est bon .\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        prepare_corpus(_config(files, tgt=SideConfig(lang="fr", files=(bad,))))
    assert bad.name in str(err.value)
    assert not any(p.name.startswith("fr") for obj in _store_objects(data_dir) for p in obj.iterdir())
    tmp = data_dir / "store" / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir())


def test_unknown_language_and_pair_without_dictionary(data_dir):
    with pytest.raises(InputError, match="'xx'"):
        prepare_corpus(CorpusConfig.for_pair("en-xx", dictionary=DictionaryConfig(files=())))
    with pytest.raises(InputError, match="pair es-de"):
        prepare_corpus(CorpusConfig.for_pair("es-de"))
