import gzip

import pytest

from components.errors import InputError
from components.sources import (bible_translations, default_bible_db, freedict_files, read_bible,
                                read_freedict, read_text_lines)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(n: int) -> str:
    out = ""
    while True:
        out = B64[n % 64] + out
        n //= 64
        if n == 0:
            return out


def make_dictd(directory, name, entries):
    """Write a dictd database (index + gzip data) holding `entries` (raw entry texts)."""
    data, index = b"", []
    for head, text in entries:
        blob = text.encode()
        index.append(f"{head}\t{_b64(len(data))}\t{_b64(len(blob))}\n")
        data += blob
    (directory / f"{name}.index").write_text("".join(index), encoding="utf-8")
    with gzip.open(directory / f"{name}.dict.dz", "wb") as f:
        f.write(data)
    return directory / f"{name}.index"


def test_text_lines_plain_and_gzip(tmp_path):
    (tmp_path / "a.txt").write_text("one\n\n two \n", encoding="utf-8")
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as f:
        f.write("three\n")
    assert list(read_text_lines(tmp_path / "a.txt")) == [("a.txt:1", "one"), ("a.txt:3", "two")]
    assert list(read_text_lines(tmp_path / "b.txt.gz")) == [("b.txt.gz:1", "three")]


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\n  \n", "empty"),
                                              (b"caf\xe9 latin-1\n", "UTF-8")])
def test_bad_text_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        list(read_text_lines(path))
    assert "bad.txt" in str(err.value)


def test_missing_and_corrupt_gzip_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        list(read_text_lines(tmp_path / "nope.txt"))
    (tmp_path / "x.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="x.gz"):
        list(read_text_lines(tmp_path / "x.gz"))


def test_bible_translations_and_errors():
    assert bible_translations("en")[0] == "kjv"
    with pytest.raises(InputError, match="'xx'"):
        bible_translations("xx")
    db = default_bible_db()
    verses = read_bible(db, "segond", "fr")
    assert len(verses) == 31102
    john316 = next(v for v in verses if v.id == "43.3.16")
    assert "Dieu a tant aimé le monde" in john316.text
    with pytest.raises(InputError, match="unknown"):
        read_bible(db, "kjv2000")
    with pytest.raises(InputError, match="is en, not fr"):
        read_bible(db, "kjv", "fr")


def test_freedict_entries_are_parsed_without_annotations(tmp_path):
    index = make_dictd(tmp_path, "freedict-eng-fra", [
        ("00databaseinfo", "header text\n"),
        ("cat", "cat /kæt/ <n>\n1. chat, minou\n2. chatte [zool.]\n"),
        ("run", "run /rʌn/\ncourir\n   Synonyms: {sprint}\n see: {race}\n"),
    ])
    assert list(read_freedict(index)) == [("cat", ["chat", "minou", "chatte"]), ("run", ["courir"])]
    assert freedict_files(tmp_path, "en", "fr") == [(index, False)]
    assert freedict_files(tmp_path, "fr", "en") == [(index, True)]
    assert freedict_files(tmp_path, "en", "xx") == []
