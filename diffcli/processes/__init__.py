"""Processes by name (`--model`). Each registers itself in PROCESSES."""

from diffcli.processes import rectified_flow  # noqa: F401
from diffcli.processes.base import PROCESSES, Process
from diffcli.processes.sources import SOURCES


def get_process(name: str, **options) -> Process:
    return PROCESSES.get(name)(**options)


__all__ = ["PROCESSES", "SOURCES", "Process", "get_process"]
