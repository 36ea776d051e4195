#!/usr/bin/env bash
# Usage: scripts/web-env.sh
#
# Gets the browser tests' tools ready: Debian's Chromium and Firefox ESR,
# and ffmpeg (which makes the video tests' videos; its libraries also let
# Firefox play H.264), installed with apt-get when missing and running as
# root; and
# web/node_modules (playwright-core, which drives that Chromium;
# puppeteer-core, which drives that Firefox over WebDriver BiDi; and
# typescript, which checks the app's JSDoc types), installed with `npm ci`
# from web/package-lock.json when the lock file changed since the last
# install. Prints the Chromium executable on standard output (everything else
# goes to standard error).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'web-env: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

chromium=${CHROMIUM:-/usr/bin/chromium}
firefox=${FIREFOX:-/usr/bin/firefox-esr}
missing=()
[[ -x $chromium ]] || missing+=(chromium)
[[ -x $firefox ]] || missing+=(firefox-esr)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        [[ -x $chromium ]] || die "Chromium not found at $chromium. Install it (Debian: apt-get install -y chromium) or set CHROMIUM."
        command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg not found: the video tests make their videos with it (Debian: apt-get install -y ffmpeg)."
        # web/tests/firefox.test.mjs skips itself without Firefox (and fails when CI is set).
        log "warning: Firefox not found at $firefox, so the Firefox tests will be skipped. Install it (Debian: apt-get install -y firefox-esr) or set FIREFOX."
    else
        log "installing ${missing[*]} (apt-get install ${missing[*]})"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2
        apt-get install -y -q "${missing[@]}" >&2
        [[ -x $chromium ]] || die "Chromium still not found at $chromium after installing it"
        [[ -x $firefox ]] || die "Firefox still not found at $firefox after installing it"
        command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg still not found after installing it"
    fi
fi

command -v npm >/dev/null 2>&1 || die "npm is not installed (Node.js 20 or newer is needed)"
stamp=web/node_modules/.package-lock.sha256
wanted=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    log "installing web/package-lock.json (npm ci)"
    (cd web && npm ci --no-audit --no-fund >&2)
    echo "$wanted" >"$stamp"
fi

echo "$chromium"
