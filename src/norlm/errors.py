"""The one error type a stage raises; the CLI prints it as ``norlm <stage>: error: ...``.

Exit codes: 2 for bad input or config (the user can fix the file or the key named in the
message), 1 for a failure of the stage itself.  Stages raise; only `norlm.cli` prints and exits.
"""
from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class StageError(Exception):
    """A stage cannot go on; the message names the file, line, key or value concerned.

    Subclasses (a room's own error types) set `exit_code` for all their instances; a single
    instance can override it with the keyword.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str = "", exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class StageFailure(StageError):
    """The stage itself failed (not the user's input): exit code 1."""

    exit_code = EXIT_FAILURE


def warn(message: str) -> None:
    """A non-fatal note on standard error, prefixed like errors: ``norlm <stage>: warning: ...``."""
    import sys

    prefix = f"norlm {CURRENT_STAGE}" if CURRENT_STAGE else "norlm"
    print(f"{prefix}: warning: {message}", file=sys.stderr, flush=True)


CURRENT_STAGE = ""  # set by the CLI before a stage runs
