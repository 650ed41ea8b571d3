"""Server-side automations `make deploy` installs: flow runs whose process died (a killed
worker, a lost machine) stop sending heartbeats and are marked Crashed instead of showing
`Running` forever. Re-running the deployment then re-uses every cached stage and resumes
training from its last checkpoint.

Idempotent: an automation that already exists (by name) is replaced.
"""
from __future__ import annotations

from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

NAME = "unpaired: crash silent flow runs"


def crash_silent_runs(missed_heartbeats: int = 3) -> Automation:
    """Mark a flow run Crashed when `missed_heartbeats` heartbeat periods pass without a sign of it."""
    period = PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() or 60
    return Automation(
        name=NAME,
        description="A flow run that stopped sending heartbeats is marked Crashed (its process is gone).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=missed_heartbeats * period),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message="No heartbeat: the process running this flow is gone.")],
    )


def main() -> None:
    automation = crash_silent_runs()
    try:
        Automation.read(name=NAME).delete()
    except ValueError:
        pass
    automation.create()
    print(f"automation '{NAME}' installed")


if __name__ == "__main__":
    main()
