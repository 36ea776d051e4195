#!/usr/bin/env bash
# Runs the whole Gloss test suite: formatting, lints, and all tests (the
# PostgreSQL ones against a throwaway local cluster, see with-postgres.sh).
# This is the one command CI runs (.ci/run) and the README points to.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Build outside the clone so repeated runs on the same machine (CI starts
# from a fresh checkout each time) reuse compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gloss-target}"

# --- Step bookkeeping: headers and per-step timing for the logs ------------
run_start=$SECONDS
current_step=
timings=()

# step NAME CMD [ARGS...]: run one timed step; a failing step stops the run.
step() {
    local name=$1 start=$SECONDS
    shift
    current_step=$name
    printf '\n==> %s\n' "$name"
    "$@"
    printf '<== %s: %ds\n' "$name" $((SECONDS - start))
    timings+=("$(printf '%6ds  %s' $((SECONDS - start)) "$name")")
    current_step=
}

summary() {
    local status=$?
    printf '\n==> Summary\n'
    if [[ ${#timings[@]} -gt 0 ]]; then
        printf '%s\n' "${timings[@]}"
    fi
    if [[ -n $current_step ]]; then
        printf 'FAILED in step: %s (exit %d)\n' "$current_step" "$status"
    fi
    printf '%6ds  total\n' $((SECONDS - run_start))
}
trap summary EXIT

echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

# --- Rust: format, lints, tests ----------------------------------------------
# Everything uses the default dev profile (Cargo.toml optimises dependencies
# there), so no second set of dependency builds is needed.
if cargo fmt --version >/dev/null 2>&1; then
    step "cargo fmt --check" cargo fmt --all -- --check
else
    echo "NOTE: rustfmt is not installed; skipping the format check (rustup component add rustfmt)"
fi

# Lints are a gate, so unlike rustfmt a missing clippy fails the run.
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings

# --- Python consumer checks: tests/python/ -----------------------------------
# Some Rust tests hand Gloss's exports to the tools people read them with
# (pycocotools for COCO, see tests/python/coco_eval.py), using the python
# named by GLOSS_TEST_PYTHON; under CI they fail without it. The venv is made
# once per machine and reinstalled only when tests/python/requirements.txt
# changes.
python_env() {
    GLOSS_TEST_PYTHON=$(scripts/python-env.sh)
    export GLOSS_TEST_PYTHON
    echo "GLOSS_TEST_PYTHON=$GLOSS_TEST_PYTHON"
}
step "python environment" python_env

# The quality metrics are judged against their reference implementations
# (tests/python/quality_check.py through GLOSS_QUALITY_PYTHON) in a venv of
# their own: irrCAC pins scipy 1.12, which the consumer checks cannot use.
quality_python_env() {
    GLOSS_QUALITY_PYTHON=$(scripts/python-env.sh quality)
    export GLOSS_QUALITY_PYTHON
    echo "GLOSS_QUALITY_PYTHON=$GLOSS_QUALITY_PYTHON"
}
step "python environment (quality references)" quality_python_env

# --- Video tools: the video tests generate their videos with ffmpeg --------
media_env() {
    GLOSS_TEST_FFMPEG=$(scripts/media-env.sh)
    export GLOSS_TEST_FFMPEG
    echo "GLOSS_TEST_FFMPEG=$GLOSS_TEST_FFMPEG"
}
step "video tools" media_env

# Compile first, outside the database wrapper, so the timing shows build and
# test run separately and the cluster is not idling during compilation.
step "build tests" cargo test --workspace --no-run
step "cargo test (with PostgreSQL)" scripts/with-postgres.sh cargo test --workspace

# --- The browser app: types and end-to-end tests in real browsers ---------
# web/tests/ starts the gloss binary built above (GLOSS_BIN) on 127.0.0.1:0
# and drives Debian's Chromium (playwright-core) and Firefox ESR
# (puppeteer-core, over WebDriver BiDi); scripts/web-env.sh installs them
# and web/node_modules when missing.
web_env() {
    CHROMIUM=$(scripts/web-env.sh)
    export CHROMIUM
    echo "CHROMIUM=$CHROMIUM"
}
step "browser environment" web_env
step "tsc --checkJs (web/app)" web/node_modules/.bin/tsc -p web/tsconfig.json
browser_tests() {
    # The CLI's tests already built the binary; this is a no-op then.
    cargo build -p gloss
    GLOSS_BIN="$CARGO_TARGET_DIR/debug/gloss" node --test --test-concurrency=1 web/tests/*.test.mjs
}
step "browser tests" browser_tests

printf '\nAll checks passed.\n'
