"""Files benchmark: upload and download throughput, and the API's memory while a 500 MB video
streams in and out.

Runs by hand, never in CI (timings on a shared 2-core machine are not assertions):

    .venv/bin/python benchmarks/files.py [--size-mb 500] [--ipfs-url http://127.0.0.1:5001]

It creates its own database `unityplan_bench_files` on DATABASE_URL's server, starts THIS
checkout's app with `unityplan serve` (one worker, no relay) against the IPFS node of IPFS_URL,
registers one account, then uploads a SIZE_MB "video" (an MP4 header and random bytes, generated
while it is sent: the client holds no copy either) as a GraphQL multipart request and downloads
it again (streamed, discarded; its SHA-256 compared). The API process's resident memory is
sampled every 20 ms (psutil): the figure is its peak during the upload and the download minus its
resident memory just before (after a small warm-up upload). Target: growth under 64 MB.
Throughput includes the IPFS node's own work (add, pin, cat), which runs on the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
from sqlalchemy.engine import make_url

from db.demo import seed_demo
from db.engines import Database
from db.migrate import migrate_all
from db.provisioning import ensure_database
from unityplan.devservices import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench files passphrase 42"
BOUNDARY = "bench-files-boundary"
UPLOAD = (
    "mutation($input: UploadFileInput!) { uploadFile(input: $input) "
    "{ file { id cid size mimeType url } } }"
)
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
CHUNK = 1 << 20


def multipart(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    operations = (
        '{"query": "' + UPLOAD.replace('"', '\\"') + '", "variables": {"input": '
        '{"file": null, "purpose": "COURSE_MATERIAL"}}}'
    )

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            f'{operations}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
            f'{{"0": ["variables.input.file"]}}\r\n--{BOUNDARY}\r\n'
            'Content-Disposition: form-data; name="0"; filename="video.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        digest.update(MP4_HEAD)
        yield MP4_HEAD
        left = size - len(MP4_HEAD)
        while left > 0:
            chunk = os.urandom(min(CHUNK, left))
            digest.update(chunk)
            left -= len(chunk)
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    return body()


class Peak:
    """The highest RSS of ``pid`` while running (sampled in a thread)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.timeline: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def _sample(self) -> None:
        began = time.monotonic()
        while not self._stop.is_set():
            rss = self.rss()
            self.peak = max(self.peak, rss)
            self.timeline.append((time.monotonic() - began, rss))
            time.sleep(0.02)

    def __enter__(self) -> Peak:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def account(client: httpx.AsyncClient, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "unityplan"), "invitation", "bootstrap", "dk", "--role", "member",
        env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    username = f"bench{uuid.uuid4().hex[:8]}"
    registered = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: RegisterInput!) { register(input: $i) { id } }",
            "variables": {
                "i": {
                    "invitationToken": out.decode().strip(),
                    "username": username,
                    "email": f"{username}@example.org",
                    "password": PASSWORD,
                }
            },
        },
    )
    assert "errors" not in registered.json(), registered.text
    logged = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            "variables": {"i": {"identifier": username, "password": PASSWORD}},
        },
    )
    return str(logged.json()["data"]["login"]["accessToken"])


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN / "unityplan"), "serve"], env=env, cwd=ROOT)


async def run(size: int, ipfs_url: str) -> None:
    dsn = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x"))
    dsn = dsn.set(database="unityplan_bench_files").render_as_string(hide_password=False)
    await ensure_database(dsn)
    db = Database({"main": dsn})
    await migrate_all(db)
    await seed_demo(db)
    await db.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "IPFS_URL": ipfs_url,
        "PORT": str(port),
        "EVENTS_RELAY": "false",
        "RATE_LIMIT": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "FILE_QUOTA_USER_BYTES": "0",
    }
    server = start_server(env)
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            for _ in range(200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            token = await account(client, env)
            auth = {"Authorization": f"Bearer {token}", "GraphQL-Require-Preflight": "1"}
            headers = {**auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
            warm = await client.post(
                "/graphql", content=multipart(2 << 20, hashlib.sha256()), headers=headers
            )
            warm_url = warm.json()["data"]["uploadFile"]["file"]["url"]
            await client.get(warm_url, headers=auth)
            peak = Peak(server.pid)
            baseline = peak.rss()
            sent = hashlib.sha256()
            with peak:
                began = time.monotonic()
                response = await client.post(
                    "/graphql", content=multipart(size, sent), headers=headers
                )
                up = time.monotonic() - began
            up_peak = peak.peak
            file = response.json()["data"]["uploadFile"]["file"]
            received = hashlib.sha256()
            peak = Peak(server.pid)
            with peak:
                began = time.monotonic()
                async with client.stream("GET", file["url"], headers=auth) as download:
                    async for chunk in download.aiter_bytes(CHUNK):
                        received.update(chunk)
                down = time.monotonic() - began
            down_peak = peak.peak
    finally:
        server.terminate()
        server.wait(timeout=30)
    mb = size / 1e6
    identical = received.hexdigest() == sent.hexdigest()
    print(f"file: {mb:.0f} MB {file['mimeType']} {file['cid']}  read back identical: {identical}")
    print(f"upload:   {mb / up:7.1f} MB/s  ({up:.1f} s)")
    print(f"download: {mb / down:7.1f} MB/s  ({down:.1f} s)")
    print(f"API RSS before: {baseline / 2**20:.1f} MiB")
    for name, top in (("upload", up_peak), ("download", down_peak)):
        growth = (top - baseline) / 2**20
        verdict = "OK" if growth < 64 else "OVER TARGET"
        top_mib = top / 2**20
        print(f"API RSS peak during {name}: {top_mib:.1f} MiB, growth {growth:.1f} MiB ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--ipfs-url", default=os.environ.get("IPFS_URL", "http://127.0.0.1:5001"))
    args = parser.parse_args()
    asyncio.run(run(args.size_mb * 1_000_000, args.ipfs_url))


if __name__ == "__main__":
    main()
