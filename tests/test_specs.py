"""Specs as data: parsing (strict, one-line errors) and per-condition verdicts."""

from __future__ import annotations

import math

import pytest

from netlistgen.analysis import specs
from netlistgen.core.errors import NetlistgenError

ROWS = [
    {"label": "ss-t125", "scheme": "zebra-i", "technology": "ptm45", "corner": "ss", "temp_c": 125.0, "vdd_v": 1.0,
     "inl_lsb": 0.24, "snr_db": 38.2, "pedestal_mv_mean": 18.8},
    {"label": "nom-t27", "scheme": "zebra-i", "technology": "ptm45", "corner": "nom", "temp_c": 27.0, "vdd_v": 1.0,
     "inl_lsb": 0.02, "snr_db": 61.3, "pedestal_mv_mean": 18.7},
    {"label": "ff-tm40", "scheme": "zebra-i", "technology": "ptm45", "corner": "ff", "temp_c": -40.0, "vdd_v": 1.1,
     "inl_lsb": 0.02, "snr_db": math.nan, "pedestal_mv_mean": 18.6},
]


def test_yaml_and_toml_spec_files(tmp_path):
    y = tmp_path / "s.yaml"
    y.write_text("specs:\n  - {metric: inl_lsb, max: 0.5}\n  - metric: snr_db\n    min: 45\n    typ: 55\n"
                 "    when: {corner: [ss, ff], temp_c: {min: 0}}\n")
    t = tmp_path / "s.toml"
    t.write_text('[[specs]]\nmetric = "inl_lsb"\nmax = 0.5\n[[specs]]\nmetric = "snr_db"\nmin = 45\ntyp = 55\n'
                 '[specs.when]\ncorner = ["ss", "ff"]\ntemp_c = {min = 0}\n')
    assert specs.load_specs(y) == specs.load_specs(t)
    s = specs.load_specs(y)[1]
    assert (s.min, s.typ, s.max) == (45.0, 55.0, None) and s.limits_text() == "min 45, typ 55 dB"


def test_limits_apply_per_condition_set():
    spec_list = specs.parse_specs({"specs": [
        {"metric": "inl_lsb", "max": 0.1},                                     # everywhere
        {"metric": "snr_db", "min": 45, "when": {"temp_c": {"min": 0}}},       # hot and room only
        {"metric": "pedestal_mv_mean", "max": 18.65, "when": {"corner": ["ff", "nom"]}},
    ]}, "test")
    v = specs.check(spec_list, ROWS)
    got = {(x["label"], x["metric"]): x["status"] for x in v}
    assert got == {
        ("ss-t125", "inl_lsb"): "fail", ("ss-t125", "snr_db"): "fail",
        ("nom-t27", "inl_lsb"): "pass", ("nom-t27", "snr_db"): "pass", ("nom-t27", "pedestal_mv_mean"): "fail",
        ("ff-tm40", "inl_lsb"): "pass", ("ff-tm40", "pedestal_mv_mean"): "pass",
    }
    s = specs.summary(v)
    assert s == {"checked": 7, "passed": 4, "failed": 3, "failing_cases": ["nom-t27", "ss-t125"]}
    table = specs.table(v)
    assert "FAIL (0.24 > max 0.1)" in table and "corner=ss" in table


def test_unmeasured_metric_fails():
    v = specs.check(specs.parse_specs({"specs": [{"metric": "snr_db", "min": 1},
                                                 {"metric": "tops_per_w", "min": 1}]}, "t"), ROWS[2:])
    assert [(x["metric"], x["status"], x["note"]) for x in v] == [
        ("snr_db", "fail", "not measured"), ("tops_per_w", "fail", "not measured")]


@pytest.mark.parametrize("doc,needle", [
    ({"specs": [{"metric": "inl_lbs", "max": 1}]}, "did you mean 'inl_lsb'?"),
    ({"specs": [{"metric": "inl_lsb", "typ": 1}]}, "needs a min and/or a max"),
    ({"specs": [{"metric": "inl_lsb", "min": 2, "max": 1}]}, "min 2 > max 1"),
    ({"specs": [{"metric": "inl_lsb", "max": "x"}]}, "'x'"),
    ({"specs": [{"metric": "inl_lsb", "max": 1, "when": {"corners": "ss"}}]}, "did you mean 'corner'?"),
    ({"specs": [{"metric": "inl_lsb", "max": 1, "when": {"corner": {"min": 1}}}]}, "not numeric"),
    ({"specs": [{"metric": "inl_lsb", "max": 1, "when": {"temp_c": "hot"}}]}, "'hot'"),
    ({"specs": [{"metric": "inl_lsb", "max": 1, "limit": 2}]}, "unknown key 'limit'"),
    ({"specs": []}, "non-empty list"),
    ({}, "missing required key 'specs'"),
])
def test_bad_spec_is_one_line_error(doc, needle):
    with pytest.raises(NetlistgenError) as exc:
        specs.parse_specs(doc, "spec file 'x.yaml'")
    assert needle in str(exc.value) and "\n" not in str(exc.value)
