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
from components.errors import UnpairedError
from flows.presets import Preset, corpus_config

app = typer.Typer(help="Learn to translate and to recognise speech without paired data.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()


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


def _run(fn, *args, **kwargs):
    """Run a flow; user errors become one clear line instead of a trace."""
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
    refresh: Annotated[bool, typer.Option(help="Recompute every task instead of using the cache.")] = False,
) -> None:
    """Prepare corpora, test set, fastText embeddings and the evaluation dictionary."""
    from flows.corpus import prepare_corpus

    try:
        cfg = CorpusConfig.model_validate(_load_config(config)) if config else corpus_config(pair, preset)
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
    result = _run(prepare_corpus, cfg, refresh=refresh)
    print_rows(f"Corpus {result.pair} ({result.seconds:.1f} s)", result.stats_rows())


@app.command()
def bench(
    pair: Annotated[str, typer.Option(help="Language pair 'src-tgt'.")] = "en-fr",
    preset: Annotated[Preset, typer.Option(help="quick or full.")] = Preset.quick,
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path("data/reports/bench.json"),
) -> None:
    """Run the benchmark flow and write its JSON report."""
    from flows.bench import benchmark

    report = _run(benchmark, pair, preset, out)
    console.print_json(json.dumps(report))
    console.print(f"report written to {out}")


@app.command()
def demo() -> None:
    """The main job on built-in data (en-fr, quick preset), with a results table."""
    from flows.corpus import prepare_corpus

    result = _run(prepare_corpus, corpus_config("en-fr", Preset.quick))
    print_rows(f"Corpus preparation en-fr ({result.seconds:.1f} s)", result.stats_rows())
    total = result.src_corpus.meta["train_tokens"] + result.tgt_corpus.meta["train_tokens"]
    console.print(f"training tokens, both sides: {total:,}; leak checks all zero: "
                  f"{all(v == 0 for v in result.leakage.values())}")


if __name__ == "__main__":  # pragma: no cover
    app()
