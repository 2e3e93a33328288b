#!/usr/bin/env bash
# Create .venv/ and install everything `make run` and `make test` need, on a fresh machine.
#
# 1. System packages that WeasyPrint and Chinese PDF output need (pango, HarfBuzz-Subset,
#    a CJK font) and
#    gettext for the translation catalogues, Debian's chromium (and chromium-driver) and
#    poppler-utils for the browser journeys of tests/e2e: installed with apt-get when missing and running as root,
#    otherwise named in an error message.
# 2. Python 3.11 or newer: the first of python3.13, python3.12, python3.11, python3.
# 3. The virtual environment with the project and its dev tools (pyproject.toml),
#    at the versions of requirements/constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.installed"

missing_packages() {
    local missing=()
    if ! { ldconfig -p 2>/dev/null | grep 'libpango-1\.0\.so' >/dev/null && ldconfig -p 2>/dev/null | grep 'libpangoft2-1\.0\.so' >/dev/null; }; then
        missing+=(libpango-1.0-0 libpangoft2-1.0-0)
    fi
    # HarfBuzz-Subset keeps CJK font subsetting fast (fontTools takes seconds per PDF).
    if ! ldconfig -p 2>/dev/null | grep 'libharfbuzz-subset\.so' >/dev/null; then
        missing+=(libharfbuzz-subset0)
    fi
    if ! command -v fc-list >/dev/null 2>&1; then
        missing+=(fontconfig fonts-noto-cjk)
    elif ! fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null; then
        missing+=(fonts-noto-cjk)
    fi
    if ! command -v xgettext >/dev/null 2>&1 || ! command -v msgfmt >/dev/null 2>&1; then
        missing+=(gettext)
    fi
    # The browser journeys (tests/e2e) drive Debian's Chromium through Playwright; their
    # screenshot gallery renders a PDF's first page with pdftoppm.
    if [ ! -x /usr/bin/chromium ]; then
        missing+=(chromium chromium-driver)
    fi
    if [ ! -x /usr/bin/pdftoppm ]; then
        missing+=(poppler-utils)
    fi
    echo "${missing[@]:-}"
}

packages=$(missing_packages)
if [ -n "$packages" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing system packages: $packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $packages >/dev/null
    else
        echo "Missing system packages: $packages" >&2
        echo "Install them (Debian/Ubuntu: sudo apt-get install $packages) and run make again." >&2
        exit 1
    fi
fi

find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    if ! python=$(find_python); then
        echo "Python 3.11 or newer is needed; none of python3.13, python3.12, python3.11, python3 is." >&2
        exit 1
    fi
    echo "Creating $VENV with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV"
fi

echo "Installing Python packages into $VENV"
# The constraints pin the exact versions CI tested; pyproject.toml keeps the ranges.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --constraint requirements/constraints.txt --editable '.[dev]'
touch "$STAMP"
