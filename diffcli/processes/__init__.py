"""Processes by name (`--model`). Each lives in its own module and registers itself in PROCESSES."""

from diffcli.processes import bridge, ddpm, rectified_flow, vesde, vpsde  # noqa: F401
from diffcli.processes.base import CAPABILITIES, PROCESSES, Process
from diffcli.processes.sources import SOURCES


def get_process(name: str, **options) -> Process:
    return PROCESSES.get(name)(**options)


__all__ = ["CAPABILITIES", "PROCESSES", "SOURCES", "Process", "get_process"]
