import pytest

from components.corpus import (CorpusConfig, Sentences, SideConfig, SplitConfig, TextConfig, bible_side, clean,
                               half_verse_pairs, parallel_bible_test, parallel_sentences, split_train_valid,
                               stable_unit, verse_half)
from components.errors import InputError
from components.sources import default_bible_db, read_bible


def test_stable_unit_is_deterministic_and_roughly_uniform():
    values = [stable_unit(str(i), "s") for i in range(4000)]
    assert values == [stable_unit(str(i), "s") for i in range(4000)]
    assert 0.47 < sum(v < 0.5 for v in values) / len(values) < 0.53
    assert values != [stable_unit(str(i), "other salt") for i in range(4000)]


def test_clean_filters_dedups_and_excludes():
    records = [("1", "Hello world, friend."), ("2", "Hello   world, friend."), ("3", "Hi"),
               ("4", "A test sentence here."), ("5", "")]
    exclude = frozenset({"a test sentence here ."})
    sentences, stats = clean(records, "en", TextConfig(min_tokens=3), exclude)
    assert sentences.lines == ["hello world , friend ."]
    assert sentences.ids == ["1"]
    assert (stats.duplicate, stats.too_short, stats.in_test, stats.empty, stats.kept) == (1, 1, 1, 1, 1)
    assert stats.tokens == 5


def test_train_valid_split_is_disjoint_and_complete():
    records = [(str(i), f"sentence number {i} here") for i in range(500)]
    sentences, _ = clean(records, "en", TextConfig())
    train, valid = split_train_valid(sentences, 0.1, "salt")
    assert set(train.ids).isdisjoint(valid.ids)
    assert len(train.ids) + len(valid.ids) == 500
    assert 20 < len(valid.ids) < 80


def test_bible_halves_are_disjoint_and_hold_no_test_book():
    db, split = default_bible_db(), SplitConfig()
    en = bible_side(db, SideConfig(lang="en", translations=("kjv",)), split, "A")
    fr = bible_side(db, SideConfig(lang="fr", translations=("segond",)), split, "B")
    en_ids, fr_ids = {i for i, _ in en.train}, {i for i, _ in fr.train}
    assert en_ids and fr_ids and en_ids.isdisjoint(fr_ids)
    assert all(int(i.split(".")[0]) not in split.test_books for i in en_ids | fr_ids)
    assert all(verse_half(i, split.salt) == "A" for i in en_ids)
    assert {int(i.split(".")[0]) for i, _ in en.test} == set(split.test_books)


def test_half_verse_pairs_align_one_half_of_the_training_books():
    db, split = default_bible_db(), SplitConfig()
    pairs = half_verse_pairs(db, "kjv", "web", "A", split)
    web = {v.id: v.text for v in read_bible(db, "web")}
    verses: dict[tuple[str, str | None], list[str]] = {}  # a pair of texts may recur (2 Kings 19 = Isaiah 37)
    for v in read_bible(db, "kjv"):
        verses.setdefault((v.text, web.get(v.id)), []).append(v.id)
    assert len(pairs) > 10_000
    for pair in pairs[:: len(pairs) // 200]:  # a spread sample: each pair is one verse of half A
        assert any(int(i.split(".")[0]) not in split.test_books and verse_half(i, split.salt) == "A"
                   for i in verses[pair])


def test_parallel_test_is_aligned_by_verse():
    cfg = CorpusConfig()
    src, tgt = parallel_bible_test(default_bible_db(), cfg.src, cfg.tgt, cfg.split, cfg.text)
    assert src.ids == tgt.ids and len(src.ids) > 3000
    i = src.ids.index("43.3.16")
    assert "loved the world" in src.lines[i] and "aimé le monde" in tgt.lines[i]
    assert len(src.raw) == len(src.lines) and len(tgt.raw) == len(tgt.lines)
    assert "God so loved the world" in src.raw[i] and "Dieu a tant aimé le monde" in tgt.raw[i]


def test_parallel_sentences_keep_each_raw_line_beside_its_tokens_when_a_record_is_dropped():
    records = [("1", "Hello, World.", "Bonjour, l\u2019Homme."), ("2", "Gone [ ]", "[ ]"), ("3", "Yes!", "Oui !")]
    src, tgt = parallel_sentences(records, "en", "fr", TextConfig(), drop_empty=True)
    assert (src.ids, src.lines, src.raw) == (["1", "3"], ["hello , world .", "yes !"], ["Hello, World.", "Yes!"])
    assert (tgt.lines, tgt.raw) == (["bonjour , l' homme .", "oui !"], ["Bonjour, l\u2019Homme.", "Oui !"])
    kept, _ = parallel_sentences(records, "en", "fr", TextConfig(), drop_empty=False)
    assert (kept.lines[1], kept.raw[1]) == ("gone", "Gone [ ]")


def test_sentences_read_back_their_raw_lines_one_per_line_and_none_when_not_written(tmp_path):
    Sentences(["a", "b"], ["x y", "z"], ["X\u2028Y", "Z"]).write(tmp_path, "src")
    Sentences(["a"], ["w"]).write(tmp_path, "old")
    assert Sentences.read(tmp_path, "src") == Sentences(["a", "b"], ["x y", "z"], ["X Y", "Z"])
    assert Sentences.read(tmp_path, "old").raw is None
    (tmp_path / "src.raw.txt").write_text("X Y\n", encoding="utf-8")
    with pytest.raises(InputError, match="1 lines for the 2"):
        Sentences.read(tmp_path, "src")


def test_unknown_language_translation_and_pair_are_named():
    with pytest.raises(InputError, match="'xx'"):
        SideConfig(lang="xx").bible_names()
    with pytest.raises(InputError, match="'segond'"):
        SideConfig(lang="en", translations=("segond",)).bible_names()
    with pytest.raises(InputError, match="'enfr'"):
        CorpusConfig.for_pair("enfr")
