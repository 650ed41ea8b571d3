"""The stage's file formats, its model lookup and its criterion, on inputs written here."""
import math

import pytest

from components.corpus import Sentences
from components.errors import InputError
from components.report import Criterion
from components.store import ArtifactStore
from components.backtranslate.bundle import model_directory
from components.backtranslate.catalog import MonolingualCorpus, ParallelTest, TrainingHistory
from components.backtranslate.criterion import ROUND_TRIP_BLEU, round_trip_criterion


def _write(directory, stem, lines):
    Sentences([str(i) for i in range(len(lines))], lines).write(directory, stem)


def test_corpus_and_test_lines_read_back_and_the_test_is_cut_to_a_limit(tmp_path):
    _write(tmp_path, "train", ["a b", "c"])
    _write(tmp_path, "valid", ["d"])
    _write(tmp_path, "src", ["s1", "s2", "s3"])
    _write(tmp_path, "tgt", ["t1", "t2", "t3"])
    assert MonolingualCorpus.load(tmp_path) == MonolingualCorpus(["a b", "c"], ["d"])
    assert ParallelTest.load(tmp_path) == ParallelTest(["s1", "s2", "s3"], ["t1", "t2", "t3"])
    assert ParallelTest.load(tmp_path, 2) == ParallelTest(["s1", "s2"], ["t1", "t2"])
    assert ParallelTest.load(tmp_path).raw is None  # as written before the raw lines were kept


def test_a_test_with_raw_lines_loads_them_cut_like_the_tokens(tmp_path):
    Sentences(["1", "2"], ["s1 .", "s2 ."], ["S1.", "S2."]).write(tmp_path, "src")
    Sentences(["1", "2"], ["t1 .", "t2 ."], ["T1.", "T2."]).write(tmp_path, "tgt")
    assert ParallelTest.load(tmp_path) == ParallelTest(["s1 .", "s2 ."], ["t1 .", "t2 ."],
                                                       (["S1.", "S2."], ["T1.", "T2."]))
    assert ParallelTest.load(tmp_path, 1).raw == (["S1."], ["T1."])
    (tmp_path / "tgt.raw.txt").unlink()  # half-written by hand: no standard references
    assert ParallelTest.load(tmp_path).raw is None


def test_history_round_trips_and_rounds_for_tables(tmp_path):
    rows = [{"step": 10, "criterion": 1.23456, "best": True}, {"step": 20, "criterion": 0.5, "best": False}]
    TrainingHistory(rows).save(tmp_path)
    assert TrainingHistory.load(tmp_path).rows == rows
    assert TrainingHistory(rows).rounded()[0] == {"step": 10, "criterion": 1.235, "best": True}


def test_model_directory_takes_a_ref_a_directory_its_config_or_a_sha256_prefix(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    refs = []
    for note in ("one", "two"):
        with store.writer("translation-model", f"model-{note}", {}, directory=True) as out:
            (out.path / "config.json").write_text(f'{{"note": "{note}"}}', encoding="utf-8")
        refs.append(out.ref)
    where = store.path(refs[0])
    assert model_directory(refs[0], store) == where
    assert model_directory(str(where), store) == where
    assert model_directory(where / "config.json", store) == where
    assert model_directory(refs[0].sha256[:10].upper(), store) == where
    with pytest.raises(InputError, match="no such model"):
        model_directory("0123456789abcdef", store)
    with pytest.raises(InputError, match="no such model"):
        model_directory(tmp_path / "nowhere", store)


def test_the_criterion_prefers_higher_round_trip_bleu_and_starts_below_every_value():
    assert isinstance(ROUND_TRIP_BLEU, Criterion) and ROUND_TRIP_BLEU.higher_is_better
    assert ROUND_TRIP_BLEU.better(2.0, 1.0) and not ROUND_TRIP_BLEU.better(1.0, 1.0)
    assert round_trip_criterion(3.0, 5.0) == 4.0
    assert ROUND_TRIP_BLEU.worst == -math.inf and ROUND_TRIP_BLEU.better(0.0, ROUND_TRIP_BLEU.worst)
    assert Criterion(name="loss", higher_is_better=False).worst == math.inf
