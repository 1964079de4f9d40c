# Sourced by scripts/test.sh: makes sure the browser end-to-end test can
# run: Debian's Chromium at /usr/bin/chromium (installed if missing) and the
# test's Node packages (playwright-core, pinned in tests/browser, which
# drives that Chromium and downloads no browser of its own).
# Quiet and quick when everything is there.

if [ ! -x /usr/bin/chromium ]; then
    echo "installing Chromium (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "Chromium is missing at /usr/bin/chromium" >&2; exit 1; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing Node.js (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "installing the browser test's Node packages (tests/browser)"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
