"""User-facing errors: the CLI prints them as one line and exits with code 2."""


class NetlistgenError(Exception):
    """Bad input or environment the user can fix (bad value, missing tool, ...).

    The message must be one line and name the offending value.
    """

    exit_code = 2


class SimulationError(NetlistgenError):
    """ngspice failed for one job (non-convergence, crash, timeout)."""
