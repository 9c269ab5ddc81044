"""The ranges diffcli accepts, in one place, each checked up front with a one-line error that
states the limit (rather than a traceback, a 4 GB constant or an hour of compute later)."""

from __future__ import annotations

import math

from diffcli.errors import DiffcliError

SEED_MAX = 2**32 - 1  # JAX keys hold 32 bits: larger seeds would alias smaller ones
MAX_POINTS = 1_000_000  # samples or data points per call (pairwise metrics are O(n²))
MAX_NUMBERS = 2**26  # numbers in one batch of samples, n·prod(shape): 256 MiB of float32
MAX_STEPS = 100_000  # fixed steps of one solve
MAX_MAX_STEPS = 1_000_000  # an adaptive solve's step limit
MAX_SEEDS = 1000  # seeds of one bench setting
GRID_POWER = (0.1, 10.0)  # the power grid's exponent: outside it the grid degenerates
GRID_RHO = (0.1, 20.0)  # the edm grid's ρ (Karras et al. use 7)
PID_COEFF = 10.0  # |pcoeff|, |icoeff|, |dcoeff| (diffrax's controllers use values below 1)
MAX_LR = 1.0  # Adam's learning rate
NAME_MAX = 200  # characters of a run name (file systems allow 255 bytes)


def check_seed(seed: int, what: str = "--seed") -> None:
    if not 0 <= seed <= SEED_MAX:
        raise DiffcliError(f"{what} must be in [0, {SEED_MAX}] (JAX keys hold 32 bits), got {seed}")


def check_count(value: int, what: str, low: int, high: int) -> None:
    if not low <= value <= high:
        raise DiffcliError(f"{what} must be an integer in [{low}, {high}], got {value}")


def check_points(n: int, numbers_per_point: int, what: str = "--n") -> None:
    """n points of `numbers_per_point` numbers each must fit the limits."""
    check_count(n, what, 1, MAX_POINTS)
    if n * numbers_per_point > MAX_NUMBERS:
        raise DiffcliError(f"{what} {n} × {numbers_per_point} numbers a point exceeds {MAX_NUMBERS} numbers; "
                           f"use at most {MAX_NUMBERS // numbers_per_point} points")


def check_range(value: float, what: str, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise DiffcliError(f"{what} must be a finite number in [{low:g}, {high:g}], got {value:g}")
