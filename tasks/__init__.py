"""Prefect tasks: thin wrappers that resolve refs, call components and store results."""
from tasks.runtime import configure as _configure

_configure()
