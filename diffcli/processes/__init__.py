"""Processes by name (`--model`): one file each in this folder, registered in PROCESSES."""

from diffcli.processes.base import PROCESSES, Process
from diffcli.processes.sources import SOURCES


def get_process(name: str, **options) -> Process:
    """The process `name` with its options (checked against the entry: unknown ones are errors)."""
    return PROCESSES.build(name, options, where="model.")


__all__ = ["PROCESSES", "SOURCES", "Process", "get_process"]
