"""The CID computed from the bytes equals the node's own answer at the edges of its layout."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator

import pytest

from files.cids import CHUNK_SIZE, CidBuilder
from files.ipfs import IpfsNode
from unityplan.settings import Settings


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[IpfsNode]:
    ipfs = IpfsNode(settings.ipfs_url)
    yield ipfs
    await ipfs.close()


@pytest.mark.parametrize(
    "size",
    [1, 1000, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7, 174 * CHUNK_SIZE + 1],
)
async def test_local_cid_equals_the_nodes(node: IpfsNode, size: int) -> None:
    data = os.urandom(size)
    builder = CidBuilder()
    for i in range(0, size, 65_536):
        builder.update(data[i : i + 65_536])
    with tempfile.NamedTemporaryFile() as file:
        file.write(data)
        file.flush()
        added = await node.add(file.name, size)
    try:
        assert added == builder.cid()
    finally:
        await node.unpin(added)
