#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image; the zip's contents
# are already unpacked in /autograder/source.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# The grader needs Python 3.11 or newer; the base image's python3 may be older.
new_enough() {
  command -v "$1" >/dev/null 2>&1 \
    && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'
}

PYTHON=""
for candidate in python3 python3.13 python3.12 python3.11; do
  if new_enough "$candidate"; then PYTHON="$candidate"; break; fi
done

if [ -z "$PYTHON" ]; then
  apt-get update
  if ! apt-get install -y python3.11 python3.11-venv; then
    # Older Ubuntu releases carry 3.11 only in the deadsnakes archive.
    apt-get install -y software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y python3.11 python3.11-venv
  fi
  PYTHON=python3.11
fi

# A virtual environment: recent Ubuntu images refuse pip installs into the system Python
# (PEP 668), and the grader's dependencies then cannot clash with anything preinstalled.
if ! "$PYTHON" -m venv /autograder/venv; then
  apt-get update
  apt-get install -y "$("$PYTHON" -c 'import sys; print(f"python3.{sys.version_info[1]}-venv")')"
  "$PYTHON" -m venv /autograder/venv
fi

/autograder/venv/bin/pip3 install --upgrade pip
/autograder/venv/bin/pip3 install /autograder/source
ln -sf /autograder/venv/bin/grade /usr/local/bin/grade
grade --version
