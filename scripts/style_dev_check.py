"""Word-by-word style transfer on dev verses, never the test books: which first translator to hand the
generator.

Dev verses are verses of the source style's training half (its text is in training) whose
target-style text no training side reads (the target style trains on the other half), so the
references are unseen. Rows: copying the input, the plain CSLS word by word, and the LM-searched
word by word (target style's trigram LM), with and without the source word itself among the
candidates.

    .venv/bin/python scripts/style_dev_check.py --alignment SHA --src-corpus SHA --tgt-corpus SHA
"""
from __future__ import annotations

import argparse
import json
import time

import tasks  # noqa: F401  (configures the project's paths before anything reads them)
from components.align.catalog import AlignedExport
from components.backtranslate.catalog import MonolingualCorpus
from components.backtranslate.config import LMWordByWordConfig
from components.backtranslate.lmwordbyword import LMWordByWord, csls_candidates, target_lm
from components.backtranslate.metrics import standard_bleu, standard_chrf
from components.corpus import SplitConfig, half_verse_pairs
from components.sources import default_bible_db
from components.text import detokenize, prepare_sentence
from tasks.store import store


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--alignment", required=True)
    p.add_argument("--src-corpus", required=True)
    p.add_argument("--tgt-corpus", required=True)
    p.add_argument("--src-bible", default="kjv")
    p.add_argument("--tgt-bible", default="web")
    p.add_argument("--verses", type=int, default=1000)
    args = p.parse_args()
    st = store()
    aligned = AlignedExport.load(st.path(st.find(args.alignment)), "en", "en")
    src_train = MonolingualCorpus.load(st.path(st.find(args.src_corpus))).train
    tgt_train = MonolingualCorpus.load(st.path(st.find(args.tgt_corpus))).train
    dev = half_verse_pairs(default_bible_db(), args.src_bible, args.tgt_bible, "A", SplitConfig())[:args.verses]
    src_tok = [" ".join(prepare_sentence(s, "en", True)) for s, _ in dev]
    refs = [t for _, t in dev]
    config = LMWordByWordConfig()
    lm = target_lm(tgt_train, config)
    cands = csls_candidates(aligned.src, aligned.tgt, config.candidates)
    tgt_words = set(aligned.tgt.words)
    rows = {"copy the input": src_tok,
            "word by word (CSLS top 1)": [" ".join(cands.top1().get(w, w) for w in s.split()) for s in src_tok]}
    for name, c in (("LM word by word", cands), ("LM word by word, the word itself a candidate",
                                                 cands.with_identity(tgt_words))):
        clock = time.perf_counter()
        rows[name] = LMWordByWord(c, lm, config).translate(src_tok)
        print(f"{name}: {time.perf_counter() - clock:.0f} s", flush=True)
    out = {}
    for name, hyps in rows.items():
        detok = [detokenize(h.split(), "en") for h in hyps]
        out[name] = {"bleu": round(standard_bleu(detok, refs)[0], 2), "chrf": round(standard_chrf(detok, refs)[0], 2)}
        print(f"{name:50s} BLEU {out[name]['bleu']:6.2f}  chrF {out[name]['chrf']:6.2f}", flush=True)
    print(json.dumps({"dev_verses": len(dev), "rows": out}))


if __name__ == "__main__":
    main()
