"""Run independent calls at the same time, in forked copies of this process.

Why: after a `simulate`, drawing the report's plots (about 0.5 CPU s for the transfer and
residual PNGs) runs on one core while the other idles (docs/startup.md). A forked child
already holds matplotlib and the data, so it can draw one plot while this process draws
another. Results travel through files only: each call writes its own output.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence


def can_fork() -> bool:
    """Forking is safe here: POSIX, and no other Python thread that could hold a lock the
    child would inherit locked."""
    return hasattr(os, "fork") and threading.active_count() == 1


def run_in_forks(calls: Sequence[Callable[[], object]]) -> None:
    """Call every one of `calls`: the first in this process, the others each in a forked child,
    all at once. A call whose child fails (an exception, a signal) runs again here, so its
    error is raised here as usual. Without `can_fork()` the calls run one after another."""
    if len(calls) < 2 or not can_fork():
        for call in calls:
            call()
        return
    sys.stdout.flush()  # a child must not write this process's buffered output again
    sys.stderr.flush()
    children: list[tuple[int, Callable[[], object]]] = []
    here = [calls[0]]  # calls this process makes: the first, and any whose fork failed
    try:
        for call in calls[1:]:
            try:
                pid = os.fork()
            except OSError:  # out of processes or memory: draw it here instead
                here.append(call)
                continue
            if pid == 0:  # the child: no clean-up handlers, no second traceback; the parent re-runs a failure
                code = 1
                try:
                    call()
                    code = 0
                finally:
                    os._exit(code)
            children.append((pid, call))
        for call in here:
            call()
    finally:
        failed = [call for pid, call in children if os.waitpid(pid, 0)[1] != 0]
    for call in failed:
        call()
