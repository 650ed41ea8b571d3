"""Tasks of the corpus preparation stage."""
from __future__ import annotations

import os
from pathlib import Path

from prefect import task
from prefect.artifacts import create_table_artifact

from components.corpus import (CorpusConfig, SideConfig, Sentences, SplitConfig, TextConfig,
                               bible_side, clean, count_overlap, files_records,
                               parallel_bible_test, parallel_files_test, split_train_valid)
from components.dictionary import collect_pairs, split_dictionary, write_pairs
from components.embeddings import EmbeddingConfig, train_fasttext, write_vec
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
    meta = {"lang": side.lang, "half": half, "train_sentences": len(train.lines),
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


@task(name="train-embeddings", task_run_name="train-embeddings-{corpus.meta[lang]}", cache_policy=STAGE_CACHE)
def train_embeddings(corpus: ArtifactRef, config: EmbeddingConfig) -> ArtifactRef:
    """fastText skipgram vectors of a corpus side, as `vectors.vec` plus `vocab.tsv` counts."""
    st = store()
    emb, counts = train_fasttext(st.path(corpus) / "train.txt", config, threads=os.cpu_count() or 1)
    meta = {"lang": corpus.meta["lang"], "words": len(emb.words), "dim": emb.dim}
    with st.writer("vectors", f"vectors-{corpus.meta['lang']}", meta, directory=True) as out:
        write_vec(emb, out.path / "vectors.vec")
        (out.path / "vocab.tsv").write_text(
            "".join(f"{w}\t{c}\n" for w, c in zip(emb.words, counts)), encoding="utf-8")
    return out.ref


def vocabulary(vectors: ArtifactRef) -> list[str]:
    """The words of an embeddings artifact, most frequent first."""
    lines = (store().path(vectors) / "vocab.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in lines]


@task(name="build-dictionary", task_run_name="build-dictionary", cache_policy=STAGE_CACHE)
def build_dictionary(config: CorpusConfig, src_vectors: ArtifactRef, tgt_vectors: ArtifactRef,
                     fingerprint: str) -> ArtifactRef:
    """Dictionary pairs in both vocabularies, split by source word into seed and test parts."""
    pairs = collect_pairs(config.src.lang, config.tgt.lang, config.dictionary, config.text.lowercase)
    source = ", ".join(map(str, config.dictionary.files)) or f"FreeDict {config.pair}"
    parts = split_dictionary(pairs, set(vocabulary(src_vectors)), set(vocabulary(tgt_vectors)),
                             config.dictionary, source)
    meta = {"pair": config.pair, "seed_pairs": len(parts.seed), "test_pairs": len(parts.test),
            "seed_words": len({s for s, _ in parts.seed}), "test_words": len({s for s, _ in parts.test}),
            "pairs": parts.pairs, "src_words": parts.src_words, "src_covered": parts.src_covered,
            "tgt_words": parts.tgt_words, "tgt_covered": parts.tgt_covered}
    with store().writer("dictionary", f"dictionary-{config.pair}", meta, directory=True) as out:
        write_pairs(parts.seed, out.path / "seed.tsv")
        write_pairs(parts.test, out.path / "test.tsv")
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


@task(name="publish-corpus-report")
def publish_corpus_report(pair: str, rows: list[dict[str, object]]) -> None:
    """The statistics table shown on the flow run's Artifacts tab."""
    create_table_artifact(key=f"corpus-{pair}", table=rows, description=f"Corpus statistics for {pair}")
