#!/usr/bin/env bash
# Usage: scripts/python-env.sh [quality]
#
# Creates (once) the Python virtual environment that the consumer checks in
# tests/python/ run in, installs tests/python/requirements.txt into it when
# that file changed since the last install, and prints the environment's
# python on standard output (everything else goes to standard error).
#
# The environment lives outside the clone, in ${GLOSS_PYTHON_ENV:-~/.cache/gloss-python},
# so that repeated runs on the same machine reuse it.
#
# With `quality`, the same for the reference implementations of the quality
# metrics (tests/python/requirements-quality.txt, judged by
# tests/python/quality_check.py) in ${GLOSS_QUALITY_PYTHON_ENV:-~/.cache/gloss-python-quality}:
# a separate environment, because irrCAC pins a scipy the consumer checks
# cannot use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'python-env: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case ${1:-} in
"")
    env_dir=${GLOSS_PYTHON_ENV:-$HOME/.cache/gloss-python}
    requirements=tests/python/requirements.txt
    ;;
quality)
    env_dir=${GLOSS_QUALITY_PYTHON_ENV:-$HOME/.cache/gloss-python-quality}
    requirements=tests/python/requirements-quality.txt
    ;;
*) die "unknown environment '$1' (none, or quality)" ;;
esac
python=$env_dir/bin/python
stamp=$env_dir/.requirements.sha256

command -v python3 >/dev/null 2>&1 || die "python3 is not installed"
[[ -f $requirements ]] || die "$requirements is missing"

wanted=$( (sha256sum "$requirements"; python3 --version) | sha256sum | cut -d' ' -f1)

# A venv whose python no longer runs (e.g. the base python was replaced) is rebuilt.
if [[ -x $python ]] && ! "$python" -c 'import sys' >/dev/null 2>&1; then
    log "the environment in $env_dir is broken; recreating it"
    rm -rf "$env_dir"
fi
if [[ ! -x $python ]]; then
    log "creating a virtual environment in $env_dir"
    python3 -m venv "$env_dir" >&2 || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi

if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    log "installing $requirements"
    rm -f "$stamp"
    "$python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2 ||
        die "pip install -r $requirements failed"
    echo "$wanted" >"$stamp"
fi

echo "$python"
