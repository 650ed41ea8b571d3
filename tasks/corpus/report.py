"""Corpus task: the statistics table in the UI."""
from __future__ import annotations

from prefect import task
from prefect.artifacts import create_table_artifact


@task(name="publish-corpus-report")
def publish_corpus_report(pair: str, rows: list[dict[str, object]]) -> None:
    """The statistics table shown on the flow run's Artifacts tab."""
    create_table_artifact(key=f"corpus-{pair}", table=rows, description=f"Corpus statistics for {pair}")
