"""User-facing errors: the CLI prints them as one line and exits with code 2."""

MAX_ERROR_CHARS = 1000  # a hostile value quoted in a message cannot make a 39 MB line


def one_line(message: object, limit: int = MAX_ERROR_CHARS) -> str:
    """A message (or exception) as one line: line breaks shown escaped, so a user value
    appears as given without breaking the line; at most `limit` characters."""
    text = str(message)
    if len(text) > limit:
        text = text[: limit - 30] + f"... [{len(text) - limit + 30} chars cut]"
    return text.replace("\r", "\\r").replace("\n", "\\n")


class NetlistgenError(Exception):
    """Bad input or environment the user can fix (bad value, missing tool, ...).

    The message must be one line and name the offending value.
    """

    exit_code = 2


class SimulationError(NetlistgenError):
    """ngspice failed for one job (non-convergence, crash, timeout)."""


class OutputError(SimulationError):
    """A file could not be written (disk full, read-only or vanished directory, quota).

    A SimulationError, so a job that cannot write its files fails alone and the others
    go on; outside a job it is a one-line error with exit code 2 like any other."""
