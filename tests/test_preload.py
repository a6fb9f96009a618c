"""core/preload.py: imports start only once the simulator has (or on release), and a
failing import is left for the caller's own import to report."""

import sys
import threading
import time

from netlistgen.core.preload import Preload


def _forget(name: str) -> None:
    sys.modules.pop(name, None)


def test_waits_for_the_event_then_imports():
    _forget("colorsys")
    started = threading.Event()
    loader = Preload("colorsys", after=started, wait_s=30)
    time.sleep(0.3)
    assert "colorsys" not in sys.modules  # the simulator has not started: no import yet
    started.set()
    loader.join(10)
    assert "colorsys" in sys.modules


def test_release_stops_the_wait():
    _forget("colorsys")
    loader = Preload("colorsys", after=threading.Event(), wait_s=30)
    t0 = time.perf_counter()
    loader.release()
    loader.join(10)
    assert "colorsys" in sys.modules and time.perf_counter() - t0 < 5


def test_a_failing_import_is_not_raised_and_stops_the_list():
    _forget("colorsys")
    loader = Preload("netlistgen.no_such_module", "colorsys")
    loader.join(10)
    assert "colorsys" not in sys.modules
