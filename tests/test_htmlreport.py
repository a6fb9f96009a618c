"""Self-contained HTML reports: embedded plots, tables, and a real headless-browser render."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from netlistgen.analysis import htmlreport as H
from netlistgen.analysis.plots import transfer_curve

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/setup.sh installs it)")


def _series():
    y = np.arange(-10, 11, dtype=float)
    return [{"label": "zebra-i", "y_ideal": y, "v_meas_v": 3e-3 * y + 1e-3, "gain_v_per_lsb": 3e-3,
             "offset_v": 1e-3, "ideal_gain_v_per_lsb": 3.3e-3}]


def test_markdown_table_becomes_html_with_status_classes():
    html = H.markdown_table("| case | status |\n|---|---|\n| a<b | PASS |\n| c | FAIL (x > 1) |")
    assert "<th>case</th>" in html and "<td>a&lt;b</td>" in html
    assert "<td class='pass'>PASS</td>" in html and "<td class='fail'>FAIL (x &gt; 1)</td>" in html


def test_plots_are_embedded_not_linked(tmp_path):
    svg = transfer_curve(_series(), tmp_path / "t.svg")
    png = transfer_curve(_series(), tmp_path / "t.png")
    page = H.page("r", [H.figure(svg, "svg plot"), H.figure(png, "png plot")])
    assert page.count("<svg") == 1 and "<?xml" not in page and "data:image/png;base64," in page
    assert "ideal charge sharing" in page  # SVG text kept as text (svg.fonttype none)
    # nothing fetched: no scripts, style sheets, or src/href that are not data URIs or in-page anchors
    assert "<script" not in page and "<link" not in page
    assert re.findall(r"""(?:src|href)\s*=\s*['"](?!data:|#)[^'"]*""", page) == []


def _png_pixels(path: Path) -> np.ndarray:
    """RGB values 0..255 of a PNG (matplotlib's reader)."""
    from matplotlib.image import imread

    return (imread(path)[:, :, :3] * 255).astype(int)


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


def render_checks(page: Path, tmp_path: Path, expect: list[str]) -> None:
    """Open `page` offline in headless chromium: the DOM holds `expect`, the screenshot is not blank."""
    dom = chromium("--dump-dom", page.resolve().as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-500:]
    for text in expect:
        assert text in dom.stdout, text
    shot = tmp_path / "shot.png"
    proc = chromium(f"--screenshot={shot}", "--window-size=900,900", page.resolve().as_uri(), tmp_path=tmp_path)
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-500:]
    pixels = _png_pixels(shot)
    dark = (pixels.sum(axis=2) < 300).mean()  # text, lines, markers
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20 and dark > 0.002, (dark,)


@needs_chromium
def test_report_renders_in_headless_chromium(tmp_path):
    svg = transfer_curve(_series(), tmp_path / "t.svg", title="Transfer curve: ptm45, nom, 27 °C")
    page = H.write_page(tmp_path / "report.html", "netlistgen simulation report", [
        H.heading("Sampled value"), H.markdown_table("| case | SNR dB | status |\n|---|---|---|\n| zebra-i | 61.3 | PASS |"),
        H.figure(svg, "transfer")])
    render_checks(page, tmp_path, ["netlistgen simulation report", "61.3", "Transfer curve: ptm45", "<svg"])
