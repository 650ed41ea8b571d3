"""Tasks of the retraining flow: champion/challenger promotion of each stage's model."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from components.champion import Candidate, ChampionRegistry, Decision, decide
from tasks.publish import publish_markdown
from tasks.runtime import data_root
from tasks.store import store


def registry() -> ChampionRegistry:
    """The current models, under `data/champions`."""
    return ChampionRegistry(data_root() / "champions")


@task(name="promote-if-better", cache_policy=NO_CACHE, task_run_name="promote-{challenger.slot}")
def promote_if_better(challenger: Candidate, min_gain: float = 0.0) -> Decision:
    """Make `challenger` the current model of its slot only if its criterion beats the champion's."""
    reg = registry()
    decision = decide(reg.current(challenger.slot), challenger, min_gain)
    reg.record(decision)
    champ, prev = decision.champion, decision.previous
    lines = [f"# {decision.slot}: {'promoted' if decision.promoted else 'kept the current model'}", "",
             f"Reason: {decision.reason}.", "",
             "| | model | criterion |", "|---|---|---|",
             f"| challenger | `{store().path(challenger.model)}` | {challenger.criterion:.4f} |"]
    if prev is not None:
        lines.append(f"| previous champion | `{store().path(prev.model)}` | {prev.criterion:.4f} |")
    lines.append(f"| current | `{store().path(champ.model)}` | {champ.criterion:.4f} |")
    lines += ["", f"Criterion: {challenger.criterion_name} "
              f"({'higher' if challenger.higher_is_better else 'lower'} is better); no test data involved."]
    publish_markdown(f"champion-{decision.slot}", "\n".join(lines),
                             description=f"Champion/challenger decision for {decision.slot}")
    return decision
