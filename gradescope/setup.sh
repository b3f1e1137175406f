#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image, with the zip
# unpacked in /autograder/source (Autograder Specifications). It installs the grader's wheel,
# which the zip carries, with its dependencies into /autograder/venv; run_autograder runs the
# `grade` of that venv.
#
# The grader needs Python 3.11+. Gradescope's Ubuntu base images have 3.8 (20.04) or 3.10
# (22.04), 3.12 on 24.04. When no Python 3.11+ is on PATH, uv installs a standalone CPython
# 3.11 (python-build-standalone): one way that works on every Ubuntu release, needs nothing
# but curl or the image's pip, and gives a current 3.11. The deadsnakes PPA was not chosen: it
# deletes its packages for an Ubuntu release once that release's standard support ends (20.04's
# ended in 2025), and adding it needs software-properties-common and a key server.
set -euo pipefail
# Errors inside $(...) stop the script too, as they do everywhere else.
shopt -s inherit_errexit

VENV=/autograder/venv
SOURCE=/autograder/source
# Where uv and the Python it installs live; kept in the image, outside /autograder/source.
TOOLS=/opt/activations-grader

# The first Python on PATH that is 3.11 or newer; fails when there is none.
find_python() {
  local name path
  for name in python3 python3.14 python3.13 python3.12 python3.11; do
    path=$(command -v "$name" 2>/dev/null) || continue
    if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

# A uv executable: the one on PATH, else one installed with the image's pip, else with curl.
uv_command() {
  local candidate
  if command -v uv >/dev/null 2>&1; then
    command -v uv
    return 0
  fi
  if ! { python3 -m pip --version && python3 -m pip install --quiet --target "$TOOLS/uv" uv; } \
      >&2 2>&1; then
    curl -LsSf https://astral.sh/uv/install.sh \
      | env UV_UNMANAGED_INSTALL="$TOOLS/uv" INSTALLER_NO_MODIFY_PATH=1 sh >&2
  fi
  # pip's --target puts it in bin/, the installer's unmanaged layout at the top.
  for candidate in "$TOOLS/uv/bin/uv" "$TOOLS/uv/uv"; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  echo "setup.sh: could not install uv" >&2
  return 1
}

# Install a standalone CPython 3.11 with uv and print its interpreter.
install_python() {
  local uv python
  uv=$(uv_command) || return 1
  UV_PYTHON_INSTALL_DIR="$TOOLS/python" "$uv" python install 3.11 >&2 || return 1
  # Found by its place rather than by asking uv, whose options for that have changed.
  python=$(ls -d "$TOOLS"/python/cpython-3.11*/bin/python3.11 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$python" ] || ! "$python" -V >/dev/null 2>&1; then
    echo "setup.sh: uv installed no usable Python 3.11 in $TOOLS/python" >&2
    return 1
  fi
  echo "$python"
}

# The Python the grader will run on: the image's own when it is new enough.
choose_python() {
  local python
  if python=$(find_python); then
    echo "setup.sh: using $python ($("$python" -V 2>&1)), found on PATH" >&2
  else
    echo "setup.sh: no Python 3.11+ on PATH; installing CPython 3.11 with uv" >&2
    python=$(install_python) || return 1
    echo "setup.sh: using $python ($("$python" -V 2>&1)), installed by uv" >&2
  fi
  echo "$python"
}

# A virtual environment: recent Ubuntu images refuse pip installs into the system Python
# (PEP 668), and the grader's dependencies cannot clash with anything preinstalled.
make_venv() {
  local python=$1
  if ! "$python" -m venv --clear "$VENV"; then
    # Debian and Ubuntu ship venv's ensurepip apart from the interpreter, as python3.X-venv.
    apt-get update
    apt-get install -y "python3.$("$python" -c 'import sys; print(sys.version_info[1])')-venv"
    "$python" -m venv --clear "$VENV"
  fi
}

main() {
  export DEBIAN_FRONTEND=noninteractive
  local wheels=("$SOURCE"/*.whl)
  if [ "${#wheels[@]}" -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
    echo "setup.sh: expected one grader wheel in $SOURCE; rebuild the zip with" \
      "'grade gradescope-package'" >&2
    exit 1
  fi
  local python
  python=$(choose_python)
  make_venv "$python"
  # The venv's own pip may predate the wheel tags NumPy publishes; a current one picks wheels
  # instead of building NumPy from source.
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "${wheels[0]}"
  "$VENV/bin/grade" --version
}

# Run only when executed (Gradescope runs `bash setup.sh`); sourcing it gives the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
