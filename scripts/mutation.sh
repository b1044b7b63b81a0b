#!/usr/bin/env bash
# The mutation score of the core modules (scripts/mutation.py): makes .venv-mutation from
# requirements-mutation.txt when it is missing or stale, then runs the score with the same arguments.
# Usage: bash scripts/mutation.sh [stacks/<module>.py ...] [--keep DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-mutation"
want="$(cat "$root/requirements-mutation.txt" "$root/requirements-dev.txt" "$root/requirements.txt" | sha256sum | cut -c1-16)"
if [[ "$(cat "$venv/.requirements" 2>/dev/null)" != "$want" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements-mutation.txt"
  echo "$want" >"$venv/.requirements"
fi
exec "$venv/bin/python" "$root/scripts/mutation.py" "$@"
