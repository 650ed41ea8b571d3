"""The `unpaired` command line: run a stage or the benchmark on built-in data or your files."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from components.corpus import CorpusConfig, SideConfig
from components.speech.config import CheckpointFormat
from components.errors import UnpairedError
from components import presets
from components.presets import Preset

app = typer.Typer(help="Learn to translate and to recognise speech without paired data.\n\n"
                       "Stages cache their artifacts under data/: a rerun with unchanged inputs takes seconds.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
console = Console()

# Options most commands share.
PairOption = Annotated[str, typer.Option(help="Language pair 'src-tgt'.")]
PresetOption = Annotated[Preset, typer.Option(help="quick or full.")]
RefreshOption = Annotated[bool, typer.Option(help="Recompute every task instead of using the cache.")]


@app.callback()
def main(dask: Annotated[Optional[str], typer.Option(
        help="Dask scheduler address (tcp://host:8786): run the stages' tasks on that cluster.",
        envvar="UNPAIRED_DASK_ADDRESS")] = None) -> None:
    """Learn to translate and to recognise speech without paired data."""
    if dask:
        import os

        from flows.runner import DASK_ADDRESS_ENV
        os.environ[DASK_ADDRESS_ENV] = dask  # read when the flow modules are imported, below


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _describe(error: Exception) -> str:
    """One line per problem; pydantic's multi-line report folded to 'field: message'."""
    if isinstance(error, ValidationError):
        return "invalid settings: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return str(error)


def _load_config(path: Path) -> dict:
    if not path.is_file():
        _fail(f"{path}: config file not found")
    try:
        if path.suffix in {".yaml", ".yml"}:
            import yaml
            return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as e:
        _fail(f"{path}: cannot parse config: {e}")
    return {}


def print_rows(title: str, rows: list[dict[str, object]]) -> None:
    table = Table(title=title)
    for col in rows[0]:
        table.add_column(str(col))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


def print_report(report, title: str | None = None) -> None:
    """A stage's rows, as the UI's table shows them."""
    rows = report.table(terminal=True)
    if rows:
        print_rows(title or report.title, rows)


def _check_corpus(config: CorpusConfig) -> None:
    """A corpus config's files and sources, refused in seconds before a Prefect server starts."""
    from components.preflight import check_corpus
    from tasks.corpus.text import source_paths

    try:
        check_corpus(config)
        source_paths(config)
    except (UnpairedError, ValidationError) as e:
        _fail(_describe(e))


def _run(fn, *args, **kwargs):
    """Run a flow; user errors become one clear line instead of a trace.

    Without a configured server, the temporary one starts here, in the main thread, and
    dies with the command even on SIGKILL (see flows/server.py).
    """
    from flows.server import linked_server

    linked_server()
    try:
        return fn(*args, **kwargs)
    except (UnpairedError, ValidationError) as e:
        _fail(_describe(e))


@app.command("prepare-corpus")
def prepare_corpus_cmd(
    pair: Annotated[str, typer.Option(help="Language pair 'src-tgt', e.g. en-fr.")] = "en-fr",
    preset: Annotated[Preset, typer.Option(help="Embedding settings preset.")] = Preset.quick,
    config: Annotated[Optional[Path], typer.Option(help="TOML/YAML file with a CorpusConfig.")] = None,
    src_file: Annotated[Optional[list[Path]], typer.Option(help="Source-language text file (repeatable).")] = None,
    tgt_file: Annotated[Optional[list[Path]], typer.Option(help="Target-language text file (repeatable).")] = None,
    test_src: Annotated[Optional[Path], typer.Option(help="Parallel test set, source side.")] = None,
    test_tgt: Annotated[Optional[Path], typer.Option(help="Parallel test set, target side.")] = None,
    dictionary: Annotated[Optional[list[Path]], typer.Option(help="'src<TAB>tgt' dictionary file (repeatable).")] = None,
    refresh: RefreshOption = False,
) -> None:
    """Prepare corpora, test set, fastText embeddings and the evaluation dictionary."""
    try:
        cfg = CorpusConfig.model_validate(_load_config(config)) if config else presets.preset(preset).corpus(pair)
        if src_file or tgt_file or test_src or test_tgt or dictionary:
            if bool(test_src) != bool(test_tgt):
                _fail("--test-src and --test-tgt go together")
            cfg = cfg.model_copy(update={
                "src": SideConfig(lang=cfg.src.lang, files=tuple(src_file or ()), translations=cfg.src.translations),
                "tgt": SideConfig(lang=cfg.tgt.lang, files=tuple(tgt_file or ()), translations=cfg.tgt.translations),
                "test_files": (test_src, test_tgt) if test_src else cfg.test_files,
                "dictionary": cfg.dictionary.model_copy(update={"files": tuple(dictionary or ())}),
            })
    except (UnpairedError, ValidationError) as e:
        _fail(_describe(e))
    _check_corpus(cfg)
    from flows.corpus import prepare_corpus

    result = _run(prepare_corpus, cfg, refresh=refresh)
    print_rows(f"Corpus {result.pair} ({result.seconds:.1f} s)", result.stats_rows())


@app.command()
def align(
    pair: Annotated[str, typer.Option(help="Language pair 'src-tgt' (built-in corpus, or your files' languages).")]
    = "en-fr",
    preset: PresetOption = Preset.quick,
    config: Annotated[Optional[Path], typer.Option(help="TOML/YAML AlignStageConfig.")] = None,
    src_vectors: Annotated[Optional[Path], typer.Option(help="Your source embeddings (.vec text format).")] = None,
    tgt_vectors: Annotated[Optional[Path], typer.Option(help="Your target embeddings (.vec).")] = None,
    dictionary: Annotated[Optional[Path], typer.Option(help="'src<TAB>tgt' evaluation dictionary for your "
                                                            "vectors (split into seed and test parts).")] = None,
    refresh: RefreshOption = False,
) -> None:
    """The mapping stage alone: on your .vec files, or on the pair's prepared corpus (cached)."""
    from components.align.config import AlignStageConfig
    from components.embeddings import check_vec
    from components.sources import read_dictionary_tsv

    settings = presets.preset(preset)
    cfg = _stage_config(AlignStageConfig, config) or settings.align
    files = (src_vectors, tgt_vectors, dictionary)
    if any(files):
        if not all(files):
            _fail("--src-vectors, --tgt-vectors and --dictionary go together")
        langs = pair.split("-")
        if len(langs) != 2 or not all(langs):
            _fail(f"pair {pair!r}: expected two language codes like 'en-fr'")
        try:  # the files' headers and format, before any flow starts
            dims = check_vec(src_vectors), check_vec(tgt_vectors)
            read_dictionary_tsv(dictionary)
        except UnpairedError as e:
            _fail(_describe(e))
        if dims[0] != dims[1]:
            _fail(f"{tgt_vectors}: {dims[1]}-dimensional vectors, but {src_vectors} has {dims[0]}")
    from flows.align import align_embeddings, align_files  # after the checks: Prefect takes seconds to import
    from flows.corpus import prepare_corpus
    from tasks.store import store

    if any(files):
        result = _run(align_files, src_vectors, tgt_vectors, dictionary, *langs, cfg, refresh)
    else:
        corpus = _run(prepare_corpus, settings.corpus(pair))
        result = _run(align_embeddings, corpus.src_vectors, corpus.tgt_vectors, corpus.dictionary, cfg, refresh)
    print_alignment(result)
    console.print(f"aligned vectors: {store().path(result.exported)}  (sha256 {result.exported.sha256[:12]}: "
                  f"unpaired backtranslate --alignment <it>)")


@app.command()
def backtranslate(
    pair: PairOption = "en-fr",
    preset: PresetOption = Preset.quick,
    config: Annotated[Optional[Path], typer.Option(help="TOML/YAML BacktranslateStageConfig.")] = None,
    alignment: Annotated[Optional[str], typer.Option(help="sha256 (8+ hex digits) of an aligned-vectors "
                                                          "artifact; default: the mapping stage's (cached).")] = None,
    refresh: RefreshOption = False,
) -> None:
    """The back-translation stage alone, on the pair's prepared corpus (cached) and a stored map."""
    from components.backtranslate.config import BacktranslateStageConfig
    from components.errors import StoreError
    from flows.align import align_embeddings
    from flows.backtranslate import backtranslate as backtranslate_flow
    from flows.corpus import prepare_corpus
    from tasks.store import store

    settings = presets.preset(preset)
    cfg = _stage_config(BacktranslateStageConfig, config) or settings.backtranslate
    aligned = None
    if alignment:  # refused before any flow starts when it is not in the store
        try:
            aligned = store().find(alignment, kind="aligned-vectors")
        except StoreError as e:
            _fail(str(e))
    corpus = _run(prepare_corpus, settings.corpus(pair))
    if aligned is None:
        aligned = _run(align_embeddings, corpus.src_vectors, corpus.tgt_vectors, corpus.dictionary,
                       settings.align).exported
    langs = (aligned.meta.get("src_lang"), aligned.meta.get("tgt_lang"))
    if langs != tuple(corpus.pair.split("-")):
        _fail(f"alignment {aligned.sha256[:12]}: maps {'-'.join(map(str, langs))}, not {corpus.pair}")
    print_translation(_run(backtranslate_flow, corpus.src_corpus, corpus.tgt_corpus, corpus.test, aligned, cfg,
                           refresh))


@app.command()
def bench(
    pair: PairOption = "en-fr",
    preset: PresetOption = Preset.quick,
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path("data/reports/bench.json"),
    stage: Annotated[Optional[list[str]], typer.Option(
        help="Only these stages after the corpus (repeatable): alignment, translation, speech, "
             "style_transfer.")] = None,
) -> None:
    """Run the benchmark flow and write its JSON report."""
    known = ("alignment", "translation", "speech", "style_transfer")
    if stage and not set(stage) <= set(known):
        _fail(f"--stage {', '.join(sorted(set(stage) - set(known)))}: unknown (choose from {', '.join(known)})")
    from flows.bench import benchmark  # after the checks: the flows import torch and Prefect

    report = _run(benchmark, pair, preset, out, tuple(stage or known))
    console.print_json(json.dumps(report))
    console.print(f"report written to {out}")


def _stage_config(model, path: Optional[Path]):
    """A stage config from a TOML/YAML file, or None to keep the preset's."""
    if path is None:
        return None
    try:
        return model.model_validate(_load_config(path))
    except ValidationError as e:
        _fail(f"{path}: {_describe(e)}")


@app.command()
def translation(
    pair: PairOption = "en-fr",
    preset: PresetOption = Preset.quick,
    corpus_config_file: Annotated[Optional[Path], typer.Option("--corpus-config",
                                                               help="TOML/YAML CorpusConfig (your files).")] = None,
    align_config_file: Annotated[Optional[Path], typer.Option("--align-config",
                                                              help="TOML/YAML AlignStageConfig.")] = None,
    translate_config_file: Annotated[Optional[Path], typer.Option(
        "--translate-config", help="TOML/YAML BacktranslateStageConfig.")] = None,
    train_model: Annotated[bool, typer.Option(help="Train the translation model after the mapping.")] = True,
    refresh: RefreshOption = False,
) -> None:
    """The translation pipeline: corpora, embeddings, unsupervised mapping, back-translation."""
    from components.align.config import AlignStageConfig
    from components.backtranslate.config import BacktranslateStageConfig

    corpus = _stage_config(CorpusConfig, corpus_config_file)
    align = _stage_config(AlignStageConfig, align_config_file)
    translate_cfg = _stage_config(BacktranslateStageConfig, translate_config_file)
    try:
        planned = corpus or presets.preset(preset).corpus(pair)
    except (UnpairedError, ValidationError) as e:
        _fail(_describe(e))
    _check_corpus(planned)
    from flows.translation import translation_pipeline

    result = _run(translation_pipeline, pair, preset, corpus, align, translate_cfg, train_model, refresh)
    print_rows(f"Corpus {result.corpus.pair}", result.corpus.stats_rows())
    print_alignment(result.alignment)
    if result.translation is not None:
        print_translation(result.translation)


def print_translation(result) -> None:
    """Test BLEU/chrF of the model beside word-by-word translation, and the model to use."""
    from tasks.store import store

    print_report(result.report(), f"Translation of the test verses ({result.seconds:.0f} s; selected step "
                                  f"{result.selected_step}, {result.criterion.name} {result.round_trip_bleu:.2f})")
    console.print(f"model: {store().path(result.model)}  (unpaired translate --model <it> \"sentence\")")


@app.command()
def translate(
    model: Annotated[str, typer.Option(help="Model directory (printed by the stage), or 'current': the "
                                            "promoted model of --pair.")],
    sentences: Annotated[Optional[list[str]], typer.Argument(help="Sentences; none = read stdin, one per line.")]
    = None,
    direction: Annotated[str, typer.Option(help="s2t, t2s, or language codes such as fr-en.")] = "s2t",
    beam: Annotated[int, typer.Option(help="Beam size (1 = greedy).")] = 4,
    pair: Annotated[str, typer.Option(help="With --model current: whose current model.")] = "en-fr",
) -> None:
    """Translate sentences with a trained model, one output line per input line."""
    _echo_translations(_resolve_model(model, f"translate-{pair}", must_exist=True), sentences, direction, beam)


def _echo_translations(model, sentences: Optional[list[str]], direction: str, beam: int) -> None:
    """Translate `sentences` (none: stdin's lines) with a model, one output line per input line."""
    import sys

    from components.preflight import decode_lines

    try:  # strict UTF-8 text, checked before the model loads
        lines = list(sentences) if sentences else decode_lines(sys.stdin.buffer.read(), "stdin")
    except UnpairedError as e:
        _fail(_describe(e))
    from flows.backtranslate import translate as translate_sentences

    try:
        for out in translate_sentences(model, lines, direction, beam):
            typer.echo(out)
    except UnpairedError as e:
        _fail(_describe(e))


def _resolve_model(model: str, slot: str, must_exist: bool = False):
    """'current' -> the promoted model of `slot`; otherwise the model as given."""
    if model == "current":
        from tasks.retrain import registry

        champion = registry().current(slot)
        if champion is None:
            _fail(f"{slot}: no current model (run `unpaired retrain`, or give --model PATH)")
        return champion.model
    if must_exist and not Path(model).exists():
        _fail(f"{model}: no such model (a model directory printed by the stage, or 'current')")
    return model


@app.command("style-transfer")
def style_transfer_cmd(
    preset: PresetOption = Preset.quick,
    config: Annotated[Optional[Path], typer.Option(help="TOML/YAML StyleStageConfig (styles, your files, "
                                                        "settings).")] = None,
    src_file: Annotated[Optional[list[Path]], typer.Option(help="Source-style text file (repeatable).")] = None,
    tgt_file: Annotated[Optional[list[Path]], typer.Option(help="Target-style text file (repeatable).")] = None,
    lang: Annotated[Optional[str], typer.Option(help="Language of both styles (with your files).")] = None,
    refresh: RefreshOption = False,
) -> None:
    """Style transfer between two styles of one language (built-in: archaic KJV <-> modern WEB/BBE)."""
    from components.style.config import StyleStageConfig

    stage = _stage_config(StyleStageConfig, config) or presets.preset(preset).style
    updates = {k: v for k, v in (("src_files", tuple(src_file or ())), ("tgt_files", tuple(tgt_file or ())),
                                 ("lang", lang)) if v}
    try:
        stage = stage.model_copy(update={"sides": stage.sides.model_validate({**stage.sides.model_dump(), **updates})})
        planned = stage.sides.corpus(stage.embeddings)
    except (UnpairedError, ValidationError) as e:
        _fail(_describe(e))
    _check_corpus(planned)
    from flows.style import style_transfer

    print_style_transfer(_run(style_transfer, stage, preset, refresh))


def print_style_transfer(result) -> None:
    """Both directions of every row beside copying, and the model to use."""
    from tasks.store import store

    print_report(result.report(), f"Style transfer {' <-> '.join(result.styles)} on the test verses "
                                  f"({result.seconds:.0f} s; selected `{result.selected}` step {result.selected_step}, "
                                  f"{result.criterion.name} {result.models[result.selected].criterion_value:.2f})")
    console.print(f"model: {store().path(result.model)}  (unpaired restyle --model <it> \"sentence\")")


@app.command()
def restyle(
    model: Annotated[str, typer.Option(help="Model directory printed by `unpaired style-transfer`.")],
    sentences: Annotated[Optional[list[str]], typer.Argument(help="Sentences; none = read stdin, one per line.")]
    = None,
    direction: Annotated[str, typer.Option(help="s2t (source style -> target style, e.g. archaic -> modern) "
                                                "or t2s.")] = "s2t",
    beam: Annotated[int, typer.Option(help="Beam size (1 = greedy).")] = 4,
) -> None:
    """Rewrite sentences in the other style, one output line per input line."""
    if direction not in ("s2t", "t2s"):
        _fail(f"--direction {direction!r}: expected s2t or t2s")
    if not Path(model).exists():
        _fail(f"{model}: no such model (a model directory printed by `unpaired style-transfer`)")
    _echo_translations(model, sentences, direction, beam)


@app.command("speech")
def speech_cmd(
    preset: PresetOption = Preset.quick,
    config: Annotated[Optional[Path], typer.Option(help="TOML/YAML SpeechStageConfig (e.g. your audio "
                                                        "directory).")] = None,
    features_checkpoint: Annotated[Optional[Path], typer.Option(
        help="A pretrained wav2vec 2.0 / HuBERT / XLS-R checkpoint: its layer's output replaces MFCCs (and "
             "spectral-change segmentation compares all its dims).")] = None,
    features_format: Annotated[Optional[CheckpointFormat], typer.Option(
        help="How that checkpoint is written (default: torchaudio).")] = None,
    features_layer: Annotated[Optional[int], typer.Option(
        help="Its transformer layer to read, 1-based (default: 5/8 of the depth).")] = None,
    refresh: RefreshOption = False,
) -> None:
    """The speech pipeline: audio and text corpora, features, phone GAN, decoding, evaluation."""
    from components.preflight import check_speech_data, check_speech_features
    from components.speech.config import SpeechStageConfig

    cfg = _stage_config(SpeechStageConfig, config) or presets.preset(preset).speech
    if features_checkpoint is not None:
        cfg = _with_checkpoint(cfg, features_checkpoint, features_format, features_layer)
    elif features_format is not None or features_layer is not None:
        _fail("--features-format and --features-layer go with --features-checkpoint")
    try:  # the front end, the user's audio and text, before a Prefect server starts
        check_speech_data(cfg.data, check_speech_features(cfg.speech))
    except UnpairedError as e:
        _fail(_describe(e))
    from flows.speech import speech

    print_speech(_run(speech, cfg, refresh=refresh))


def _with_checkpoint(cfg, checkpoint: Path, fmt: Optional[CheckpointFormat], layer: Optional[int]):
    """`cfg` reading a pretrained model's features: ssl kind, the checkpoint, and all dims compared
    by spectral-change segmentation (the order of self-supervised dims means nothing)."""
    from components.speech.config import FeatureKind

    speech = cfg.speech
    features = {**speech.features.model_dump(), "features_kind": FeatureKind.ssl, "features_checkpoint": checkpoint}
    if fmt is not None:
        features["features_format"] = fmt
    if layer is not None:
        features["features_layer"] = layer
    try:
        return cfg.model_validate({**cfg.model_dump(), "speech": {
            **speech.model_dump(), "features": features,
            "segment": {**speech.segment.model_dump(), "segment_change_dims": 0}}})
    except ValidationError as e:
        _fail(_describe(e))


def print_speech(result) -> None:
    """PER/WER of every row, the selected unsupervised model marked."""
    from tasks.store import store

    print_report(result.report(), f"Speech recognition on the test utterances ({result.seconds:.0f} s)")
    console.print(f"model: {store().path(result.model)}  (unpaired transcribe --model <it> FILE...)")


@app.command()
def transcribe(
    model: Annotated[str, typer.Option(help="Speech model directory, or 'current'.")],
    files: Annotated[list[Path], typer.Argument(help="WAV/FLAC files (any rate; stereo is mixed down).")],
    words: Annotated[bool, typer.Option(help="Decode phones into words too.")] = True,
) -> None:
    """Recognise audio files: phones and words per file (bad files get an error line, the rest run)."""
    ref = _resolve_model(model, "speech-en", must_exist=True)
    from flows.speech import transcribe as transcribe_files

    try:
        results = transcribe_files(ref, files, words=words)
    except UnpairedError as e:
        _fail(_describe(e))
    failed = 0
    for r in results:
        if r.get("error"):
            failed += 1
            typer.echo(f"{r['file']}\terror: {r['error']}")
            continue
        typer.echo(f"{r['file']}\tphones: {r['phones']}")
        if words:
            typer.echo(f"{r['file']}\twords: {r['words']}")
    if failed == len(results):
        raise typer.Exit(code=2)


def print_alignment(result) -> None:
    """The alignment rows (P@1 in %) with the selected run marked."""
    print_report(result.report(), f"Word translation, P@1 % ({result.seconds:.0f} s)")


@app.command()
def retrain(
    pair: PairOption = "en-fr",
    preset: PresetOption = Preset.quick,
    min_gain: Annotated[float, typer.Option(help="Promote only when the criterion improves by more.")] = 0.0,
) -> None:
    """Re-run the stages (cached where unchanged); promote models whose criterion improves."""
    from flows.retrain import retrain as retrain_flow

    result = _run(retrain_flow, pair, preset, min_gain=min_gain)
    print_rows("Champion/challenger", [
        {"model": d.slot, "decision": "promoted" if d.promoted else "kept", "reason": d.reason,
         "current criterion": f"{d.champion.criterion:.4f}"} for d in result.decisions])


@app.command()
def champions() -> None:
    """The current model of every slot and the criterion it won with."""
    from tasks.retrain import registry
    from tasks.store import store

    rows = [{"slot": c.slot, "criterion": f"{c.criterion:.4f}", "since": c.created,
             "model": str(store().root / c.model.path)} for c in registry().all()]
    if not rows:
        console.print("no model promoted yet (run `unpaired retrain`)")
        return
    print_rows("Current models", rows)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@app.command()
def artifacts(kind: Annotated[Optional[str], typer.Option(help="Only this kind, e.g. vectors.")] = None,
              limit: Annotated[int, typer.Option(help="Newest first, at most this many.")] = 50) -> None:
    """List the artifacts in the store (data/store), newest first."""
    from datetime import datetime

    from tasks.store import store

    rows = [a for a in store().listing() if kind is None or a.kind == kind][:limit]
    if not rows:
        console.print(f"no artifacts in {store().root}" + (f" of kind {kind}" if kind else ""))
        return
    print_rows(f"Artifacts in {store().root}", [
        {"kind": a.kind, "name": a.name, "sha256": a.sha256[:12], "size": _size(a.bytes),
         "created": datetime.fromtimestamp(a.created).strftime("%Y-%m-%d %H:%M"),
         "meta": ", ".join(f"{k}={v}" for k, v in a.meta.items() if not isinstance(v, (dict, list)))[:60]}
        for a in rows])


def _configured_server() -> bool:
    """Whether a Prefect server is configured (PREFECT_API_URL); without one, commands that need
    past runs start a temporary server."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def _server_report(key: str) -> dict | None:
    """The latest artifact under `key` on the configured server, as `read_published` returns it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
            key=ArtifactCollectionFilterKey(any_=[key])))
    if not found:
        return None
    data = found[0].data
    return {"key": key, "type": found[0].type, "description": found[0].description,
            "data": json.loads(data) if found[0].type == "table" and isinstance(data, str) else data,
            "updated": found[0].updated.timestamp()}


@app.command()
def report(key: Annotated[str, typer.Argument(help="Artifact key, e.g. corpus-en-fr, alignment-en-fr, "
                                                    "translation-en-fr, champion-align-en-fr.")]) -> None:
    """Print the latest report a stage published under KEY (what the UI shows); no server needed."""
    from datetime import datetime, timezone

    from tasks.publish import read_published

    try:
        art = read_published(key) or (_server_report(key) if _configured_server() else None)
    except UnpairedError as e:
        _fail(_describe(e))
    if art is None:
        _fail(f"{key}: no report with this key yet (run the stage first; `unpaired runs` lists past runs)")
    updated = datetime.fromtimestamp(art["updated"], timezone.utc)
    console.print(f"[bold]{key}[/bold] ({art['type']}, {updated:%Y-%m-%d %H:%M} UTC): {art['description'] or ''}")
    data = art["data"]
    if art["type"] == "table":
        if isinstance(data, dict):  # column-oriented table
            data = [dict(zip(data, vals)) for vals in zip(*data.values())]
        print_rows(key, data)
    else:
        console.print(_without_images(data))


def _without_images(markdown: str) -> str:
    """Markdown for a terminal: embedded images are dropped (their file path follows each)."""
    import re

    return re.sub(r"!\[[^\]]*\]\(data:image/[^)]*\)\n*", "", markdown)


@app.command()
def runs(limit: Annotated[int, typer.Option(help="Most recent first, at most this many.")] = 20) -> None:
    """Past flow runs: flow, name, state, start, duration."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    from flows.server import linked_server

    linked_server()  # the temporary server, when none is configured, dies with this command
    started = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(not_any_=[StateType.SCHEDULED])))
    with get_client(sync_client=True) as client:
        found = client.read_flow_runs(flow_run_filter=started, sort=FlowRunSort.START_TIME_DESC, limit=limit)
        flows = {f.id: f.name for f in client.read_flows()} if found else {}
    if not found:
        console.print("no flow runs yet")
        return
    print_rows("Flow runs", [
        {"flow": flows.get(r.flow_id, "?"), "run": r.name, "state": r.state_name,
         "start": f"{r.start_time:%Y-%m-%d %H:%M}" if r.start_time else "",
         "seconds": f"{r.total_run_time.total_seconds():.1f}"} for r in found])


@app.command()
def demo(speech: Annotated[bool, typer.Option(help="Run the speech pipeline too.")] = True,
         style: Annotated[bool, typer.Option(help="Run the style-transfer pipeline too.")] = True) -> None:
    """The main job on built-in data, quick presets: en-fr translation, archaic <-> modern English style
    transfer, English speech."""
    from flows.speech import speech as speech_flow
    from flows.style import style_transfer
    from flows.translation import translation_pipeline

    result = _run(translation_pipeline, "en-fr", Preset.quick)
    print_rows(f"Corpus preparation en-fr ({result.corpus.seconds:.1f} s)", result.corpus.stats_rows())
    total = result.corpus.src_corpus.meta["train_tokens"] + result.corpus.tgt_corpus.meta["train_tokens"]
    console.print(f"training tokens, both sides: {total:,}; leak checks all zero: "
                  f"{all(v == 0 for v in result.corpus.leakage.values())}")
    print_alignment(result.alignment)
    if result.translation is not None:
        print_translation(result.translation)
    if style:
        print_style_transfer(_run(style_transfer, presets.preset(Preset.quick).style, Preset.quick))
    if speech:
        print_speech(_run(speech_flow, presets.preset(Preset.quick).speech))


def run() -> None:
    """The console script: usage errors (unknown option, bad choice) as one `error:` line too."""
    import sys

    try:  # typer 0.2x raises its vendored copy of click's exceptions
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover
        from click import exceptions as click

    try:
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as e:
        e.show()
        code = 0
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx else "unpaired"
        typer.echo(f"error: {e.format_message()} (see '{where} --help')", err=True)
        code = 2
    except click.ClickException as e:
        typer.echo(f"error: {e.format_message()}", err=True)
        code = e.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    run()
