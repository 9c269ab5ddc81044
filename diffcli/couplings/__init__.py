"""Couplings of data and source points for training an interpolant (rectified flow, the bridge)."""

from diffcli.couplings.base import COUPLINGS, Coupling, couple

__all__ = ["COUPLINGS", "Coupling", "couple"]
