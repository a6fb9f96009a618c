"""Regression suite: strict suite parsing, verdicts against golden values, reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from netlistgen.studies import regress
from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError


def write(tmp_path, text: str):
    p = tmp_path / "suite.yaml"
    p.write_text(text)
    return p


def test_default_suite_has_golden_values_for_every_case():
    cases = regress.load_suite()
    golden = regress.load_golden()
    assert len(cases) >= 12
    assert {c.name for c in cases} <= set(golden)
    assert any(isinstance(c, regress.AdcCase) for c in cases)  # the SAR ADC joins the suite
    cases = [c for c in cases if isinstance(c, regress.Case)]
    techs = {c.options.technology for c in cases}
    schemes = {c.options.scheme for c in cases}
    assert techs == {"ptm45", "sky130"} and {"int4", "int8", "zebra-i", "zebra-ii"} <= schemes
    assert any(c.stimulus == "sweep" for c in cases)
    assert {c.options.corner for c in cases} >= {None, "ss", "ff"}


@pytest.mark.parametrize(
    "text,needle",
    [
        ("cases:\n  - {name: a, scheme: zebra-i, rowz: 2}\n", "rowz"),
        ("defaults: {tolerances: {snr_db: {abs: -1}}}\ncases:\n  - {name: a}\n", "-1"),
        ("defaults: {tolerances: {noise_db: {abs: 1}}}\ncases:\n  - {name: a}\n", "noise_db"),
        ("cases:\n  - {name: a}\n  - {name: a}\n", "duplicate"),
        ("cases: []\n", "non-empty"),
        ("defaults: {}\n", "cases"),
        ("cases:\n  - {name: a, stimulus: chirp}\n", "chirp"),
        ("cases:\n  - {name: \"a\\n.control\"}\n", "case name"),
        ("cases:\n  - {name: a\n", "not valid"),
    ],
)
def test_bad_suites_are_rejected(tmp_path, text, needle):
    with pytest.raises(NetlistgenError, match=needle.replace("\\", "")) as exc:
        regress.load_suite(write(tmp_path, text))
    assert "\n" not in str(exc.value)


def test_unknown_case_selection_exits_2(tmp_path, capsys):
    assert main(["regress", "-k", "no-such-case", "--out", str(tmp_path / "r")]) == 2
    assert "no-such-case" in capsys.readouterr().err


def test_update_golden_needs_explicit_file(tmp_path, capsys):
    assert main(["regress", "-k", "mlsiu-sweep-ptm45", "--update-golden", "--out", str(tmp_path / "r")]) == 2


def test_verdicts_use_tolerances():
    case = regress.Case("c", regress.GenerateOptions(), 4, 1, "random",
                        {"gain_mv_per_lsb": regress.Tolerance(rel=0.01), "snr_db": regress.Tolerance(abs=1.0)})
    row = {"gain_mv_per_lsb": 2.0, "snr_db": 50.0}
    ok = regress.verdicts([case], {"c": row}, {}, {"c": {"gain_mv_per_lsb": 2.019, "snr_db": 50.9}})
    assert ok[0]["status"] == "pass"
    bad = regress.verdicts([case], {"c": row}, {}, {"c": {"gain_mv_per_lsb": 2.03, "snr_db": 50.9}})
    assert bad[0]["status"] == "fail" and "gain_mv_per_lsb" in bad[0]["message"]
    err = regress.verdicts([case], {}, {"c": "job 'c' failed: boom"}, {})
    assert err[0]["status"] == "error"


@pytest.mark.ngspice
def test_case_passes_then_fails_against_tampered_golden(tmp_path, installed, capsys):
    out = tmp_path / "r"
    assert main(["regress", "-k", "mlsiu-sweep-ptm45", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["summary"] == {"pass": 1, "fail": 0, "error": 0}
    assert report["cases"][0]["metrics"]["dnl_lsb"]["ok"] is True
    suite = ET.parse(out / "junit.xml").getroot()
    assert suite.get("tests") == "1" and suite.get("failures") == "0"

    golden = json.loads(regress.default_golden().read_text())
    golden["cases"]["mlsiu-sweep-ptm45"]["gain_mv_per_lsb"] *= 1.05
    tampered = tmp_path / "golden.json"
    tampered.write_text(json.dumps(golden))
    assert main(["regress", "-k", "mlsiu-sweep-ptm45", "--golden", str(tampered), "--out", str(out)]) == 1
    report = json.loads((out / "report.json").read_text())
    assert report["cases"][0]["status"] == "fail"
    assert ET.parse(out / "junit.xml").getroot().get("failures") == "1"
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.ngspice
def test_adc_case_runs_against_its_goldens(tmp_path, installed, capsys):
    """The SAR ADC case (ramp + sine in ngspice) passes on ENOB, energy and DNL/INL and
    fails when its golden energy is moved by 5 % (its tolerance is 3 %)."""
    out = tmp_path / "r"
    golden = json.loads(regress.default_golden().read_text())
    golden["cases"]["adc-sar4-ptm45"]["energy_fj"] *= 1.05
    tampered = tmp_path / "golden.json"
    tampered.write_text(json.dumps(golden))
    assert main(["regress", "-k", "adc-sar4-ptm45", "--no-cache", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["cases"][0]["metrics"]) == {"enob", "energy_fj", "dnl_lsb", "inl_lsb"}
    assert all(m["ok"] for m in report["cases"][0]["metrics"].values())
    assert "adc-sar4-ptm45 | PASS | enob" in capsys.readouterr().out
    assert main(["regress", "-k", "adc-sar4-ptm45", "--golden", str(tampered), "--out", str(out)]) == 1
    report = json.loads((out / "report.json").read_text())
    assert report["cases"][0]["metrics"]["energy_fj"]["ok"] is False


def test_adc_case_is_refused_on_an_engine_without_xspice(tmp_path):
    """The ADC study runs ngspice itself; on `--backend vacask` the case is an error naming
    why, not an ngspice result under VACASK's name (nothing is simulated)."""
    cases = [c for c in regress.load_suite() if isinstance(c, regress.AdcCase)]
    rows, errors = regress.measure(cases, tmp_path / "j", backend="vacask", progress=False)
    assert rows == {} and set(errors) == {c.name for c in cases}
    assert all("does not run the SAR ADC case" in m and "XSPICE" in m for m in errors.values())
    assert not (tmp_path / "j" / cases[0].name).exists()


def test_adc_case_keys_are_checked(tmp_path):
    text = ("cases:\n  - {name: a, scheme: int4, technology: ptm45, rows: 1, cols: 1}\n"
            "adc_cases:\n  - {name: x, technology: ptm45, bits: 4, tolerances: {enob: {abs: 0.1}}, hits: 3}\n")
    with pytest.raises(NetlistgenError, match="hits"):
        regress.load_suite(write(tmp_path, text))
    with pytest.raises(NetlistgenError, match="gain_mv_per_lsb"):
        regress.load_suite(write(tmp_path, text.replace("enob", "gain_mv_per_lsb").replace(", hits: 3", "")))
    with pytest.raises(NetlistgenError, match="bits"):
        regress.load_suite(write(tmp_path, text.replace("bits: 4", "bits: 12").replace(", hits: 3", "")))


def test_report_shows_value_golden_delta_tolerance_and_junit_carries_times_and_values(tmp_path):
    case = regress.Case("c", regress.GenerateOptions(), 4, 1, "random",
                        {"gain_mv_per_lsb": regress.Tolerance(rel=0.01), "snr_db": regress.Tolerance(abs=1.0)})
    row = {"label": "c", "gain_mv_per_lsb": 2.0, "snr_db": 50.0,
           "corner": "nom", "temp_c": 27.0}
    from netlistgen.analysis.specs import check, parse_specs

    spec = check(parse_specs({"specs": [{"metric": "snr_db", "min": 55}]}, "t"), [row])
    res = regress.verdicts([case], {"c": row}, {}, {"c": {"gain_mv_per_lsb": 2.019, "snr_db": 50.9}}, spec)
    assert res[0]["status"] == "fail" and "spec snr_db: 50 < min 55" in res[0]["message"]
    gain = res[0]["metrics"]["gain_mv_per_lsb"]
    assert gain["delta"] == pytest.approx(-0.019) and gain["tolerance"] == "1 %" and gain["limit"] == pytest.approx(0.02019)
    table = regress.table(res)
    assert "| c | FAIL | gain_mv_per_lsb | 2 | 2.019 | -0.019 | 1 % | 0.0202 | yes |" in table
    regress.write_reports(res, tmp_path / "r.json", tmp_path / "j.xml", 4.0, tmp_path / "r.html", spec,
                          case_seconds={"c": 3.25})
    tc = ET.parse(tmp_path / "j.xml").getroot().find("testcase")
    assert tc.get("time") == "3.250"
    props = {p.get("name"): p.get("value") for p in tc.find("properties")}
    assert float(props["gain_mv_per_lsb.value"]) == 2.0 and float(props["snr_db.golden"]) == 50.9
    assert float(props["gain_mv_per_lsb.delta"]) == pytest.approx(-0.019)
    assert "| c | FAIL | snr_db | 50 | 50.9 |" in tc.find("system-out").text
    html = (tmp_path / "r.html").read_text()
    assert "Spec check: 0 of 1 limits pass" in html and "<td class='fail'>FAIL</td>" in html
    assert "share of each tolerance used" in html and "<svg" in html  # |delta|/limit bars, inline
    assert (tmp_path / "tolerance_used.svg").is_file()
