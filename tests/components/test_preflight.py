"""Pre-flight checks on tiny files built here: good input passes, each bad input is named."""
import gzip
from itertools import permutations
from pathlib import Path

import pytest

from components.corpus import CorpusConfig, DictionaryConfig, SideConfig
from components.embeddings import MIN_WORDS
from components.errors import InputError
from components.split import SplitConfig
from components.preflight import check_corpus, check_vocabulary, decode_lines

WORDS = {"en": ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
                "kilo", "lima"],
         "fr": ["arbre", "bateau", "chat", "dune", "etoile", "feu", "gare", "herbe", "ile", "jardin",
                "lune", "mer"]}


def corpus_text(lang: str, n: int = 120) -> str:
    """n distinct four-word sentences over twelve words: every word occurs often."""
    return "".join(" ".join(p) + "\n" for p in list(permutations(WORDS[lang], 4))[:n])


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def files_config(tmp_path: Path, src: str | bytes | None = None, **update) -> CorpusConfig:
    src_file = write(tmp_path / "en.txt", corpus_text("en") if src is None else src)
    tgt_file = write(tmp_path / "fr.txt", corpus_text("fr"))
    dictionary = write(tmp_path / "dict.tsv", "alpha\tarbre\nbravo\tbateau\n")
    cfg = CorpusConfig(src=SideConfig(lang="en", files=(src_file,)), tgt=SideConfig(lang="fr", files=(tgt_file,)),
                       dictionary=DictionaryConfig(files=(dictionary,)))
    return cfg.model_copy(update=update)


def refusal(cfg: CorpusConfig) -> InputError:
    with pytest.raises(InputError) as info:
        check_corpus(cfg)
    return info.value


def test_good_files_pass_plain_and_gzip(tmp_path):
    check_corpus(files_config(tmp_path))
    gz = tmp_path / "en.txt.gz"
    gz.write_bytes(gzip.compress(corpus_text("en").encode()))
    check_corpus(files_config(tmp_path, src=None).model_copy(
        update={"src": SideConfig(lang="en", files=(gz,))}))


def test_built_in_sides_are_not_read_but_their_languages_are_checked():
    check_corpus(CorpusConfig())
    assert "'zz'" in refusal(CorpusConfig(tgt=SideConfig(lang="zz"))).source
    assert "'darby'" in refusal(CorpusConfig(src=SideConfig(lang="en", translations=("darby",)))).source


def test_a_language_without_bibles_needs_the_users_test_set(tmp_path):
    cfg = files_config(tmp_path)
    cfg = cfg.model_copy(update={"tgt": SideConfig(lang="xf", files=cfg.tgt.files)})
    error = refusal(cfg)
    assert "'xf'" in error.source and "--test-src" in error.problem
    test_en, test_xf = write(tmp_path / "t.en", "alpha bravo\n"), write(tmp_path / "t.xf", "arbre bateau\n")
    check_corpus(cfg.model_copy(update={"test_files": (test_en, test_xf)}))


@pytest.mark.parametrize("data, problem", [
    ("", "empty"),
    ("\n  \n", "empty"),
    (b"caf\xe9 au lait\n", "not valid UTF-8"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\n", "binary"),
    ("\x01\x02\x03\x04 abc\n", "binary"),
    ("hi\nok\n", "no sentence survives cleaning"),
    ("one two three four\n" * 50, "too small for embeddings"),
])
def test_bad_source_file_is_named(tmp_path, data, problem):
    error = refusal(files_config(tmp_path, src=data))
    assert "en.txt" in error.source
    assert problem in error.problem, error


def test_missing_file_is_named(tmp_path):
    cfg = files_config(tmp_path)
    cfg = cfg.model_copy(update={"tgt": SideConfig(lang="fr", files=(tmp_path / "nowhere.txt",))})
    error = refusal(cfg)
    assert "nowhere.txt" in error.source and "not found" in error.problem


def test_too_few_frequent_words_names_the_counts(tmp_path):
    # nine words occur three times, the rest once: one short of MIN_WORDS with min_count=3
    lines = [f"w{i} w{i} w{i} x{i}" for i in range(MIN_WORDS - 1)]
    error = refusal(files_config(tmp_path, src="".join(line + "\n" for line in lines),
                                 split=SplitConfig(valid_fraction=0)))  # counted on the training part
    assert f"{MIN_WORDS - 1} of {2 * (MIN_WORDS - 1)} distinct words" in error.problem
    assert "min_count=3" in error.problem and "en corpus" in error.source


def test_vocabulary_counts_words_reaching_min_count():
    lines = [" ".join(f"w{i}" for i in range(MIN_WORDS))] * 2
    check_vocabulary(lines, 2, "x")
    with pytest.raises(InputError, match="0 of 10 distinct"):
        check_vocabulary(lines, 3, "x")


def test_bad_test_and_dictionary_files_are_named(tmp_path):
    cfg = files_config(tmp_path)
    test_src = write(tmp_path / "test.en", "alpha bravo charlie\n")
    test_tgt = write(tmp_path / "test.fr", "arbre bateau chat\ndune etoile feu\n")
    assert "test.fr" in refusal(cfg.model_copy(update={"test_files": (test_src, test_tgt)})).source
    binary = write(tmp_path / "test.bin", b"\x00\x01\x02abc\n")
    assert "binary" in refusal(cfg.model_copy(update={"test_files": (test_src, binary)})).problem
    for data, problem in (("alpha arbre extra\n", "expected 'source<TAB>target'"),
                          ("new york\tnew-york city\n", "no single-word"), ("", "empty")):
        bad = write(tmp_path / "bad.tsv", data)
        error = refusal(cfg.model_copy(update={"dictionary": DictionaryConfig(files=(bad,))}))
        assert "bad.tsv" in error.source and problem in error.problem, error


def test_decode_lines_is_strict_utf8_with_universal_newlines():
    assert decode_lines("a b\r\nc é\n".encode()) == ["a b", "c é"]
    with pytest.raises(InputError, match="stdin: not valid UTF-8"):
        decode_lines(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="stdin: binary data"):
        decode_lines(b"ab\x00cd\n")


def test_speech_front_end_is_checked_before_the_flow(tmp_path):
    from components.preflight import check_speech_features
    from components.speech.config import FeatureKind, FeaturesConfig, SegmentConfig, SpeechConfig
    from tests.components.speech.test_ssl import save_torchaudio, tiny_model

    assert check_speech_features(SpeechConfig()) == 0.025  # one 25 ms MFCC window
    with pytest.raises(InputError, match="segment_change_dims: 40 exceeds the 39 dims"):
        check_speech_features(SpeechConfig(segment=SegmentConfig(segment_change_dims=40)))
    model = save_torchaudio(tiny_model("wav2vec2"), "wav2vec2", tmp_path / "w.pt")

    def ssl(path, layer=None):
        return SpeechConfig(features=FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=path,
                                                    features_layer=layer),
                            segment=SegmentConfig(segment_change_dims=0))

    assert check_speech_features(ssl(model, 2)) == 400 / 16000  # the model's receptive field
    with pytest.raises(InputError, match=r"w\.pt: features_layer 3 is beyond"):
        check_speech_features(ssl(model, 3))
    with pytest.raises(InputError, match=r"gone\.pt: no such checkpoint"):
        check_speech_features(ssl(tmp_path / "gone.pt"))
