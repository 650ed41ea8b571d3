"""Feed every command of the `unpaired` console script the bad inputs a new user tries, and check
the contract for each (`make test` runs it; exit status 1 when a case breaks it):

- exit status 0 or 2, never a traceback on stdout or stderr;
- a refused input: exactly one `error:` line (for `transcribe`, one per bad file), naming the input;
- nothing new in the artifact store, and no Prefect server started for a refusal.

    python scripts/bad_inputs.py [--unpaired .venv/bin/unpaired] [--work DIR]

It runs the console script as a user does, outside make, with no PREFECT_* or UNPAIRED_*
variables set except a data folder and a Prefect home of its own for each case, inside --work
(a temporary folder by default), on tiny files it writes there. The seconds each answer took
are printed, not judged.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

import numpy as np
import torch

from components.backtranslate.bundle import save_bundle
from components.backtranslate.config import ModelConfig, TranslateConfig
from components.backtranslate.model import Translator
from components.backtranslate.vocab import Vocabulary
from components.speech.audio import write_wav
from components.speech.config import DecodeConfig, FeaturesConfig, GeneratorConfig, SegmentConfig
from components.speech.features import extract_features
from components.speech.gan import Generator, TrainedGenerator
from components.speech.lm import NgramLM
from components.speech.model import SpeechModel
from components.speech.phones import PHONES, Lexicon
from components.speech.segment import fit_segmenter
from components.speech.ssl import SslEncoder
from components.store import ArtifactStore

WORDS = {"en": "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split(),
         "fr": "arbre bateau chat dune etoile feu gare herbe ile jardin lune mer".split()}
ELF = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00\n"
LATIN1 = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e du jour\n".encode("latin-1")
SERVER_STARTED = "Starting temporary server"


@dataclass
class Case:
    """One command line; `named` must all appear in its error line(s)."""

    name: str
    args: list[str]
    named: tuple[str, ...] = ()
    stdin: bytes | None = None
    accepted: bool = False          # exit 0 expected (e.g. a mixed batch: the bad files get error lines)
    bad_files: tuple[str, ...] = ()  # transcribe: each must get one error line


def _text(lang: str, n: int = 120) -> str:
    """n distinct four-word sentences over twelve words: every word occurs often."""
    return "".join(" ".join(p) + "\n" for p in list(permutations(WORDS[lang], 4))[:n])


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _wav(path: Path, samples: int, silent: bool = False) -> Path:
    t = torch.arange(samples, dtype=torch.float32) / 16000
    wave = torch.zeros(samples) if silent else 0.3 * torch.sin(2 * torch.pi * 220 * t) * (1 + torch.sin(7 * t))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, wave)
    return path


def translation_model(directory: Path) -> Path:
    """An untrained but complete en-fr translation model: the commands get past the model check."""
    config = TranslateConfig(model=ModelConfig(d_model=16, layers=1, heads=2, ff=32, vocabulary=40, max_positions=40,
                                               dropout=0.0))
    vocabs = (Vocabulary.build("en", _text("en").splitlines(), 40), Vocabulary.build("fr", _text("fr").splitlines(), 40))
    torch.manual_seed(0)
    model = Translator(config.model, [np.random.default_rng(0).normal(size=(len(v), 8)).astype(np.float32)
                                      for v in vocabs], [np.zeros(len(v), bool) for v in vocabs])
    directory.mkdir(parents=True)
    save_bundle(directory, model.state_dict(), vocabs, config, {"origin": "bad-inputs check"})
    return directory


def tiny_checkpoint(path: Path) -> Path:
    """A randomly initialised wav2vec 2.0 (2 small transformer layers) in the torchaudio format."""
    from torchaudio.models import wav2vec2_model

    config = dict(extractor_mode="group_norm", extractor_conv_layer_config=[(16, 10, 5)] + [(16, 3, 2)] * 4
                  + [(16, 2, 2)] * 2, extractor_conv_bias=False, encoder_embed_dim=32, encoder_projection_dropout=0.0,
                  encoder_pos_conv_kernel=8, encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=2,
                  encoder_attention_dropout=0.0, encoder_ff_interm_features=64, encoder_ff_interm_dropout=0.0,
                  encoder_dropout=0.0, encoder_layer_norm_first=False, encoder_layer_drop=0.0)
    torch.manual_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    SslEncoder(wav2vec2_model(**config, aux_num_out=None).eval(), config, False, str(path)).save(path)
    return path


def speech_model(directory: Path, wavs: list[Path]) -> Path:
    """An untrained but complete speech model (segmenter fitted on `wavs`)."""
    from components.speech.audio import read_audio

    feats_cfg, seg_cfg, gen_cfg = FeaturesConfig(), SegmentConfig(segment_pca_dim=8), GeneratorConfig(generator_hidden=8)
    segmenter = fit_segmenter([extract_features(read_audio(w), feats_cfg) for w in wavs], seg_cfg, seed=0,
                              device=torch.device("cpu"))
    torch.manual_seed(0)
    weights = {k: v.clone() for k, v in Generator(8, len(PHONES), gen_cfg).state_dict().items()}
    lexicon = Lexicon({"god": [("g", "aa", "d")], "light": [("l", "ay", "t")]}, use_t2p=False)
    SpeechModel(feats_cfg, seg_cfg, segmenter, gen_cfg, TrainedGenerator(weights, 8, len(PHONES), 1, 3.0), lexicon,
                NgramLM.fit([["god"], ["light"]], order=2), DecodeConfig(decode_beam=2),
                {"origin": "bad-inputs check"}).save(directory)
    return directory


def cases(work: Path) -> list[Case]:
    """The table of bad inputs, every file written under `work`."""
    f = work / "files"
    en, fr = _write(f / "good.en", _text("en")), _write(f / "good.fr", _text("fr"))
    dictionary = _write(f / "dict.tsv", "alpha\tarbre\nbravo\tbateau\n")
    sources = {"empty": b"", "not-utf8": LATIN1, "binary": ELF, "one-line": b"the same line again\n" * 200,
               "10mb-line": ("word " * 2_000_000).encode() + b"\n"}
    out = [Case(f"prepare-corpus: {kind} source", ["prepare-corpus", "--src-file", str(_write(f / f"{kind}.en", data)),
                                                  "--tgt-file", str(fr), "--dictionary", str(dictionary)],
                (f"{kind}.en",)) for kind, data in sources.items()]
    good_pair = ["--src-file", str(en), "--tgt-file", str(fr)]
    binary = _write(f / "binary.bin", ELF)
    short = _write(f / "short.fr", "".join(f"mot{i} mot{i} mot{i} autre{i}\n" for i in range(5)))
    out += [
        Case("prepare-corpus: missing source", ["prepare-corpus", "--src-file", str(f / "missing.en"), "--tgt-file",
                                                str(fr), "--dictionary", str(dictionary)], ("missing.en", "not found")),
        Case("prepare-corpus: too few words", ["prepare-corpus", "--src-file", str(en), "--tgt-file", str(short),
                                               "--dictionary", str(dictionary)], ("short.fr", "min_count")),
        Case("prepare-corpus: unknown language", ["prepare-corpus", "--pair", "en-zz"], ("'zz'", "no built-in Bible")),
        Case("prepare-corpus: a translation of another language",
             ["prepare-corpus", "--config", str(_write(f / "segond.toml", 'src = { lang = "en", translations = '
                                                       '["segond"] }\ntgt = { lang = "fr" }\n'))], ("'segond'",)),
        Case("prepare-corpus: binary test side", ["prepare-corpus", *good_pair, "--dictionary", str(dictionary),
                                                  "--test-src", str(en), "--test-tgt", str(binary)], ("binary.bin",)),
        Case("prepare-corpus: binary dictionary", ["prepare-corpus", *good_pair, "--dictionary", str(binary)],
             ("binary.bin",)),
        Case("prepare-corpus: test sides of different lengths",
             ["prepare-corpus", *good_pair, "--dictionary", str(dictionary), "--test-src", str(en), "--test-tgt",
              str(_write(f / "test.fr", "une ligne\n"))], ("test.fr",)),
        Case("prepare-corpus: config not TOML", ["prepare-corpus", "--config", str(_write(f / "bad.toml", "[x\n"))],
             ("bad.toml",)),
        Case("prepare-corpus: config with a bad value",
             ["prepare-corpus", "--config", str(_write(f / "dim.toml", 'src = { lang = "en" }\ntgt = { lang = "fr" }\n'
                                                       'embeddings = { dim = -3 }\n'))], ("dim",)),
        Case("translation: binary file in the corpus config",
             ["translation", "--no-train-model", "--corpus-config", str(_write(f / "corpus.toml", (
                 f'src = {{ lang = "en", files = ["{binary}"] }}\ntgt = {{ lang = "fr", files = ["{fr}"] }}\n'
                 f'dictionary = {{ files = ["{dictionary}"] }}\n')))], ("binary.bin",)),
        Case("translation: missing align config", ["translation", "--align-config", str(f / "none.toml")],
             ("none.toml",)),
        Case("style-transfer: missing source style", ["style-transfer", "--src-file", str(f / "missing.en"),
                                                      "--tgt-file", str(en)], ("missing.en",)),
        Case("style-transfer: not-UTF-8 target style", ["style-transfer", "--src-file", str(en), "--tgt-file",
                                                        str(_write(f / "latin1.en", LATIN1))], ("latin1.en",)),
        Case("style-transfer: unknown language", ["style-transfer", "--lang", "zz"], ("'zz'",)),
        Case("style-transfer: a style name with a space",
             ["style-transfer", "--config", str(_write(f / "style.toml", 'sides = { src_style = "old style" }\n'))],
             ("src_style",)),
    ]
    out += _vector_cases(f)
    out += _speech_cases(work)
    out += _translate_cases(work)
    out += [
        Case("report: no such key", ["report", "no-such-key"], ("no-such-key",)),
        Case("report: not a key", ["report", "../../etc/passwd"], ("../../etc/passwd",)),
        Case("bench: unknown stage", ["bench", "--stage", "bogus"], ("bogus",)),
        Case("retrain: unknown preset", ["retrain", "--preset", "bogus"], ("bogus",)),
        Case("unknown command", ["frobnicate"], ("frobnicate",)),
    ]
    return out


def _vector_cases(f: Path) -> list[Case]:
    good = _write(f / "xa.vec", "3 4\n" + "".join(f"{w} 0.1 0.2 0.3 0.{i}\n" for i, w in enumerate("abc")))
    three = _write(f / "xb.vec", "3 3\n" + "".join(f"{w} 0.1 0.2 0.{i}\n" for i, w in enumerate("abc")))
    pairs = _write(f / "xa-xb.tsv", "a\ta\nb\tb\n")

    def align(src: Path, tgt: Path, dictionary: Path = pairs) -> list[str]:
        return ["align", "--pair", "xa-xb", "--src-vectors", str(src), "--tgt-vectors", str(tgt),
                "--dictionary", str(dictionary)]

    return [Case("align: missing vectors", align(f / "none.vec", good), ("none.vec",)),
            Case("align: bad header", align(_write(f / "header.vec", "three four\na 1 2\n"), good), ("header.vec",)),
            Case("align: binary vectors", align(_write(f / "elf.vec", ELF), good), ("elf.vec",)),
            Case("align: dimensions differ", align(good, three), ("xb.vec", "3-dimensional")),
            Case("align: duplicate word", align(good, _write(f / "dup.vec", "3 3\na 1 2 3\nb 4 5 6\na 7 8 9\n")),
                 ("dup.vec", "duplicate")),
            Case("align: NaN vector", align(_write(f / "nan.vec", "2 4\na 1 2 3 4\nb 1 nan 3 4\n"), good),
                 ("nan.vec", "non-finite")),
            Case("align: header only", align(good, _write(f / "empty.vec", "0 4\n")), ("empty.vec",)),
            Case("align: binary dictionary", align(good, good, _write(f / "dict.bin", ELF)), ("dict.bin",)),
            Case("align: vectors without dictionary", ["align", "--src-vectors", str(good)], ("go together",)),
            Case("backtranslate: unknown alignment", ["backtranslate", "--alignment", "0123456789ab"],
                 ("0123456789ab",))]


def _speech_cases(work: Path) -> list[Case]:
    a = work / "audio"
    good = [_wav(a / "good" / f"u{i}.wav", 16000 + 4000 * i) for i in range(3)]
    model = str(speech_model(work / "models" / "speech", good))
    bad = {"truncated": _write(a / "bad" / "truncated.wav", _wav(a / "tmp.wav", 16000).read_bytes()[:60]),
           "20-samples": _wav(a / "bad" / "twenty.wav", 20), "empty": _write(a / "bad" / "empty.wav", b""),
           "silent": _wav(a / "bad" / "silent.wav", 16000, silent=True),
           "not-audio": _write(a / "bad" / "text.wav", "this is text\n")}
    corrupt = a / "corrupt"
    for path in (bad["truncated"], bad["empty"], bad["not-audio"]):
        _write(corrupt / path.name, path.read_bytes())
    # each kind of bad file in one batch (a model load per case costs seconds): one error line each
    speech = [
        Case("transcribe: missing file", ["transcribe", "--model", model, str(a / "none.wav")], ("none.wav",),
             bad_files=("none.wav",)),
        Case("transcribe: mixed batch", ["transcribe", "--model", model, str(good[0]), *map(str, bad.values())],
             accepted=True, bad_files=tuple(p.name for p in bad.values())),
        Case("transcribe: unknown model", ["transcribe", "--model", str(work / "nomodel"), str(good[0])],
             ("nomodel",)),
        Case("transcribe: no current model", ["transcribe", "--model", "current", str(good[0])], ("speech-en",)),
    ]
    for name, data in (("missing audio folder", f'audio_dir = "{a / "none"}"\n'),
                       ("folder without audio", f'audio_dir = "{work / "files"}"\n'),
                       ("folder of corrupt audio", f'audio_dir = "{corrupt}"\n'),
                       ("binary text file", f'audio_dir = "{a / "good"}"\ntext_files = ["{work / "files" / "binary.bin"}"]\n')):
        config = _write(work / "files" / f"speech-{name.replace(' ', '-')}.toml", f"[data]\n{data}")
        named = {"missing audio folder": "none", "folder without audio": "files", "folder of corrupt audio": "corrupt",
                 "binary text file": "binary.bin"}[name]
        speech.append(Case(f"speech: {name}", ["speech", "--config", str(config)], (named,)))
    # a pretrained model for ssl features that cannot be read, or lacks the layer asked for (the
    # other checkpoint problems take the same path: tests/components/speech/test_ssl.py names them)
    tiny = tiny_checkpoint(work / "models" / "tiny-wav2vec2.pt")
    truncated = _write(work / "files" / "truncated.pt", tiny.read_bytes()[:2000])
    speech += [Case("speech: truncated checkpoint", ["speech", "--features-checkpoint", str(truncated)],
                    ("truncated.pt",)),
               Case("speech: layer beyond the model", ["speech", "--features-checkpoint", str(tiny),
                                                       "--features-layer", "7"], ("tiny-wav2vec2.pt", "7"))]
    return speech


def _translate_cases(work: Path) -> list[Case]:
    model = str(translation_model(work / "models" / "translation"))
    return [Case("translate: binary stdin", ["translate", "--model", model], ("stdin",), stdin=ELF * 4),
            Case("translate: non-UTF-8 stdin", ["translate", "--model", model], ("stdin",), stdin=LATIN1),
            Case("translate: unknown direction", ["translate", "--model", model, "--direction", "xx-yy", "alpha"],
                 ("xx",)),
            Case("translate: unknown model", ["translate", "--model", str(work / "nomodel"), "alpha"], ("nomodel",)),
            Case("translate: no current model", ["translate", "--model", "current", "--pair", "xa-xb", "a"],
                 ("translate-xa-xb",)),
            Case("restyle: unknown model", ["restyle", "--model", str(work / "nomodel"), "thou art"], ("nomodel",)),
            Case("restyle: non-UTF-8 stdin", ["restyle", "--model", model], ("stdin",), stdin=LATIN1),
            Case("restyle: unknown direction", ["restyle", "--model", model, "--direction", "up", "thou art"],
                 ("up",))]


def check(case: Case, unpaired: str, home: Path) -> tuple[list[str], float]:
    """Run one case with its own data folder and Prefect home under `home`; the contract's
    breaches (none: it holds) and the seconds it took."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "UNPAIRED_"))}
    env.update(UNPAIRED_DATA=str(home / "data"), PREFECT_HOME=str(home / "prefect"))
    store = ArtifactStore(home / "data" / "store")
    before = {a.sha256 for a in store.listing()}
    start = time.perf_counter()
    run = subprocess.run([unpaired, *case.args], input=case.stdin or b"", capture_output=True, env=env, timeout=600)
    seconds = time.perf_counter() - start
    out, err = run.stdout.decode("utf-8", "replace"), run.stderr.decode("utf-8", "replace")
    lines = (out + err).splitlines()
    problems = []
    if run.returncode != (0 if case.accepted else 2):
        problems.append(f"exit status {run.returncode}")
    if "Traceback" in out + err:
        problems.append("a traceback")
    if case.bad_files:  # transcribe: '<file>\terror: ...' per bad file
        for name in case.bad_files:
            hits = [line for line in lines if "error:" in line and name in line]
            if len(hits) != 1:
                problems.append(f"{len(hits)} error lines for {name}")
    else:
        errors = [line for line in lines if line.startswith("error:")]
        if len(errors) != 1 or err.strip() != errors[0]:
            problems.append(f"{len(errors)} error lines among {len(err.splitlines())} on stderr")
        elif not all(n in errors[0] for n in case.named):
            problems.append(f"the error line does not name {case.named}: {errors[0]}")
    if not case.accepted and {a.sha256 for a in store.listing()} - before:
        problems.append("new entries in the artifact store")
    if SERVER_STARTED in out + err:
        problems.append("a Prefect server was started")
    return problems, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unpaired", default=str(Path(sys.executable).with_name("unpaired")),
                        help="the console script to check (default: the one beside this Python)")
    parser.add_argument("--work", type=Path, help="folder for the files, data and Prefect home (default: temporary)")
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once (the seconds are then not a "
                                                            "quiet machine's)")
    parser.add_argument("--only", default="", help="the cases whose name contains this text (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="unpaired-bad-inputs-") as tmp:
        work = (args.work or Path(tmp)).resolve()
        table = [case for case in cases(work) if args.only in case.name]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = pool.map(lambda ic: check(ic[1], args.unpaired, work / "runs" / str(ic[0])), enumerate(table))
            broken, slowest = 0, 0.0
            for case, (problems, seconds) in zip(table, results):
                broken += bool(problems)
                slowest = max(slowest, seconds)
                print(f"{'ok ' if not problems else 'BAD'} {seconds:5.1f} s  {case.name}"
                      + (f": {'; '.join(problems)}" if problems else ""), flush=True)
        print(f"{broken} of {len(table)} cases broke the contract; slowest answer {slowest:.1f} s "
              f"({args.jobs} at a time)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
