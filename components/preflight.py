"""Pre-flight checks of the user's corpus files: refuse bad input in seconds, before any flow runs.

Each check reads the files with the readers the corpus stage uses and applies the same
cleaning, so what passes here is what the stage can use; what fails raises InputError
naming the file and the problem.
"""
from __future__ import annotations

import io
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from components.corpus import (CorpusConfig, DictionaryConfig, SideConfig, TextConfig, clean,
                               split_train_valid)
from components.dictionary import collect_pairs
from components.embeddings import MIN_WORDS
from components.errors import InputError
from components.sources import BIBLE_TRANSLATIONS, read_dictionary_tsv, read_text_lines

# Text files hold no control characters beyond whitespace; a few stray ones are tolerated.
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c")
_MAX_CONTROL_SHARE = 0.01


def check_not_binary(records: Iterable[tuple[str, str]], source: object) -> None:
    """Refuse text holding NUL bytes or more than 1 % control characters: binary data decoded as UTF-8.

    records: (line id '<name>:<number>', text) pairs.
    """
    controls = chars = 0
    for line_id, text in records:
        if "\x00" in text:
            raise InputError(source, f"binary data: NUL byte on line {line_id.rsplit(':', 1)[1]} "
                                     f"(expected UTF-8 text)")
        chars += len(text)
        controls += sum(1 for ch in text if ch not in _WHITESPACE_CONTROLS and unicodedata.category(ch) == "Cc")
    if controls > _MAX_CONTROL_SHARE * chars:
        raise InputError(source, f"binary data: {controls} control characters in {chars} (expected UTF-8 text)")


def text_records(path: Path) -> list[tuple[str, str]]:
    """(line id, text) of a user text file, refused when missing, not UTF-8, binary or empty."""
    records = list(read_text_lines(path))
    check_not_binary(records, path)
    return records


def decode_lines(data: bytes, source: str = "stdin") -> list[str]:
    """Strictly decoded UTF-8 lines of raw bytes (universal newlines), refused when binary."""
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise InputError(source, f"not valid UTF-8 ({e.reason} near byte {e.start})") from None
    lines = [line.rstrip("\n") for line in io.StringIO(text, newline=None)]
    check_not_binary(((f"{source}:{i}", line) for i, line in enumerate(lines, start=1)), source)
    return lines


def _side_sentences(side: SideConfig, test_file: Path | None, text: TextConfig,
                    split_valid: float, salt: str) -> list[str]:
    """The training lines the corpus stage would write for a side of user files, each file checked."""
    records: list[tuple[str, str]] = []
    for path in side.files:
        file_records = text_records(path)
        kept, stats = clean(file_records, side.lang, text)
        if not kept.lines:
            raise InputError(path, f"no sentence survives cleaning ({stats.read} lines: {stats.empty} empty, "
                                   f"{stats.too_short} under {text.min_tokens} tokens, {stats.too_long} over "
                                   f"{text.max_tokens})")
        records.extend(file_records)
    exclude: frozenset[str] = frozenset()
    if test_file is not None:  # test sentences never train (as the corpus stage does)
        everything = text.model_copy(update={"dedup": False, "min_tokens": 1, "max_tokens": 10**6})
        exclude = frozenset(clean(text_records(test_file), side.lang, everything)[0].lines)
    sentences, _ = clean(records, side.lang, text, exclude)
    if not sentences.lines:
        raise InputError(_names(side.files), "no sentence survives cleaning (every one is in the test set)")
    train, _ = split_train_valid(sentences, split_valid, salt)
    return train.lines


def _names(paths: Iterable[Path]) -> str:
    return ", ".join(map(str, paths))


def check_vocabulary(lines: Iterable[str], min_count: int, source: str) -> None:
    """Refuse a tokenised corpus with fewer than MIN_WORDS words occurring min_count times or more."""
    counts = Counter(token for line in lines for token in line.split())
    frequent = sum(1 for c in counts.values() if c >= min_count)
    if frequent < MIN_WORDS:
        raise InputError(source, f"too small for embeddings: {frequent} of {len(counts)} distinct words occur "
                                 f"at least min_count={min_count} times (at least {MIN_WORDS} needed)")


def check_test_files(src: Path, tgt: Path) -> None:
    """Both sides of the parallel test set are text with as many lines each."""
    n_src, n_tgt = len(text_records(src)), len(text_records(tgt))
    if n_src != n_tgt:
        raise InputError(tgt, f"has {n_tgt} lines but {src} has {n_src}")


def check_dictionary_file(path: Path, src: str, tgt: str, config: DictionaryConfig, lowercase: bool) -> None:
    """A 'source<TAB>target' file with at least one single-word pair after tokenisation."""
    text_records(path)
    read_dictionary_tsv(path)
    if not collect_pairs(src, tgt, config.model_copy(update={"files": (Path(path),)}), lowercase):
        raise InputError(path, "no single-word 'source<TAB>target' pair after tokenisation")


def check_corpus(config: CorpusConfig) -> None:
    """Every user file of a corpus config: readable UTF-8 text, usable after cleaning, enough words.

    Built-in sources (Bibles, FreeDict) are not read here; unknown languages and translations
    of the built-in sides are refused.
    """
    tests = tuple(config.test_files or ())
    for side in (config.src, config.tgt):
        if not side.files:
            side.bible_names()
        elif not tests and all(t.lang != side.lang for t in BIBLE_TRANSLATIONS.values()):
            raise InputError(f"language {side.lang!r}", "no built-in Bible holds test verses in it: give a "
                                                        "parallel test set (--test-src / --test-tgt)")
    if tests:
        check_test_files(*tests)
    for path in config.dictionary.files:
        check_dictionary_file(path, config.src.lang, config.tgt.lang, config.dictionary,
                              config.text.lowercase)
    for side, test_file in ((config.src, tests[0] if tests else None), (config.tgt, tests[1] if tests else None)):
        if side.files:
            lines = _side_sentences(side, test_file, config.text, config.split.valid_fraction, config.split.salt)
            check_vocabulary(lines, config.embeddings.min_count, f"{side.lang} corpus ({_names(side.files)})")


def _usable_audio(files: list[Path], directory: Path, min_seconds: float) -> None:
    """At least one file of `directory` opens as audio at least `min_seconds` long (headers only: fast)."""
    import soundfile

    problems = []
    for path in files:
        try:
            info = soundfile.info(str(path))
            if info.frames >= min_seconds * info.samplerate:
                return
            problems.append(f"{path.name}: {info.frames} samples, shorter than one {1000 * min_seconds:g} ms window")
        except Exception as e:  # libsndfile raises its own error types for corrupt files
            problems.append(f"{path.name}: cannot be decoded ({str(e).splitlines()[0][:80]})")
    raise InputError(directory, f"no usable audio among {len(files)} files ({'; '.join(problems[:3])})")


def check_speech_features(speech) -> float:
    """The front end of a SpeechConfig: for ssl features the checkpoint loads in its format, as
    a wav2vec 2.0 / HuBERT model that has the requested layer; the spectral-change dims fit the
    feature width. Returns the seconds of audio one frame needs (window or receptive field)."""
    from components.speech.config import FeatureKind, SegmentMethod
    from components.speech.features import feature_dim, shortest_audio_s
    from components.speech.ssl import load_checkpoint

    features, segment = speech.features, speech.segment
    encoder = None
    if features.features_kind is FeatureKind.ssl:
        encoder = load_checkpoint(features.features_checkpoint, features.features_format)
        encoder.layer(features.features_layer)
    width = feature_dim(features, encoder)
    dims = segment.segment_change_dims
    if segment.segment_method is SegmentMethod.spectral_change and dims > width:
        raise InputError("segment_change_dims", f"{dims} exceeds the {width} dims of the features (0 compares all)")
    return shortest_audio_s(features, encoder)


def check_speech_data(data, min_seconds: float) -> None:
    """A user's speech corpus (SpeechDataConfig): audio folders with decodable audio of at least
    one analysis window (`min_seconds`), transcripts and unpaired text files that are UTF-8 text.
    The built-in corpus needs no check."""
    from components.speech.corpus import directory_utterances, read_transcripts

    if data.transcripts is not None:
        text_records(data.transcripts)
        read_transcripts(data.transcripts)
    for directory in (data.audio_dir, data.test_audio_dir):
        if directory is not None:
            _usable_audio([Path(u.path) for u in directory_utterances(directory)], Path(directory), min_seconds)
    for path in data.text_files:
        text_records(path)
