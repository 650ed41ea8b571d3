"""Corpus tasks: the cleaned monolingual halves, the parallel test set, the leak check."""
from __future__ import annotations

from pathlib import Path

from prefect import task

from components.corpus import (CorpusConfig, SideConfig, Sentences, SplitConfig, TextConfig,
                               bible_side, clean, count_overlap, files_records,
                               parallel_bible_test, parallel_files_test, split_train_valid)
from components.errors import InputError
from components.sources import default_bible_db, freedict_files
from components.store import ArtifactRef, hash_path
from tasks.cache import STAGE_CACHE
from tasks.store import store


def source_paths(config: CorpusConfig) -> dict[str, list[Path]]:
    """The input files each part of the stage reads, checked to exist."""
    for side in (config.src, config.tgt):
        if not side.files:
            side.bible_names()  # unknown language or translation: say so before any work
    bible = [] if (config.src.files and config.tgt.files and config.test_files) else [default_bible_db()]
    tests = list(config.test_files or ())
    if config.dictionary.files:
        dictionaries = list(config.dictionary.files)
    elif config.src.lang == config.tgt.lang:  # two styles of one language: the identity dictionary
        dictionaries = []
    else:
        found = freedict_files(config.dictionary.dictd_dir, config.src.lang, config.tgt.lang)
        if not found:  # fail before hours of training, not after
            raise InputError(f"pair {config.pair}",
                             f"no bilingual dictionary in {config.dictionary.dictd_dir}: install Debian's "
                             f"dict-freedict-* package for the pair, or give dictionary files")
        dictionaries = [p for idx, _ in found for p in (idx, idx.with_suffix(".dict.dz"))]
    paths = {
        "src": list(config.src.files or bible) + tests[:1],
        "tgt": list(config.tgt.files or bible) + tests[1:],
        "test": tests or bible,
        "dictionary": dictionaries,
    }
    for group in paths.values():
        for p in group:
            if not Path(p).is_file():
                raise InputError(p, "file not found")
    return paths


@task(name="fingerprint-sources")
def fingerprint_sources(config: CorpusConfig) -> dict[str, str]:
    """Content hash of the files behind each part, so an edited file re-runs only what reads it."""
    hashes: dict[Path, str] = {}
    out = {}
    for part, paths in source_paths(config).items():
        out[part] = "-".join(hashes.setdefault(p, hash_path(p))[:16] for p in paths)
    return out


def _test_exclusion(side: SideConfig, test_records: list[tuple[str, str]], text: TextConfig) -> frozenset[str]:
    """Tokenised test sentences of one language, in every translation, to keep out of training."""
    everything = text.model_copy(update={"dedup": False, "min_tokens": 1, "max_tokens": 10**6})
    return frozenset(clean(test_records, side.lang, everything)[0].lines)


@task(name="prepare-side", task_run_name="prepare-side-{side.lang}", cache_policy=STAGE_CACHE)
def prepare_side(side: SideConfig, half: str, split: SplitConfig, text: TextConfig,
                 test_files: tuple[Path, ...], fingerprint: str) -> ArtifactRef:
    """Clean one language's training half into train/valid sentence files."""
    if side.files:
        records = files_records(side.files)
        test_records = files_records(test_files) if test_files else []
    else:
        bible = bible_side(default_bible_db(), side, split, half)
        records, test_records = bible.train, bible.test
    sentences, stats = clean(records, side.lang, text, _test_exclusion(side, test_records, text))
    if not sentences.lines:
        raise InputError(f"{side.lang} corpus ({', '.join(map(str, side.files)) or 'built-in Bible'})",
                         "no sentence survives cleaning")
    train, valid = split_train_valid(sentences, split.valid_fraction, split.salt)
    meta = {"lang": side.lang, "half": half, "source": ", ".join(map(str, side.files)) or "built-in Bible",
            "train_sentences": len(train.lines),
            "train_tokens": sum(len(line.split()) for line in train.lines),
            "valid_sentences": len(valid.lines), "clean": stats.as_dict()}
    with store().writer("corpus", f"{side.lang}-{half}", meta, directory=True) as out:
        train.write(out.path, "train")
        valid.write(out.path, "valid")
    return out.ref


@task(name="prepare-test", task_run_name="prepare-test", cache_policy=STAGE_CACHE)
def prepare_test(src_side: SideConfig, tgt_side: SideConfig, test_files: tuple[Path, ...],
                 split: SplitConfig, text: TextConfig, fingerprint: str) -> ArtifactRef:
    """The parallel test set: held-out books (built-in) or the user's test files."""
    if test_files:
        src, tgt = parallel_files_test(*test_files, src_side.lang, tgt_side.lang, text)
    else:
        src, tgt = parallel_bible_test(default_bible_db(), src_side, tgt_side, split, text)
    pair = f"{src_side.lang}-{tgt_side.lang}"
    meta = {"pair": pair, "sentences": len(src.lines)}
    with store().writer("parallel-test", f"test-{pair}", meta, directory=True) as out:
        src.write(out.path, "src")
        tgt.write(out.path, "tgt")
    return out.ref


@task(name="check-leakage", task_run_name="check-leakage", cache_policy=STAGE_CACHE)
def check_leakage(src: ArtifactRef, tgt: ArtifactRef, test: ArtifactRef) -> dict[str, int]:
    """Counts that must be zero: ids shared by the halves, test ids or test sentences in training."""
    st = store()
    s_train = Sentences.read(st.path(src), "train")
    t_train = Sentences.read(st.path(tgt), "train")
    s_test, t_test = Sentences.read(st.path(test), "src"), Sentences.read(st.path(test), "tgt")
    train_ids = set(s_train.ids) | set(t_train.ids)
    return {
        "ids_shared_by_halves": count_overlap(s_train.ids, t_train.ids),
        "test_ids_in_train": count_overlap(s_test.ids, train_ids),
        "test_text_in_src_train": count_overlap(s_test.lines, s_train.lines),
        "test_text_in_tgt_train": count_overlap(t_test.lines, t_train.lines),
    }
