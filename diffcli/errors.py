"""User-facing errors: one line, exit code 2, no traceback (the CLI catches these)."""


class DiffcliError(Exception):
    """Bad input from the user: the message names what is wrong and what would be right."""

    exit_code = 2
    prefix = "error"  # how the CLI introduces the one line it prints


class SolverError(DiffcliError):
    """A numerical solve failed (step limit, non-finite state); never reported as a number."""

    exit_code = 3


def choice_error(kind: str, got: object, accepted) -> DiffcliError:
    """`unknown solver 'rk9'; accepted: euler, heun, tsit5`."""
    return DiffcliError(f"unknown {kind} {got!r}; accepted: {', '.join(sorted(accepted))}")


class Interrupted(DiffcliError):
    """SIGINT/SIGTERM during training: a checkpoint was saved; exit code 128 + signal."""

    prefix = "stopped"

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.exit_code = 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM


def note(message: str) -> None:
    """One line on stderr for something the user should know that is not an error."""
    import sys

    sys.stderr.write(f"note: {message}\n")
