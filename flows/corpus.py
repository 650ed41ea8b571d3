"""Stage 1: prepare monolingual corpora, the parallel test set, embeddings and the dictionary."""
from __future__ import annotations

import time

from prefect import flow
from pydantic import BaseModel

from components import presets
from components.corpus import CorpusConfig
from components.presets import Preset
from components.store import ArtifactRef
from flows.runner import task_runner
from tasks.corpus.dictionary import build_dictionary
from tasks.corpus.embeddings import train_embeddings
from tasks.corpus.isomorphism import measure_isomorphism
from tasks.corpus.report import publish_corpus_report
from tasks.corpus.text import check_leakage, fingerprint_sources, prepare_side, prepare_test


class CorpusResult(BaseModel):
    """Refs the later stages consume, plus the statistics the report shows."""

    pair: str
    src_corpus: ArtifactRef
    tgt_corpus: ArtifactRef
    test: ArtifactRef
    src_vectors: ArtifactRef
    tgt_vectors: ArtifactRef
    dictionary: ArtifactRef
    leakage: dict[str, int]
    seconds: float
    isomorphism: dict[str, float | int | None] = {}
    columns: tuple[str, str] | None = None  # the report's side headers (None: the languages; a style pair has one)

    def bench_section(self) -> dict[str, object]:
        """DESIGN.md s.5 corpus keys of the benchmark report, plus sizes and the leak counts."""
        s, t, v, d = self.src_corpus.meta, self.tgt_corpus.meta, (self.src_vectors, self.tgt_vectors), self.dictionary
        return {"src_tokens": s["train_tokens"], "tgt_tokens": t["train_tokens"],
                "src_sentences": s["train_sentences"], "tgt_sentences": t["train_sentences"],
                "src_vocabulary": v[0].meta["words"], "tgt_vocabulary": v[1].meta["words"],
                "test_sentences": self.test.meta["sentences"], "dict_seed_pairs": d.meta["seed_pairs"],
                "dict_test_pairs": d.meta["test_pairs"], "leakage": self.leakage, "isomorphism": self.isomorphism, "seconds": round(self.seconds, 1)}

    def stats_rows(self) -> list[dict[str, object]]:
        """One row per quantity, with the source and target columns side by side."""
        s, t, d = self.src_corpus.meta, self.tgt_corpus.meta, self.dictionary.meta
        rows = [
            ("training half", s["half"], t["half"]),
            ("train sentences", s["train_sentences"], t["train_sentences"]),
            ("train tokens", s["train_tokens"], t["train_tokens"]),
            ("valid sentences", s["valid_sentences"], t["valid_sentences"]),
            ("dropped: duplicates", s["clean"]["duplicate"], t["clean"]["duplicate"]),
            ("dropped: length", s["clean"]["too_short"] + s["clean"]["too_long"],
             t["clean"]["too_short"] + t["clean"]["too_long"]),
            ("dropped: in test set", s["clean"]["in_test"], t["clean"]["in_test"]),
            ("vocabulary (embeddings)", self.src_vectors.meta["words"], self.tgt_vectors.meta["words"]),
            ("test sentences", self.test.meta["sentences"], self.test.meta["sentences"]),
            ("dictionary words in vocabulary",
             f"{d['src_covered']}/{d['src_words']} ({d['src_covered'] / max(1, d['src_words']):.0%})",
             f"{d['tgt_covered']}/{d['tgt_words']} ({d['tgt_covered'] / max(1, d['tgt_words']):.0%})"),
            ("dictionary seed pairs / words", f"{d['seed_pairs']} / {d['seed_words']}", ""),
            ("dictionary test pairs / words", f"{d['test_pairs']} / {d['test_words']}", ""),
        ]
        rows += [(f"leak: {k.replace('_', ' ')}", v, "") for k, v in self.leakage.items()]
        if self.isomorphism:
            iso = self.isomorphism
            rows += [(f"isomorphism: eigenvector similarity ({iso['graph_words']} most frequent words; "
                      "0 = isomorphic, lower maps more easily)", iso["eigenvector_similarity"], ""),
                     ("isomorphism: relational similarity of seed pairs (1 = alike, 0 = unrelated)",
                      iso["relational_similarity"], "")]
        src, tgt = self.columns or self.pair.split("-")
        return [{"statistic": name, src: a, tgt: b} for name, a, b in rows]


@flow(name="prepare-corpus", log_prints=True, task_runner=task_runner())
def prepare_corpus(config: CorpusConfig | None = None, pair: str = "en-fr", preset: Preset = Preset.quick,
                   refresh: bool = False, name: str | None = None,
                   columns: tuple[str, str] | None = None) -> CorpusResult:
    """Clean and split both languages, train their embeddings, build the evaluation dictionary
    (`config`, else the built-in Bibles of `pair` with the preset's embeddings).

    `name` keys the report (default: the pair) and `columns` heads its two sides (default: the
    languages): two styles of one language would otherwise share both."""
    start = time.perf_counter()
    config = config or presets.preset(preset).corpus(pair)
    opts = {"refresh_cache": refresh}
    fp = fingerprint_sources(config)
    tests = tuple(config.test_files or ())
    src = prepare_side.with_options(**opts).submit(config.src, "A", config.split, config.text, tests[:1], fp["src"])
    tgt = prepare_side.with_options(**opts).submit(config.tgt, "B", config.split, config.text, tests[1:], fp["tgt"])
    test = prepare_test.with_options(**opts).submit(config.src, config.tgt, tests, config.split, config.text,
                                                    fp["test"])
    src_vec = train_embeddings.with_options(**opts).submit(src, config.embeddings)
    tgt_vec = train_embeddings.with_options(**opts).submit(tgt, config.embeddings)
    dictionary = build_dictionary.with_options(**opts).submit(config, src_vec, tgt_vec, fp["dictionary"])
    leakage = check_leakage.submit(src, tgt, test)
    isomorphism = measure_isomorphism.with_options(**opts).submit(src_vec, tgt_vec, dictionary)
    result = CorpusResult(pair=config.pair, src_corpus=src.result(), tgt_corpus=tgt.result(),
                          test=test.result(), src_vectors=src_vec.result(), tgt_vectors=tgt_vec.result(),
                          dictionary=dictionary.result(), leakage=leakage.result(),
                          isomorphism=isomorphism.result(),
                          seconds=time.perf_counter() - start, columns=columns)
    publish_corpus_report(name or config.pair, result.stats_rows())
    return result
