"""The ngspice subprocess runner: output streamed to a log file, bounded in memory."""

from __future__ import annotations

import pytest

from conftest import needs_ngspice
from netlistgen.core.errors import SimulationError
from netlistgen.sim import runner


def chatty_deck(path, lines: int) -> None:
    path.write_text(f"""chatty
V1 1 0 1
R1 1 0 1k
.control
op
let k = 0
while k < {lines}
  echo line $&k of a long log
  let k = k + 1
end
quit 0
.endc
.end
""")


@needs_ngspice
@pytest.mark.ngspice
def test_output_goes_to_a_log_file_and_memory_keeps_its_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "LOG_KEEP_BYTES", 2000)
    chatty_deck(tmp_path / "d.sp", 5000)
    (tmp_path / "d.log").symlink_to(tmp_path / "outside")  # a planted link is replaced, not followed
    result = runner.run_deck(tmp_path / "d.sp")
    assert result.log == tmp_path / "d.log" and not result.log.is_symlink()
    assert not (tmp_path / "outside").exists()
    log = result.log.read_text()
    assert "line 0 of a long log" in log and "line 4999 of a long log" in log and len(log) > 100_000
    assert len(result.stdout) <= 2000 and "line 4999 of a long log" in result.stdout


@needs_ngspice
@pytest.mark.ngspice
def test_failure_message_is_bounded(tmp_path):
    (tmp_path / "bad.sp").write_text("bad\nXbogus 1 0 " + "n" * 20000 + "\n.op\n.end\n")
    with pytest.raises(SimulationError) as info:
        runner.run_deck(tmp_path / "bad.sp")
    assert len(str(info.value)) < 1200 and "\n" not in str(info.value)
