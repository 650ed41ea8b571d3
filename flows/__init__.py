"""Prefect flows: composition of tasks, one flow per stage and pipeline."""
import tasks as _tasks  # noqa: F401  (sets Prefect's environment before prefect is imported)
