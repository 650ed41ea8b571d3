"""Choose fastText settings for mapping on the seed (dev) part of the dictionary, never the test part.

For each setting (overrides of the preset's EmbeddingConfig, one JSON object per argument)
both training halves of the prepared corpus are embedded (reproducible mode: the same
setting always gives the same vectors), then:
- supervised Procrustes on the fit share of the seed dictionary, with and without the
  stage's refinement, scored by CSLS P@1 s->t on the dev share (split by source word);
- the eigenvector similarity of the two spaces (unsupervised; lower is more isomorphic).

    .venv/bin/python scripts/embedding_sweep.py --pair en-fr --out sweep.jsonl '{}' '{"dim": 100}'
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from components import presets
from components.align.config import AlignConfig
from components.align.evaluate import csls_p1
from components.align.isomorphism import eigenvector_similarity
from components.align.pipeline import align_supervised
from components.dictionary import dev_split, load_part
from components.embeddings import EmbeddingConfig, load_vectors, train_fasttext

def measure(src, tgt, fit, dev, config: AlignConfig) -> dict[str, float]:
    """Dev CSLS P@1 (%) of Procrustes on `fit`, raw and refined, and the eigenvector similarity."""
    device = torch.device("cpu")
    row: dict[str, float] = {}
    for name, refinement in (("procrustes", False), ("procrustes_refined", True)):
        result = align_supervised(src, tgt, fit, config, device, refinement=refinement)
        row[f"dev_p1_{name}"] = 100 * csls_p1(torch.from_numpy(result.src.vectors), torch.from_numpy(result.tgt.vectors),
                                              result.src.words, result.tgt.words, dev, config.retrieval, "dev pairs")
        if refinement:
            row["criterion_refined"] = result.criterion
    iso = eigenvector_similarity(src.vectors, tgt.vectors)
    row.update(evs=iso.eigenvector_similarity, evs_k=iso.k, vocab_src=len(src.words), vocab_tgt=len(tgt.words))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="en-fr")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, one per setting (appended)")
    parser.add_argument("settings", nargs="+", help="EmbeddingConfig overrides as JSON objects")
    args = parser.parse_args()

    from flows.corpus import prepare_corpus
    from tasks.runtime import configure
    from tasks.store import store

    configure()
    settings = presets.preset(args.preset)
    corpus = prepare_corpus(settings.corpus(args.pair))
    st = store()
    paths = [st.path(corpus.src_corpus) / "train.txt", st.path(corpus.tgt_corpus) / "train.txt"]
    fit, dev = dev_split(load_part(st.path(corpus.dictionary), "seed"))
    align_config = settings.align.align
    for text in args.settings:
        overrides = json.loads(text)
        config = settings.embeddings.model_copy(update=overrides)
        EmbeddingConfig.model_validate(config.model_dump())
        started = time.monotonic()
        if config == settings.embeddings:  # the corpus stage's own vectors
            src, tgt = (load_vectors(st.path(ref)) for ref in (corpus.src_vectors, corpus.tgt_vectors))
        else:
            with ThreadPoolExecutor(2) as pool:  # one fastText child per side
                (src, _), (tgt, _) = pool.map(lambda p: train_fasttext(p, config, threads=1), paths)
        trained = time.monotonic() - started
        row = {"settings": overrides, "train_s": round(trained, 1), "fit_pairs": len(fit), "dev_pairs": len(dev),
               **measure(src, tgt, fit, dev, align_config)}
        print(json.dumps(row), flush=True)
        with args.out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
