"""Symlink-safe writes and reads of the tool's own files (core/files.py)."""

from __future__ import annotations

import pytest

from netlistgen.core import files
from netlistgen.core.errors import OutputError


def test_write_replaces_a_planted_link_and_leaves_its_target(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "array.sp"
    link.symlink_to(outside)
    files.write_atomic(link, "* netlist\n")
    assert not link.is_symlink() and link.read_text() == "* netlist\n"
    assert outside.read_text() == "precious\n"


def test_real_dir_refuses_links_and_files_in_the_way(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "jobs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="symbolic link"):
        files.real_dir(tmp_path / "jobs")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        files.real_dir(tmp_path / "afile")
    assert files.real_dir(tmp_path / "new" / "deep").is_dir()


def test_remove_stale_unlinks_the_link_not_its_target(tmp_path):
    outside = tmp_path / "outside.raw"
    outside.write_text("keep")
    (tmp_path / "tran.raw").symlink_to(outside)
    (tmp_path / "old.log").write_text("old")
    files.remove_stale(tmp_path / "tran.raw", tmp_path / "old.log", tmp_path / "absent")
    assert outside.read_text() == "keep"
    assert not (tmp_path / "tran.raw").exists() and not (tmp_path / "old.log").exists()


def test_read_own_refuses_links_and_oversized_files(tmp_path):
    (tmp_path / "target").write_text("x" * 100)
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(OSError):
        files.read_own(tmp_path / "link")
    with pytest.raises(OSError, match="limit"):
        files.read_own(tmp_path / "target", limit=10)
    assert files.read_own(tmp_path / "target") == b"x" * 100
