"""User-facing errors: one line, exit code 2, no traceback (the CLI catches these)."""


class DiffcliError(Exception):
    """Bad input from the user: the message names what is wrong and what would be right."""

    exit_code = 2


class SolverError(DiffcliError):
    """A numerical solve failed (step limit, non-finite state); never reported as a number."""

    exit_code = 3


def choice_error(kind: str, got: object, accepted) -> DiffcliError:
    """`unknown solver 'rk9'; accepted: euler, heun, tsit5`."""
    return DiffcliError(f"unknown {kind} {got!r}; accepted: {', '.join(sorted(accepted))}")
