import pydantic
import pytest
import torch

from components.align.config import AlignConfig, InitMethod, Normalization, Retrieval, RetrievalConfig
from components.align.lexicon import induce_lexicon, write_lexicon
from components.sources import read_dictionary_tsv
from components.align.normalize import normalize, unit_length
from components.errors import InputError


def test_config_defaults_are_published_ones_and_frozen():
    config = AlignConfig()
    adv = config.adversarial
    assert (adv.map_beta, adv.dis_layers, adv.dis_hid_dim, adv.dis_input_dropout, adv.dis_steps) == (0.001, 2, 2048, 0.1, 5)
    assert (adv.dis_most_frequent, adv.dis_smooth, adv.batch_size, adv.epoch_size, adv.n_epochs) == (75000, 0.1, 32, 1_000_000, 5)
    assert (config.refine.n_refinement, config.refine.max_rank, config.criterion.n_most_frequent) == (5, 15000, 10000)
    assert (config.vecmap.init_vocab, config.vecmap.stochastic_initial, config.vecmap.stochastic_interval) == (4000, 0.1, 50)
    with pytest.raises(pydantic.ValidationError):
        config.method = InitMethod.ADVERSARIAL
    with pytest.raises(pydantic.ValidationError):
        AlignConfig(refine={"n_refinment": 3})  # typos are refused, not ignored
    assert AlignConfig.model_validate_json(config.model_dump_json()) == config


def test_normalizations():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 6, generator=g) + 3
    for method in Normalization:
        y = normalize(x, method)
        assert y.shape == x.shape
    y = normalize(x, Normalization.ITERATIVE)
    torch.testing.assert_close(y.norm(dim=1), torch.ones(50))
    assert y.mean(dim=0).norm() < 1e-3
    torch.testing.assert_close(normalize(x, Normalization.NONE), x)


def test_lexicon_roundtrip(tmp_path):
    g = torch.Generator().manual_seed(0)
    src = unit_length(torch.randn(5, 4, generator=g))
    entries = induce_lexicon(src, src, list("abcde"), list("ABCDE"), Retrieval.NN, RetrievalConfig(), k=2, max_words=3)
    assert [(e.source, e.target, e.rank) for e in entries[:2]] == [("a", "A", 1), ("a", entries[1].target, 2)]
    assert len(entries) == 6 and entries[0].score == pytest.approx(1.0)
    assert {e.target for e in entries} <= set("ABC")  # candidates are cut to max_words too
    path = tmp_path / "lexicon.tsv"
    write_lexicon(entries, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source\ttarget\tscore\trank" and lines[1].startswith("a\tA\t1.0000")
    dict_path = tmp_path / "dict.tsv"
    dict_path.write_text("chat\tcat\n\nchien dog\n", encoding="utf-8")
    assert read_dictionary_tsv(dict_path) == [("chat", "cat"), ("chien", "dog")]


def test_bad_dictionary_files(tmp_path):
    with pytest.raises(InputError, match="missing.tsv: file not found"):
        read_dictionary_tsv(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("chat\tcat\textra\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1: expected"):
        read_dictionary_tsv(bad)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_dictionary_tsv(empty)



def test_an_export_of_two_styles_of_one_language_keeps_both_spaces(tmp_path):
    import numpy as np

    from components.align.catalog import AlignedExport
    from components.embeddings import Embeddings

    src = Embeddings(["thee", "lord"], np.eye(2, dtype=np.float32))
    tgt = Embeddings(["you", "lord", "the"], np.arange(6, dtype=np.float32).reshape(3, 2))
    AlignedExport("en", "en", src, tgt).save(tmp_path)
    back = AlignedExport.load(tmp_path, "en", "en")
    assert back.src.words == src.words and back.tgt.words == tgt.words
    assert np.allclose(back.tgt.vectors, tgt.vectors)
    assert sorted(p.name for p in tmp_path.glob("*.vec")) == ["en.src.vec", "en.tgt.vec"]
