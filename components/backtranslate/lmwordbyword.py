"""Word-by-word translation searched with a target-language n-gram LM, with local reordering.

Kim, Geng & Ney (2018): each source word proposes its top-k CSLS translations; a left-to-right
beam search picks one per word, scored log-linearly by the lexical score and a target n-gram LM,
so context chooses among the candidates ("banque" -> "bank", not "shore"). Beside them, the
search may translate a source word up to `max_jump` positions ahead of the first one left
(a window of max_jump + 1 words), for a penalty per skipped word: adjacent swaps such as
"maison blanche" -> "white house" when the LM prefers them. Nothing is dropped or inserted.

Lexical score: log softmax(CSLS / temperature) over a word's candidates (the phrase-table
probability of Artetxe et al. 2018's unsupervised SMT), so it is a log-probability on the LM's
scale. The LM is the project's interpolated n-gram model (components/speech/lm.py) trained on
the target side's monolingual training text.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from components.align.config import RetrievalConfig
from components.align.retrieval import csls_knn, csls_penalties
from components.backtranslate.catalog import ParallelTest
from components.backtranslate.config import LMWordByWordConfig, TranslateConfig
from components.backtranslate.metrics import examples, parallel_test_scores
from components.embeddings import Embeddings
from components.speech.lm import EOS, NgramLM


@dataclass(frozen=True)
class Candidates:
    """Each source word's top-k target words by CSLS, best first, with their CSLS scores."""

    words: dict[str, list[tuple[str, float]]]

    def top1(self) -> dict[str, str]:
        """The plain word-by-word lexicon: each word's best candidate."""
        return {w: c[0][0] for w, c in self.words.items()}

    def with_identity(self, tgt_words: set[str]) -> "Candidates":
        """Each source word that the target side also has becomes its own first candidate (scored as
        the best CSLS candidate; the last one makes room): between two styles of one language most
        words stay, and the LM decides where they should not."""
        out = {}
        for w, cands in self.words.items():
            if w in tgt_words:
                cands = [(w, cands[0][1])] + [c for c in cands if c[0] != w][:len(cands) - 1]
            out[w] = cands
        return Candidates(out)


def csls_candidates(src: Embeddings, tgt: Embeddings, k: int, csls_k: int = 10, batch: int = 2048) -> Candidates:
    """Top-`k` target words of every source word by CSLS (Conneau et al. 2018) in the shared space.

    src: (n_src, d), tgt: (n_tgt, d) vectors, normalised here to unit length; csls_k: neighbourhood
    of the hubness penalties; exact, `batch` rows at a time.
    """
    x = torch.nn.functional.normalize(torch.from_numpy(src.vectors).float(), dim=1)
    z = torch.nn.functional.normalize(torch.from_numpy(tgt.vectors).float(), dim=1)
    config = RetrievalConfig(csls_k=csls_k, use_faiss=False, batch_size=batch)
    r_src, r_tgt = csls_penalties(x, z, config)
    scores, best = csls_knn(x, z, k, r_query=r_src, r_keys=r_tgt, batch_size=batch)
    return Candidates({w: [(tgt.words[j], s) for j, s in zip(row_j, row_s)]
                       for w, row_j, row_s in zip(src.words, best.tolist(), scores.tolist())})


def target_lm(sentences: Sequence[str], config: LMWordByWordConfig) -> NgramLM:
    """The target language's n-gram LM from its tokenised monolingual training sentences."""
    return NgramLM.fit((s.split() for s in sentences), config.lm_order, config.lm_discount)


class LMWordByWord:
    """Beam search over the CSLS candidates of each word with a target LM; `translate` sentences."""

    def __init__(self, candidates: Candidates, lm: NgramLM, config: LMWordByWordConfig) -> None:
        self.config, self.lm = config, lm
        t = config.temperature
        self._lexical: dict[str, list[tuple[str, float]]] = {}
        for w, cands in candidates.words.items():
            cands = cands[:config.candidates]
            top = max(s for _, s in cands)
            norm = top / t + math.log(sum(math.exp((s - top) / t) for _, s in cands))
            self._lexical[w] = [(c, s / t - norm) for c, s in cands]

    def options(self, token: str) -> list[tuple[str, float]]:
        """(target word, lexical log-prob) of a source token; one unknown to the lexicon is copied
        (names, numbers), with log-prob 0."""
        return self._lexical.get(token) or [(token, 0.0)]

    def translate_tokens(self, tokens: Sequence[str]) -> list[str]:
        """The best target word sequence for one tokenised sentence (as many words as it has)."""
        n = len(tokens)
        if n == 0:
            return []
        c = self.config
        ctx_len = max(0, self.lm.order - 1)
        opts = [self.options(t) for t in tokens]
        lm = self.lm.logprob if c.lm_weight else None
        # a hypothesis: (score, covered: bit j set once source word j is translated, first source
        # position not yet translated, LM context: the last order-1 words, output as (word, previous))
        beam: list[tuple] = [(0.0, 0, 0, (), None)]
        for _ in range(n):
            best: dict[tuple, tuple] = {}  # recombination: same coverage and LM state -> keep the best
            for score0, covered0, first0, context0, words0 in beam:
                for j in range(first0, min(n, first0 + c.max_jump + 1)):
                    if covered0 >> j & 1:
                        continue
                    covered = covered0 | (1 << j)
                    first = first0
                    while first < n and covered >> first & 1:
                        first += 1
                    base = score0 - c.reorder_penalty * (j - first0)
                    for word, lex in opts[j]:
                        context = (context0 + (word,))[-ctx_len:] if ctx_len else ()
                        score = base + c.lexical_weight * lex
                        if lm is not None:
                            score += c.lm_weight * lm(word, context0)
                        key = (covered, context)
                        old = best.get(key)
                        if old is None or score > old[0]:  # ties: the first found (monotone) stays
                            best[key] = (score, covered, first, context, (word, words0))
            beam = sorted(best.values(), key=lambda h: -h[0])[:c.beam]  # stable: ties keep their order
        if lm is not None:
            final = max(beam, key=lambda h: h[0] + c.lm_weight * lm(EOS, h[3]))
        else:
            final = beam[0]
        out, node = [], final[4]
        while node is not None:
            out.append(node[0])
            node = node[1]
        return out[::-1]

    def translate(self, sentences: Sequence[str]) -> list[str]:
        """Tokenised sentences (space-separated) -> their translations, tokens joined by spaces."""
        return [" ".join(self.translate_tokens(s.split())) for s in sentences]


def lm_searches(aligned: tuple[Embeddings, Embeddings], train_lines: tuple[Sequence[str], Sequence[str]],
                config: TranslateConfig) -> tuple[LMWordByWord, LMWordByWord]:
    """Both directions' searches (source -> target, target -> source): each with its candidates
    from the aligned vectors and the LM of the language it writes, fitted on that language's
    tokenised training lines (never the test verses)."""
    c = config.lm_word_by_word
    lms = [target_lm(lines, c) for lines in train_lines]

    def candidates(i: int) -> Candidates:
        found = csls_candidates(aligned[i], aligned[1 - i], c.candidates, config.csls_k)
        return found.with_identity(set(aligned[1 - i].words)) if c.identity_candidate else found

    return tuple(LMWordByWord(candidates(i), lms[1 - i], c) for i in (0, 1))  # type: ignore[return-value]


def evaluate_lm_word_by_word(aligned: tuple[Embeddings, Embeddings], train_lines: tuple[Sequence[str], Sequence[str]],
                             test: ParallelTest, config: TranslateConfig, langs: tuple[str, str]) -> dict[str, Any]:
    """BLEU and chrF of the LM-searched word-by-word translation of the test, both ways (`langs` =
    (source, target)), scored as the plain word-by-word row is, with three examples and the
    search's pace (sentences per second, both directions together)."""
    searches = lm_searches(aligned, train_lines, config)
    clock = time.perf_counter()
    hyp_s2t, hyp_t2s = searches[0].translate(test.src), searches[1].translate(test.tgt)
    seconds = time.perf_counter() - clock
    return {**parallel_test_scores(hyp_s2t, hyp_t2s, test, langs),
            "examples": examples(test.src, hyp_s2t, test.tgt),
            "sentences_per_second": round((len(test.src) + len(test.tgt)) / max(seconds, 1e-9), 1)}
