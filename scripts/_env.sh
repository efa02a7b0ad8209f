# Shared by scripts/*.sh: make sure .venv exists and holds this project's current dependencies.
# Sourced, not run. Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"

apt_install() {  # apt_install PACKAGE...: Debian packages, as root or through sudo
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@" >/dev/null
}

make_venv() {  # make_venv DIR: a virtual environment, installing Debian's venv module if missing
  local dir="$1"
  [ -x "$dir/bin/python" ] && return 0
  if ! "$PYTHON" -m venv "$dir" 2>/dev/null; then
    rm -rf "$dir"
    echo "python3 -m venv is missing; installing Debian's python3-venv" >&2
    apt_install python3-venv
    "$PYTHON" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install -q --upgrade pip
}

ensure_venv() {
  make_venv .venv
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "installing the project and its dev dependencies into .venv" >&2
    .venv/bin/python -m pip install -q -e '.[dev]'
    rm -f .venv/.installed-* && touch "$stamp"
  fi
}

# checkov pins versions that clash with ours, so it lives in a virtual environment of its own.
CHECKOV_VERSION="3.3.*"
ensure_checkov() {
  make_venv .venv-checkov
  local stamp=".venv-checkov/.installed-${CHECKOV_VERSION//[^0-9.]/}"
  if [ ! -f "$stamp" ]; then
    echo "installing checkov into .venv-checkov" >&2
    .venv-checkov/bin/python -m pip install -q "checkov==${CHECKOV_VERSION}"
    rm -f .venv-checkov/.installed-* && touch "$stamp"
  fi
  export CHECKOV_BIN="$ROOT/.venv-checkov/bin/checkov"
}

# The web page's tests drive a real browser: Debian's chromium (Playwright's own download
# is not used). BROWSER_BIN tells the tests where it is.
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests" >&2
    apt_install chromium
  fi
  export BROWSER_BIN="$(command -v chromium)"
}
