"""Training progress reaches the UI as a progress artifact that ends at 100 %."""
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from tasks.progress import Progress


@task
def _train(steps: int) -> int:
    with Progress("progress-test-train", "training", total=steps, min_interval=0.0) as progress:
        for step in range(1, steps + 1):
            progress.update(step, metrics={"loss": 1.0 / step})
    return steps


@flow
def _pipeline() -> int:
    return _train(5)


def test_progress_artifact_ends_complete(prefect_server):
    assert _pipeline() == 5
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["progress-test-train"])))
    assert found and found[0].type == "progress" and float(found[0].data) == 100.0
    assert "5/5" in found[0].description


def test_progress_without_a_run_context_does_not_fail():
    with Progress("progress-outside", "loop", total=3) as progress:
        for step in range(3):
            progress.update(step + 1)
