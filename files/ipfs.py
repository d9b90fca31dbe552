"""The IPFS node, through aioipfs (the Kubo RPC API, which js-ipfs serves too), with a timeout on
every call.

Why timeouts everywhere: a node asked for a CID it does not hold searches the network for it and,
offline or not, never answers (``cat``, ``pin add``); a stopped node refuses at once, a hung one
does not. Every call here ends within its timeout and raises ``StorageUnavailable`` (HTTP 503,
``STORAGE_UNAVAILABLE``), so a request never hangs on IPFS and the API recovers by itself when the
node returns (a new HTTP connection is opened per failure; nothing is cached as "down").

Why not aioipfs's ``cat``: it reads the whole file into memory. Streaming reads post to the same
RPC endpoint through the client's own session and yield the response body chunk by chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aioipfs

from domain.files import StorageUnavailable
from files.cids import normalise

log = logging.getLogger("unityplan.files.ipfs")

# The only layout files/cids.py reproduces: CIDv1 (hence raw leaves), 256 KiB chunks, SHA-256.
ADD_OPTIONS: dict[str, Any] = {
    "cid_version": 1,
    "raw_leaves": True,
    "chunker": "size-262144",
    "hash": "sha2-256",
    "pin": True,
}
READ_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class IpfsTimeouts:
    """``call``: any call's bound (seconds); ``add`` gets ``call`` plus one second per
    ``add_bytes_per_second`` of the file, so a 500 MB video has time but a dead node does not."""

    call: float = 10.0
    add_bytes_per_second: int = 5_000_000


class IpfsNode:
    """One process's client of the node at ``url`` (``http://host:port`` of the RPC API)."""

    def __init__(self, url: str, timeouts: IpfsTimeouts | None = None) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5001
        self.scheme = parts.scheme or "http"
        self.timeouts = timeouts or IpfsTimeouts()
        self._client: Any = None

    def _api(self) -> Any:
        # Built on first use: aioipfs opens its HTTP session on the running event loop.
        if self._client is None:
            self._client = aioipfs.AsyncIPFS(host=self.host, port=self.port, scheme=self.scheme)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _reset(self) -> None:
        """Drop the session after a failure: the next call starts on fresh connections."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a broken session may fail too
                await client.close()

    async def _failed(self, what: str, error: BaseException) -> StorageUnavailable:
        log.warning("IPFS %s failed: %s", what, type(error).__name__, exc_info=error)
        await self._reset()
        return StorageUnavailable("File storage is unavailable; try again in a moment.")

    async def ready(self) -> bool:
        """Whether the node answers ``id`` within the call timeout."""
        try:
            async with asyncio.timeout(self.timeouts.call):
                found = await self._api().core.id()
        except Exception as error:
            await self._failed("id", error)
            return False
        return isinstance(found, dict) and "ID" in found

    async def add(self, path: str, size: int) -> str:
        """Add and pin the file at ``path``; its CIDv1 base32 as the node computed it.

        The body is streamed from disk (aiohttp's file payload). aioipfs's own ``add`` wraps the
        file in a payload that current aiohttp rejects, so the form is built here and posted to
        the same endpoint through the client's session.
        """
        limit = self.timeouts.call + size / self.timeouts.add_bytes_per_second
        api = self._api()
        params = {**api.core._build_add_params(**ADD_OPTIONS), "progress": "false"}
        root: str | None = None
        try:
            async with asyncio.timeout(limit):
                with open(path, "rb") as stream:  # noqa: ASYNC230 (aiohttp reads it in chunks)
                    form = aiohttp.FormData()
                    form.add_field(
                        "file", stream, filename="file", content_type="application/octet-stream"
                    )
                    async with api.session.post(api.core.url("add"), data=form, params=params) as r:
                        if r.status != 200:
                            raise ValueError(f"add answered {r.status}: {(await r.text())[:200]}")
                        async for line in r.content:
                            entry = json.loads(line) if line.strip() else {}
                            if entry.get("Hash"):
                                root = str(entry["Hash"])
        except Exception as error:
            raise await self._failed("add", error) from error
        if root is None:
            raise await self._failed("add", ValueError("no hash in the node's answer"))
        return normalise(root)

    async def pin(self, cid: str) -> None:
        try:
            async with asyncio.timeout(self.timeouts.call):
                async for _ in self._api().pin.add(cid, progress=False):
                    pass
        except Exception as error:
            raise await self._failed("pin add", error) from error

    async def unpin(self, cid: str) -> bool:
        """Remove the pin of ``cid``; False when it was not pinned."""
        try:
            async with asyncio.timeout(self.timeouts.call):
                await self._api().pin.rm(cid)
        except aioipfs.APIError as error:
            if "not pinned" in str(error.message).lower():
                return False
            raise await self._failed("pin rm", error) from error
        except Exception as error:
            raise await self._failed("pin rm", error) from error
        return True

    async def pins(self) -> set[str]:
        """Every recursively pinned CID, normalised."""
        try:
            async with asyncio.timeout(self.timeouts.call):
                found = await self._api().pin.ls(pintype="recursive", quiet=True)
        except Exception as error:
            raise await self._failed("pin ls", error) from error
        return {normalise(cid) for cid in (found or {}).get("Keys", {})}

    async def read(
        self, cid: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes of ``cid`` from ``offset`` (``length`` of them, or to the end), streamed.

        The first chunk must come within the call timeout, each next one within it of the last;
        the stream is opened before this returns, so a failure raises here, not mid-response.
        """
        api = self._api()
        params: dict[str, str] = {"arg": cid, "offset": str(offset)}
        if length is not None:
            params["length"] = str(length)
        timeout = aiohttp.ClientTimeout(
            sock_connect=self.timeouts.call, sock_read=self.timeouts.call
        )
        try:
            async with asyncio.timeout(self.timeouts.call):
                response = await api.session.post(
                    api.core.url("cat"), params=params, timeout=timeout
                )
                if response.status != 200:
                    text = await response.text()
                    response.release()
                    raise ValueError(f"cat answered {response.status}: {text[:200]}")
                first = await response.content.read(READ_CHUNK)
        except Exception as error:
            raise await self._failed("cat", error) from error
        return self._rest(response, first)

    async def _rest(self, response: aiohttp.ClientResponse, first: bytes) -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in response.content.iter_chunked(READ_CHUNK):
                yield chunk
        except Exception as error:
            raise await self._failed("cat", error) from error
        finally:
            response.close()
