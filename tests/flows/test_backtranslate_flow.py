"""The translation stage end to end on a planted cipher pair: train, select, evaluate, report, translate."""
import pytest

from components.corpus import Sentences
from components.embeddings import write_vec
from components.errors import InputError
from components.store import ArtifactStore
from components.backtranslate.config import BacktranslateStageConfig
from flows.backtranslate import backtranslate, translate, translation_section
from tests.components.backtranslate.conftest import _one_thread, cipher_pair, tiny_config  # noqa: F401 (autouse)


def _sentences(lines):
    return Sentences([str(i) for i in range(len(lines))], list(lines))


@pytest.fixture
def inputs(data_dir):
    store = ArtifactStore(data_dir / "store")
    pair = cipher_pair()
    refs = []
    for lang, train, valid in (("xa", pair.train[0], pair.valid[0]), ("xb", pair.train[1], pair.valid[1])):
        with store.writer("corpus", f"{lang}-A", {"lang": lang}, directory=True) as out:
            _sentences(train).write(out.path, "train")
            _sentences(valid).write(out.path, "valid")
        refs.append(out.ref)
    with store.writer("parallel-test", "test-xa-xb", {"sentences": 30}, directory=True) as out:
        _sentences(pair.test_src).write(out.path, "src")
        _sentences(pair.test_tgt).write(out.path, "tgt")
    test = out.ref
    with store.writer("aligned-vectors", "aligned-xa-xb", {"method": "planted", "seed": 0}, directory=True) as out:
        write_vec(pair.aligned[0], out.path / "xa.vec")
        write_vec(pair.aligned[1], out.path / "xb.vec")
    return store, refs[0], refs[1], test, out.ref


def test_flow_trains_selects_reports_and_the_model_translates(inputs, data_dir):
    store, src, tgt, test, alignment = inputs
    config = BacktranslateStageConfig(translate=tiny_config(steps=20, checkpoint_every=10), eval_beam=2,
                                      device="cpu")
    result = backtranslate(src, tgt, test, alignment, config)
    assert result.selected_step in (10, 20)
    assert result.round_trip_bleu == max(r for r in (result.model.meta["round_trip_bleu"],))
    assert result.word_by_word["bleu_s2t"] > 90  # the planted lexicon is exact
    section = translation_section(result)
    for key in ("bleu_s2t", "bleu_t2s", "chrf_s2t", "chrf_t2s", "round_trip_bleu", "seconds", "model"):
        assert isinstance(section[key], (int, float, str))
    assert set(section["word_by_word"]) >= {"bleu_s2t", "bleu_t2s"}
    assert section["alignment"]["method"] == "planted"
    assert (data_dir / "reports" / "translation-xa-xb.png").stat().st_size > 0
    assert not list((store.root / "checkpoints").glob("*/checkpoint.pt"))  # removed once the model is stored

    again = backtranslate(src, tgt, test, alignment, config)  # cache hit: same model artifact
    assert again.model == result.model

    sentences = ["The n1 v2 the n3 .", "", "日本語 の 文"]
    by_ref = translate(result.model, sentences, "xa-xb", beam=2, device="cpu")
    assert by_ref == translate(section["model"], sentences, "s2t", beam=2, device="cpu")
    assert by_ref == translate(result.model.sha256[:16], sentences, "s2t", beam=2, device="cpu")
    assert by_ref[1] == "" and "日本語" in by_ref[2].split()  # unseen script passes through
    assert all(w.startswith("q") or w in ("日本語", "の", "文") for w in by_ref[0].split())
    with pytest.raises(InputError, match="no such model"):
        translate("0123456789abcdef", sentences)
    with pytest.raises(InputError, match="direction"):
        translate(result.model, sentences, "xa-de")
