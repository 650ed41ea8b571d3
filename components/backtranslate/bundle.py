"""The trained model as one directory (weights, both vocabularies, config) and text-level translation."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from components.errors import InputError
from components.sources import side_labels
from components.store import ArtifactRef, ArtifactStore
from components.backtranslate.config import TranslateConfig
from components.backtranslate.decode import translate_ids
from components.backtranslate.model import Translator
from components.backtranslate.vocab import UNK_ID, Vocabulary

WEIGHTS, CONFIG = "model.pt", "config.json"


@dataclass
class TranslationModel:
    """A Translator with the vocabularies of its two languages (index 0 = source of the pair)."""

    model: Translator
    vocabs: tuple[Vocabulary, Vocabulary]
    config: TranslateConfig
    device: torch.device
    # per side: source words outside the vocabulary -> what the output gets for them (else the word)
    fills: tuple[dict[str, str], dict[str, str]] = field(default_factory=lambda: ({}, {}))

    @property
    def langs(self) -> tuple[str, str]:
        return self.vocabs[0].lang, self.vocabs[1].lang

    def side(self, lang: str) -> int:
        if lang not in self.langs:
            raise InputError(f"language {lang!r}", f"this model translates between {' and '.join(self.langs)}")
        return self.langs.index(lang)


def replace_unknown(src_tokens: Sequence[str], src_ids: Sequence[int], out_tokens: list[str],
                    fills: Mapping[str, str] | None = None) -> list[str]:
    """Fill the i-th <unk> of the output with the i-th source word the vocabulary lacked, or its entry in
    `fills` (`TranslationModel.fills`); names, new words and other scripts pass through. <unk> beyond
    those is dropped."""
    unknown = [t for t, i in zip(src_tokens, src_ids) if i == UNK_ID]
    out, j = [], 0
    for t in out_tokens:
        if t == "<unk>":
            if j < len(unknown):
                out.append((fills or {}).get(unknown[j], unknown[j]))
                j += 1
            continue
        out.append(t)
    return out


# Tokens that end a clause or a sentence in the scripts the corpus stage reads (the tokeniser splits
# punctuation off words): where a long input is cut.
CLAUSE_ENDS = frozenset(".!?;:…。！？；：؟؛۔।")


def clause_segments(words: Sequence[str], sizes: Sequence[int], max_units: int) -> list[list[str]]:
    """`words` (of `sizes[i]` units each) cut after clause-ending tokens into consecutive runs of whole
    clauses of at most `max_units` units each; one clause longer than that stays whole. A model trained
    on sentences of up to `max_units` units runs past the lengths it learned on longer input: it stops
    early or repeats itself (measured on Bible verses, a fifth of which are over 40 words)."""
    runs: list[tuple[list[str], int]] = []  # (words, units) of each run so far
    clause: list[str] = []
    units = 0
    for i, (w, n) in enumerate(zip(words, sizes)):
        clause.append(w)
        units += n
        if w in CLAUSE_ENDS or i == len(words) - 1:
            if runs and runs[-1][1] + units <= max_units:
                runs[-1] = (runs[-1][0] + clause, runs[-1][1] + units)
            else:
                runs.append((clause, units))
            clause, units = [], 0
    return [run for run, _ in runs] or [list(words)]


def translate_text(tm: TranslationModel, sentences: Sequence[str], src: int, tgt: int, beam: int = 1,
                   max_tokens: int | None = None) -> list[str]:
    """Translate tokenised sentences (tokens split by spaces) from language index `src` to `tgt`, unit by
    unit (words or pieces, as the vocabularies split them).

    With `decode.split_long`, a sentence of more units than training kept is translated clause by clause
    (`clause_segments`) and the pieces joined. Sentences longer than the model's positions allow are cut
    to fit; empty ones give ''; ones with no word the vocabulary knows (another script, say) are passed
    through unchanged.
    """
    reader, max_len = tm.vocabs[src], tm.config.train.max_len
    lengths = [len(reader.split(s)) for s in sentences] if tm.config.decode.split_long else []
    if any(n > max_len for n in lengths):
        parts = [[s.split()] if n <= max_len else
                 clause_segments(s.split(), [len(reader.split(w)) for w in s.split()], max_len)
                 for s, n in zip(sentences, lengths)]
        done = iter(_translate(tm, [" ".join(seg) for p in parts for seg in p], src, tgt, beam, max_tokens))
        return [" ".join(t for t in (next(done) for _ in p) if t) for p in parts]
    return _translate(tm, sentences, src, tgt, beam, max_tokens)


def _translate(tm: TranslationModel, sentences: Sequence[str], src: int, tgt: int, beam: int,
               max_tokens: int | None) -> list[str]:
    d = tm.config.decode
    limit = max_tokens or max(1, int((tm.model.config.max_positions - 1 - d.max_len_b) / d.max_len_a))
    reader, writer = tm.vocabs[src], tm.vocabs[tgt]
    tokens = [reader.split(s)[:limit] for s in sentences]
    ids = [reader.encode(t) for t in tokens]
    keep = [i for i, x in enumerate(ids) if any(t != UNK_ID for t in x)]
    hyps = translate_ids(tm.model, [ids[i] for i in keep], src, tgt, tm.device, beam=beam,
                         length_penalty=d.length_penalty, max_len_a=d.max_len_a, max_len_b=d.max_len_b,
                         batch_sentences=d.batch_sentences)
    out = [reader.join(t) for t in tokens]
    for i, h in zip(keep, hyps):
        out[i] = writer.join(replace_unknown(tokens[i], ids[i], writer.decode(h), tm.fills[src]))
    return out


def vocabulary_files(src_lang: str, tgt_lang: str) -> tuple[str, str]:
    """File names of the two vocabularies (components.sources.side_labels)."""
    src, tgt = side_labels(src_lang, tgt_lang)
    return f"vocab.{src}.txt", f"vocab.{tgt}.txt"


def fill_files(src_lang: str, tgt_lang: str) -> tuple[str, str]:
    """File names of the two sides' unknown-word fills (`TranslationModel.fills`): word TAB fill."""
    src, tgt = side_labels(src_lang, tgt_lang)
    return f"unknown.{src}.tsv", f"unknown.{tgt}.tsv"


def _read_fills(path: Path) -> dict[str, str]:
    """One side's fills; none where the file is absent (models saved before fills copy every unknown word)."""
    if not path.is_file():
        return {}
    return dict(line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines())


def save_bundle(directory: Path, state: dict[str, torch.Tensor], vocabs: tuple[Vocabulary, Vocabulary],
                config: TranslateConfig, meta: dict[str, Any],
                fills: tuple[dict[str, str], dict[str, str]] = ({}, {})) -> None:
    """Write weights, vocabularies, unknown-word fills and config into `directory` (which the caller
    commits atomically)."""
    directory = Path(directory)
    torch.save({k: v.detach().cpu() for k, v in state.items()}, directory / WEIGHTS)
    langs = tuple(v.lang for v in vocabs)
    for v, name in zip(vocabs, vocabulary_files(*langs)):
        v.write(directory / name)
    for fill, name in zip(fills, fill_files(*langs)):
        (directory / name).write_text("".join(f"{w}\t{f}\n" for w, f in fill.items()), encoding="utf-8")
    info = {"langs": list(langs), "embedding_dim": int(state["tables.0"].shape[1]),
            "config": json.loads(config.model_dump_json()), "meta": meta}
    (directory / CONFIG).write_text(json.dumps(info, indent=1), encoding="utf-8")


def load_bundle(directory: Path, device: torch.device) -> TranslationModel:
    """Rebuild the model saved by `save_bundle`; InputError naming the directory when it is not one."""
    directory = Path(directory)
    if not (directory / CONFIG).is_file() or not (directory / WEIGHTS).is_file():
        raise InputError(directory, f"not a translation model (expected {CONFIG} and {WEIGHTS})")
    info = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    info["config"].get("decode", {}).pop("beam", None)  # a dead field of models saved before it went
    config = TranslateConfig.model_validate(info["config"])
    vocabs = tuple(Vocabulary.read(lang, directory / name)
                   for lang, name in zip(info["langs"], vocabulary_files(*info["langs"])))
    dim = info["embedding_dim"]
    model = Translator(config.model, [np.zeros((len(v), dim), np.float32) for v in vocabs],
                       [np.zeros(len(v), bool) for v in vocabs])
    state = torch.load(directory / WEIGHTS, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.to(device).eval()
    fills = tuple(_read_fills(directory / name) for name in fill_files(*info["langs"]))
    return TranslationModel(model, vocabs, config, device, fills)  # type: ignore[arg-type]


def model_directory(model: ArtifactRef | str | Path, store: ArtifactStore) -> Path:
    """Where a model lives: a ref, a directory (or its config.json), or the sha256 (or a unique
    prefix of 8+ hex digits) of a model in `store`."""
    if isinstance(model, ArtifactRef):
        return store.path(model)
    text = str(model).strip()
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if path.name == CONFIG and path.is_file():
        return path.parent
    if len(text) >= 8 and all(c in "0123456789abcdef" for c in text.lower()):
        found = [d for d in map(store.path, store.matching(text)) if (d / CONFIG).is_file()]
        if len(found) > 1:
            raise InputError(f"model {text!r}", "prefix matches several models: give more of the sha256")
        if found:
            return found[0]
    raise InputError(f"model {text!r}", "no such model: give the directory of a translation model or the "
                                        "sha256 of one in the artifact store")
