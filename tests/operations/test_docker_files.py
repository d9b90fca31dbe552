"""docker/: the production image and compose file, checked offline (no Docker engine here).

compose.yaml is validated against the Compose specification's JSON schema (check-jsonschema's
vendored copy), and both files are checked against what the code reads: the environment variables
of unityplan/settings.py, the ports in the service URLs, the packages in pyproject.toml.
"""

from __future__ import annotations

import fnmatch
import inspect
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from graph.server import app as app_module
from unityplan.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"

SETTINGS_VARS = {name.upper() for name in Settings.model_fields}
APP_SERVICES = ("migrate", "api")
BACKING = {
    "postgres": "DATABASE_URL",
    "nats": "NATS_URL",
    "redis": "REDIS_URL",
    "ipfs": "IPFS_URL",
}
API_PORT = Settings.model_fields["port"].default
# Variables of the Python runtime itself, not of our settings.
RUNTIME_VARS = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY$", re.I)
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


# --------------------------------------------------------------------------------------------
# compose.yaml
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(COMPOSE.read_text())
    return data


# What an operator supplies for the required variables (the shape Settings parses).
REQUIRED_SAMPLES = {"JWT_PRIVATE_KEYS": "{}"}


def interpolate(value: object) -> str:
    """Compose's substitution with every variable unset: defaults used, required ones dummied."""
    return INTERPOLATION.sub(
        lambda m: m.group(3) if m.group(2) == "-" else REQUIRED_SAMPLES.get(m.group(1), "dummy"),
        str(value),
    )


def app_environment(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = compose["services"][service]["environment"]
    assert isinstance(env, dict), f"{service}: write environment as a mapping"
    return {str(k): str(v) for k, v in env.items()}


def command_option(command: list[str], *names: str) -> str:
    for i, arg in enumerate(command):
        if arg in names:
            return command[i + 1]
    raise AssertionError(f"none of {names} in {command}")


def test_compose_validates_against_the_compose_spec() -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    found = str(exe) if exe.exists() else shutil.which("check-jsonschema")
    assert found, "check-jsonschema is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run(
        [found, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_api_migrate_and_the_backing_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {*APP_SERVICES, *BACKING, "gateway"}
    assert services["postgres"]["image"].startswith("postgres:15")
    # Every backing service keeps its data in a named volume, and reports health.
    for name in BACKING:
        mounts = [str(v).split(":", 1)[0] for v in services[name].get("volumes", [])]
        assert mounts, f"{name} has no volume"
        assert all(m in compose["volumes"] for m in mounts), f"{name}: {mounts} not named volumes"
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    # The app services run the image built from docker/Dockerfile with the repository as context.
    for name in APP_SERVICES:
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
        assert services[name]["image"] == services["api"]["image"]


def test_migrate_runs_once_before_the_api(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate, api = services["migrate"], services["api"]
    assert migrate["command"] == ["unityplan", "migrate"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "unityplan" in scripts
    assert migrate.get("restart", "no") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in BACKING:
        assert api["depends_on"][name]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_is_what_settings_reads(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = app_environment(compose, service)
    assert set(env) <= SETTINGS_VARS, f"not read by Settings: {set(env) - SETTINGS_VARS}"
    assert {"UNITYPLAN_ENV", *BACKING.values()} <= set(env)
    assert env["UNITYPLAN_ENV"] == "production"
    # The values parse as Settings (types, the UNITYPLAN_ENV literal, ...).
    for key, value in env.items():
        monkeypatch.setenv(key, interpolate(value))
    settings = Settings()
    assert settings.unityplan_env == "production"
    assert settings.database_url.startswith("postgresql://")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_urls_point_at_the_compose_services(compose: dict[str, Any], service: str) -> None:
    services = compose["services"]
    env = app_environment(compose, service)
    listening = {
        "postgres": 5432,  # the image's default; compose sets no other
        "nats": int(command_option(services["nats"]["command"], "-p", "--port")),
        "redis": int(command_option(services["redis"]["command"], "--port")),
        "ipfs": 5001,  # Kubo's RPC API, the image's default
    }
    for backing, var in BACKING.items():
        url = urlsplit(interpolate(env[var]))
        assert url.hostname == backing, f"{var} names {url.hostname}, not the {backing} service"
        assert url.port == listening[backing], f"{var} port {url.port} != {listening[backing]}"
    database = urlsplit(interpolate(env["DATABASE_URL"]))
    postgres_env = services["postgres"]["environment"]
    assert database.username == postgres_env["POSTGRES_USER"]
    assert database.path == "/" + postgres_env["POSTGRES_DB"]
    # The password is the deployment's (the same variable for both), never a literal in the file.
    password = INTERPOLATION.fullmatch(str(postgres_env["POSTGRES_PASSWORD"]))
    assert password is not None
    user_info = env["DATABASE_URL"].split("://", 1)[1].rsplit("@", 1)[0]
    assert user_info == f"{database.username}:{password.group(0)}"


def test_nats_has_jetstream_and_its_healthcheck_asks_for_it(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    assert "-js" in nats["command"] or "--jetstream" in nats["command"]
    store = command_option(nats["command"], "-sd", "--store_dir")
    assert any(str(v).split(":")[1] == store for v in nats["volumes"])
    monitor = command_option(nats["command"], "-m", "--http_port")
    probe = " ".join(nats["healthcheck"]["test"])
    assert f":{monitor}/healthz?js-enabled-only=true" in probe


def test_api_publishes_the_port_it_serves(compose: dict[str, Any]) -> None:
    (mapping,) = compose["services"]["api"]["ports"]
    assert interpolate(mapping).rsplit(":", 1)[1] == str(API_PORT)


def test_gateway_serves_the_checked_in_supergraph_in_front_of_the_api(
    compose: dict[str, Any],
) -> None:
    """The router's files exist, its config forwards tokens, its subgraph is the api service."""
    gateway = compose["services"]["gateway"]
    assert gateway["image"].startswith("ghcr.io/apollographql/router:v")
    mounts = dict(str(v).removesuffix(":ro").split(":", 1)[::-1] for v in gateway["volumes"])
    command = gateway["command"]
    for flag in ("--config", "--supergraph"):
        source = COMPOSE.parent / mounts[command[command.index(flag) + 1]]
        assert source.is_file(), source
    router = YAML(typ="safe").load((COMPOSE.parent / "router.yaml").read_text())
    port = int(router["supergraph"]["listen"].rsplit(":", 1)[1])
    (mapping,) = gateway["ports"]
    assert interpolate(mapping).rsplit(":", 1)[1] == str(port)
    propagated = router["headers"]["all"]["request"]
    assert {"propagate": {"named": "authorization"}} in propagated
    assert gateway["depends_on"]["api"]["condition"] == "service_healthy"
    config = YAML(typ="safe").load((COMPOSE.parent / "supergraph.yaml").read_text())
    (subgraph,) = config["subgraphs"].values()
    assert subgraph["routing_url"] == f"http://api:{API_PORT}/graphql"
    assert (
        COMPOSE.parent / subgraph["schema"]["file"]
    ).resolve() == ROOT / "schema.federation.graphql"


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str


def instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions with line continuations joined and comments dropped."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # A comment inside a continued instruction.
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "dangling line continuation"
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text())


def final_stage(dockerfile: list[Instruction]) -> list[Instruction]:
    last_from = max(i for i, ins in enumerate(dockerfile) if ins.keyword == "FROM")
    return dockerfile[last_from:]


def exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list)
    return [str(a) for a in parsed]


def key_values(args: str) -> dict[str, str]:
    """ENV/ARG arguments: ``A=1 B="two"`` (or the legacy ``ENV A 1``)."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(w.partition("=")[::2] for w in words)


def test_multi_stage_build_on_python_311_slim(dockerfile: list[Instruction]) -> None:
    args = {
        k: v for ins in dockerfile if ins.keyword == "ARG" for k, v in key_values(ins.args).items()
    }
    bases = [ins.args.split()[0] for ins in dockerfile if ins.keyword == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
        assert image.startswith("python:3.11-slim"), image


def test_runs_as_a_non_root_user(dockerfile: list[Instruction]) -> None:
    users = [ins.args for ins in final_stage(dockerfile) if ins.keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_healthcheck_probes_healthz_on_the_served_port(dockerfile: list[Instruction]) -> None:
    (check,) = [ins.args for ins in final_stage(dockerfile) if ins.keyword == "HEALTHCHECK"]
    assert f"127.0.0.1:{API_PORT}/healthz" in check
    assert " CMD " in f" {check} "
    exposed = [ins.args for ins in final_stage(dockerfile) if ins.keyword == "EXPOSE"]
    assert exposed == [str(API_PORT)]


def test_serves_graph_app_with_uvicorn_and_workers_from_env(dockerfile: list[Instruction]) -> None:
    (cmd,) = [ins.args for ins in final_stage(dockerfile) if ins.keyword == "CMD"]
    words = shlex.split(" ".join(exec_form(cmd)))
    start = words.index("uvicorn")
    assert words[start + 1] == "graph.server.app:app"
    # uvicorn needs --factory exactly when graph.server.app.app builds the app instead of being one.
    assert ("--factory" in words) == inspect.isfunction(app_module.app)
    assert command_option(words, "--host") == "0.0.0.0"
    assert command_option(words, "--port") == str(API_PORT)
    assert command_option(words, "--workers") in ("$WORKERS", "${WORKERS}")
    assert "WORKERS" in SETTINGS_VARS


def test_no_secrets_in_the_image(dockerfile: list[Instruction]) -> None:
    for ins in dockerfile:
        if ins.keyword not in ("ENV", "ARG"):
            continue
        for name, value in key_values(ins.args).items():
            assert not SECRET_NAME.search(name), f"{ins.keyword} {name}: secrets come at run time"
            assert "password" not in value.lower()
            assert not re.search(r"://[^/\s]*:[^/\s]*@", value), f"{name} holds credentials"
    env = {
        k for ins in final_stage(dockerfile) if ins.keyword == "ENV" for k in key_values(ins.args)
    }
    # Connection URLs (which carry credentials) are not baked in; the rest is known settings.
    assert not env & set(BACKING.values())
    assert env <= SETTINGS_VARS | RUNTIME_VARS, env - SETTINGS_VARS - RUNTIME_VARS


# --------------------------------------------------------------------------------------------
# COPY sources and the build context (.dockerignore)
# --------------------------------------------------------------------------------------------


def ignore_patterns() -> list[tuple[bool, str]]:
    """(excluded, pattern) pairs of .dockerignore, in order; the last match wins."""
    patterns = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        patterns.append((not negated, line.lstrip("!").strip("/")))
    return patterns


def in_context(relative: str) -> bool:
    """Whether a repository path is sent to the builder (Docker's rules, simplified).

    A pattern matches a path or any of its parent directories; ``**/`` matches any depth.
    """
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for excluded, pattern in ignore_patterns():
        alternatives = (pattern, pattern.removeprefix("**/"))
        if any(fnmatch.fnmatchcase(p, alt) for p in prefixes for alt in alternatives):
            included = not excluded
    return included


def copy_sources(dockerfile: list[Instruction]) -> list[str]:
    sources: list[str] = []
    for ins in dockerfile:
        if ins.keyword not in ("COPY", "ADD"):
            continue
        words = shlex.split(ins.args)
        if any(w.startswith("--from") for w in words):
            continue  # From another stage, not from the repository.
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def package_dirs() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(
        d.name
        for d in ROOT.iterdir()
        if (d / "__init__.py").exists() and any(fnmatch.fnmatchcase(d.name, p) for p in include)
    )


def test_every_copy_source_exists_in_the_build_context(dockerfile: list[Instruction]) -> None:
    sources = copy_sources(dockerfile)
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert source == "." or in_context(source), f"COPY {source}: excluded by .dockerignore"


def test_build_context_holds_the_packages_and_migrations_only() -> None:
    needed = ["pyproject.toml", "alembic/global/env.py", "alembic/territory/env.py"]
    needed += [f"{d}/__init__.py" for d in package_dirs()]
    assert "unityplan/__init__.py" in needed
    for path in needed:
        assert (ROOT / path).exists(), path
        assert in_context(path), f"{path} is excluded by .dockerignore"
    for path in (
        ".venv/bin/python",
        ".run/services.json",
        ".git/HEAD",
        "tests/conftest.py",
        ".env",
        "db/.env.local",
        "unityplan/__pycache__/settings.cpython-311.pyc",
        "unityplan_graph.egg-info/PKG-INFO",
        "node_modules/x/package.json",
    ):
        assert not in_context(path), f"{path} would be sent to the builder"
