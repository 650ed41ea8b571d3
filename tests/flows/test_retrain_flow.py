"""Retraining: unchanged inputs re-use every cached stage and keep the champion."""
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentTaskRunId

from components.align.config import AlignConfig
from components.align.config import AlignStageConfig
from flows.retrain import retrain
from tasks.retrain import registry
from tests.flows.test_corpus_flow import _config, files  # noqa: F401

ALIGN = AlignStageConfig(align=AlignConfig(vecmap={"stochastic_interval": 5, "max_iterations": 30},
                                           refine={"n_refinement": 1}), seeds=(0,), references=False)


def _all_task_states(flow_run_id) -> dict[str, str]:
    """Task run name -> state over a flow run and its subflow runs (the subflows' own
    wrapper task runs left out)."""
    with get_client(sync_client=True) as client:
        ids, states = [flow_run_id], {}
        while ids:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": ids}))
            subs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                parent_task_run_id=FlowRunFilterParentTaskRunId(any_=[r.id for r in runs]))) if runs else []
            wrappers = {s.parent_task_run_id for s in subs}
            states.update({r.name: r.state.name for r in runs if r.id not in wrappers})
            ids = [s.id for s in subs]
    return states


def test_second_run_reuses_the_cache_and_keeps_the_champion(files, data_dir):  # noqa: F811
    first = retrain(corpus=_config(files), align=ALIGN, train_model=False, speech=False, return_state=True)
    decision = first.result().decisions[0]
    assert decision.promoted and decision.reason == "no current model"
    champion = registry().current(decision.slot)
    assert champion.model == decision.challenger.model

    second = retrain(corpus=_config(files), align=ALIGN, train_model=False, speech=False, return_state=True)
    kept = second.result().decisions[0]
    assert not kept.promoted and registry().current(kept.slot).model == champion.model
    states = _all_task_states(second.state_details.flow_run_id)
    # Fingerprinting the inputs and publishing reports always run: they are how a change is seen and shown.
    always = ("promote-", "fingerprint-sources", "check-leakage", "publish-", "plot-")
    stage_tasks = {k: v for k, v in states.items() if not k.startswith(always)}
    assert stage_tasks and all(v == "Cached" for v in stage_tasks.values()), \
        {k: v for k, v in stage_tasks.items() if v != "Cached"}
    assert states[f"promote-{kept.slot}"] == "Completed"
