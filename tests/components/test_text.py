from components.text import normalize, prepare_sentence, tokenize


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
