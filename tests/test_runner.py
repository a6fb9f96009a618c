"""sim.runner: `ngspice -b` as a subprocess, its failures as one-line errors."""

from __future__ import annotations

import pytest

from netlistgen.core.errors import SimulationError
from netlistgen.sim.runner import is_fatal, ngspice_version, parse_print, run_deck

DIVIDER = """* divider
V1 top 0 1.0
R1 top mid 3k
R2 mid 0 1k
.control
op
print v(mid) v(top)
quit 0
.endc
.end
"""


@pytest.mark.ngspice
def test_op_deck_prints_the_divider_voltage(tmp_path):
    deck = tmp_path / "div.sp"
    deck.write_text(DIVIDER)
    res = run_deck(deck, timeout_s=60)
    assert parse_print(res.stdout) == {"mid": pytest.approx(0.25), "top": pytest.approx(1.0)}
    assert res.seconds > 0 and res.deck == deck.resolve()
    assert ngspice_version() >= 39


@pytest.mark.ngspice
def test_failing_deck_names_the_job_and_the_reason(tmp_path):
    deck = tmp_path / "bad.sp"
    deck.write_text("* bad\nX1 a 0 nosuchcell\n.control\nop\nquit 0\n.endc\n.end\n")
    with pytest.raises(SimulationError, match=r"job 'mine' failed: .*nosuchcell") as info:
        run_deck(deck, timeout_s=60, name="mine")
    assert "\n" not in str(info.value)


def test_is_fatal_and_parse_print_on_text():
    assert is_fatal("Error: unknown subckt: x1 a 0 foo")
    assert is_fatal("doAnalyses: TRAN:  Timestep too small; time = 1e-9")
    assert not is_fatal("Note: No compatibility mode selected!")
    out = "v(a) = 5.000000e-01\nnoise line\nv(b) = garbage\ni(v1) = 1e-3\n"
    assert parse_print(out) == {"a": 0.5}
