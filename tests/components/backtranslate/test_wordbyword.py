"""Word-by-word translation: CSLS lexicon over a planted shared space, copying unknown tokens."""
import numpy as np

from components.embeddings import Embeddings
from components.backtranslate.vocab import SPECIALS, UNK_ID, Vocabulary
from components.backtranslate.wordbyword import csls_lexicon, id_map, translate_words


def test_csls_recovers_a_planted_lexicon():
    rng = np.random.default_rng(0)
    vec = rng.normal(size=(50, 8)).astype(np.float32)
    src = Embeddings([f"s{i}" for i in range(50)], vec)
    tgt = Embeddings([f"t{i}" for i in range(50)][::-1], vec[::-1] + 0.05 * rng.normal(size=vec.shape).astype(np.float32))
    lexicon = csls_lexicon(src, tgt, k=5)
    assert all(lexicon[f"s{i}"] == f"t{i}" for i in range(50))


def test_translate_words_copies_what_the_lexicon_lacks():
    assert translate_words(["a jesus b", ""], {"a": "x", "b": "y"}) == ["x jesus y", ""]


def test_id_map_falls_back_to_copy_then_unknown():
    src = Vocabulary("xa", SPECIALS + ("a", "name", "lost"))
    tgt = Vocabulary("xb", SPECIALS + ("x", "name"))
    m = id_map({"a": "x", "lost": "nowhere"}, src.words, tgt.index, UNK_ID, len(SPECIALS))
    assert [tgt.words[i] for i in m[len(SPECIALS):]] == ["x", "name", "<unk>"]
    assert list(m[:len(SPECIALS)]) == list(range(len(SPECIALS)))
