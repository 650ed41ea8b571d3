"""Scale-out: a stage's tasks run on a Dask cluster when an address is configured."""
import pytest
from distributed import Client, LocalCluster, get_task_stream
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from components.store import ArtifactStore
from flows.corpus import prepare_corpus
from flows.runner import DASK_ADDRESS_ENV, task_runner
from tests.flows.test_corpus_flow import STAGES, _config, _task_states, files  # noqa: F401


def test_runner_follows_the_configured_address(monkeypatch):
    monkeypatch.delenv(DASK_ADDRESS_ENV, raising=False)
    assert isinstance(task_runner(), ThreadPoolTaskRunner)
    monkeypatch.setenv(DASK_ADDRESS_ENV, "tcp://127.0.0.1:8786")
    runner = task_runner()
    assert isinstance(runner, DaskTaskRunner) and runner.address == "tcp://127.0.0.1:8786"


@pytest.fixture
def cluster(data_dir):
    # Worker processes start after `data_dir` set UNPAIRED_DATA, so they share this test's store.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_corpus_stage_on_a_local_dask_cluster(files, data_dir, cluster):  # noqa: F811
    flow = prepare_corpus.with_options(task_runner=task_runner(cluster.scheduler_address))
    with Client(cluster) as client, get_task_stream(client) as stream:
        state = flow(_config(files), return_state=True)
    result = state.result()
    store = ArtifactStore(data_dir / "store")
    for ref in (result.src_corpus, result.tgt_corpus, result.test, result.src_vectors, result.tgt_vectors,
                result.dictionary):
        assert store.verify(ref)
    workers = {t["worker"] for t in stream.data}
    assert len(stream.data) >= len(STAGES) and workers, "the stage's tasks did not run on the cluster"
    assert all(s == "Completed" for s in _task_states(state).values())
    # The cache is shared with local runs: the same inputs on threads hit it.
    again = _task_states(prepare_corpus(_config(files), return_state=True))
    assert all(again[s] == "Cached" for s in STAGES), again
