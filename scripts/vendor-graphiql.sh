#!/usr/bin/env bash
# Vendor the GraphiQL assets that Strawberry's IDE page loads from unpkg into
# graph/server/static/graphiql/, so /graphql works with no internet access (see graph/server/graphiql.py).
#
# The list of files (package, exact version, path, integrity hash) and the local file names come
# from graph.server.graphiql.vendored_assets(), which parses the installed Strawberry's own page, so
# re-running this after a Strawberry upgrade picks up whatever the new page pins. Each file comes
# from the npm registry tarball of that exact version (npm itself checks the tarball against the
# registry's integrity), and is then checked against the page's sha384 before anything in
# graph/server/static/graphiql/ is replaced. LICENSES gets each package's license text.
#
# Usage:
#   scripts/vendor-graphiql.sh           # fetch from npm, verify, replace graph/server/static/graphiql/
#   scripts/vendor-graphiql.sh --check   # offline: verify the vendored files against the page
# Env: PYTHON (default .venv/bin/python), NPM (default npm).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
NPM=${NPM:-npm}
DEST=$ROOT/graph/server/static/graphiql
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

case "${1:-}" in
  --check)
    "$PY" - "$DEST" <<'PY'
import sys
from pathlib import Path

from graph.server.graphiql import vendored_assets, verify_vendored_assets

problems = verify_vendored_assets(Path(sys.argv[1]))
for problem in problems:
    print(f"FAIL {problem}", file=sys.stderr)
if problems:
    sys.exit("vendored GraphiQL assets do not match Strawberry's page: run scripts/vendor-graphiql.sh")
print(f"ok: {len(vendored_assets())} GraphiQL assets match Strawberry's integrity hashes")
PY
    exit 0
    ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/packs" "$WORK/out"

# package <TAB> version <TAB> path-in-tarball <TAB> local file name <TAB> integrity
"$PY" -c '
from graph.server.graphiql import vendored_assets
for a in vendored_assets():
    print(a.package, a.version, a.path, a.filename, a.integrity, sep="\t")
' > "$WORK/manifest.tsv"
[ -s "$WORK/manifest.tsv" ] || { echo "no unpkg assets found in Strawberry's page" >&2; exit 1; }

sri() { # sri ALGORITHM-PREFIXED-HASH FILE -> prints the file's SRI string with the same algorithm
  "$PY" -c '
import base64, hashlib, sys
algorithm = sys.argv[1].split("-", 1)[0]
digest = hashlib.new(algorithm, open(sys.argv[2], "rb").read()).digest()
print(f"{algorithm}-{base64.b64encode(digest).decode()}")
' "$1" "$2"
}

# Fetch and unpack each package@version once.
cut -f1,2 "$WORK/manifest.tsv" | sort -u | while IFS=$'\t' read -r pkg ver; do
  dir="$WORK/packs/${pkg//\//__}@$ver"
  mkdir -p "$dir"
  tarball=$(cd "$WORK" && "$NPM" pack --silent --ignore-scripts "$pkg@$ver" | tail -n 1)
  tar -xzf "$WORK/$tarball" -C "$dir"
  echo "fetched $pkg@$ver"
done

# Copy each file, refusing any whose bytes differ from the page's integrity hash.
while IFS=$'\t' read -r pkg ver path name integrity; do
  src="$WORK/packs/${pkg//\//__}@$ver/package/$path"
  [ -f "$src" ] || { echo "FAIL $pkg@$ver has no $path" >&2; exit 1; }
  actual=$(sri "$integrity" "$src")
  if [ "$actual" != "$integrity" ]; then
    echo "FAIL $pkg@$ver/$path: $actual != page integrity $integrity" >&2
    exit 1
  fi
  cp "$src" "$WORK/out/$name"
  echo "ok   $name  $integrity"
done < "$WORK/manifest.tsv"

# LICENSES: each package's own license file. A package whose tarball ships none (e.g.
# @graphiql/plugin-explorer) gets the license of a package from the same source repository
# (the graphql/graphiql monorepo's LICENSE, shipped in the graphiql tarball), with a note saying so.
"$PY" - "$WORK/manifest.tsv" "$WORK/packs" "$WORK/out/LICENSES" <<'PY'
import json
import sys
from pathlib import Path

manifest, packs, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
files: dict[tuple[str, str], list[str]] = {}
for line in manifest.read_text().splitlines():
    pkg, ver, _path, name, _integrity = line.split("\t")
    files.setdefault((pkg, ver), []).append(name)


def root(pkg: str, ver: str) -> Path:
    return packs / f"{pkg.replace('/', '__')}@{ver}" / "package"


def meta(pkg: str, ver: str) -> dict[str, object]:
    return json.loads((root(pkg, ver) / "package.json").read_text())


def repo(pkg: str, ver: str) -> str:
    r = meta(pkg, ver).get("repository", "")
    url = r.get("url", "") if isinstance(r, dict) else str(r)
    return url.removeprefix("git+").removesuffix(".git").split("://")[-1].lower()


def license_file(pkg: str, ver: str) -> Path | None:
    found = sorted(p for p in root(pkg, ver).iterdir() if p.name.upper().startswith(("LICENSE", "LICENCE")))
    return found[0] if found else None


parts = [
    "Third-party files in this folder, vendored unmodified from the npm registry by\n"
    "scripts/vendor-graphiql.sh (byte-identical to the unpkg URLs in Strawberry's GraphiQL page).\n"
]
for (pkg, ver), names in files.items():
    lic = meta(pkg, ver).get("license", "UNKNOWN")
    header = f"{pkg}@{ver} (license: {lic})\nfiles: {', '.join(names)}\n"
    text = license_file(pkg, ver)
    note = ""
    if text is None:
        donors = [
            (p, v) for (p, v) in files
            if (p, v) != (pkg, ver) and repo(p, v) == repo(pkg, ver) and license_file(p, v)
        ]
        if not donors:
            sys.exit(f"{pkg}@{ver} ships no license file and no sibling package has one")
        p, v = donors[0]
        text = license_file(p, v)
        note = (f"note: the {pkg} tarball ships no license file; this is the LICENSE of its source\n"
                f"repository ({repo(pkg, ver)}), as shipped in {p}@{v}.\n")
    assert text is not None
    parts.append("=" * 78 + "\n" + header + note + "-" * 78 + "\n" + text.read_text().strip() + "\n")
out.write_text("\n".join(parts))
PY

mkdir -p "$DEST"
find "$DEST" -mindepth 1 -maxdepth 1 -type f -delete
cp "$WORK/out/"* "$DEST/"
echo "vendored $(wc -l < "$WORK/manifest.tsv") files + LICENSES into ${DEST#"$ROOT"/} ($(du -sh "$DEST" | cut -f1))"
