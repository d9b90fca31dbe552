"""The graphql-http package's server audits (GraphQL over HTTP) against the real app, live.

Every MUST and every SHOULD audit must pass; MAY audits are printed but not required. The Node
script (tests/server/http-audit/audit.mjs, pinned by its package-lock.json) prints one JSON line
per audit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

AUDIT_DIR = Path(__file__).parent / "http-audit"


@pytest.fixture(scope="module")
def base_url(live_url: str) -> str:
    return live_url


def _install() -> None:
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=AUDIT_DIR,
            check=True,
            timeout=180,
        )


@pytest.mark.timeout(240)
def test_graphql_http_audits_pass(base_url: str) -> None:
    assert shutil.which("node"), "Node.js 20 is required"
    assert shutil.which("npm"), "npm is required"
    _install()
    run = subprocess.run(
        ["node", "audit.mjs", f"{base_url}/graphql"],
        cwd=AUDIT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    results = [line for line in lines if "id" in line]
    summary = next(line for line in lines if "summary" in line)
    print(json.dumps(summary))  # visible with -s, and in CI logs on failure
    failed = [r for r in results if r["status"] in ("error", "warn")]
    assert not failed, json.dumps(failed, indent=1)
    assert run.returncode == 0, run.stderr
    assert summary["summary"]["error"] == summary["summary"]["warn"] == 0
    assert len(results) == summary["total"] > 40
