import pytest

from components.text import detokenize, normalize, prepare_sentence, tokenize


def test_french_elision_attaches_to_the_article():
    assert tokenize("l'homme qu'il aime", "fr") == ["l'", "homme", "qu'", "il", "aime"]


def test_english_contractions_and_punctuation():
    assert tokenize("I don't know, he said.", "en") == ["I", "do", "n't", "know", ",", "he", "said", "."]


def test_hyphenated_compounds_stay_whole():
    assert tokenize("peut-être", "fr") == ["peut-être"]


def test_normalize_drops_editorial_marks_and_unifies_quotes():
    assert normalize("(9:1) Au chef [des chantres]. qu\u2019il\u00a0vint") == "Au chef des chantres. qu'il vint"


def test_normalize_composes_unicode():
    decomposed = "e\u0301te\u0301"  # 'été' with combining accents
    assert normalize(decomposed) == "\u00e9t\u00e9"


def test_prepare_sentence_lowercases_on_request():
    assert prepare_sentence("Dieu DIT", "fr", lowercase=True) == ["dieu", "dit"]
    assert prepare_sentence("Dieu DIT", "fr", lowercase=False) == ["Dieu", "DIT"]


@pytest.mark.parametrize("lang, text", [
    ("en", "i don't know, he said. it's john's book; isn't it?"),
    ("en", "(and the jones' house) \"came\" - at last!"),
    ("fr", "l'homme qu'il aime: aujourd'hui, va-t'en! est-ce \"vrai\"?"),
    ("fr", "jusqu'à ce qu'elle vienne (d'abord) ; puis."),
    ("ca", "l'home diu: \"hola\"."),
    ("de", "er sagt: \"geht's gut?\""),
    ("es", "¿qué? ¡sí!"),
])
def test_detokenize_inverts_tokenize_on_elision_clitics_and_punctuation(lang, text):
    expected = text.replace(" ;", ";")  # French spacing before ';' is not kept: the tokens cannot tell
    assert detokenize(prepare_sentence(text, lang, lowercase=True), lang) == expected


def test_detokenize_of_nothing_is_empty():
    assert detokenize([], "fr") == ""
