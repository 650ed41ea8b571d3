"""Corpus task: the statistics table in the UI."""
from __future__ import annotations

from prefect import task

from tasks.publish import publish_table


@task(name="publish-corpus-report")
def publish_corpus_report(pair: str, rows: list[dict[str, object]]) -> None:
    """The statistics table shown on the flow run's Artifacts tab."""
    publish_table(f"corpus-{pair}", rows, description=f"Corpus statistics for {pair}")
