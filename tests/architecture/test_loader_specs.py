"""Loaders are declared once: a second spec under a taken name cannot even be created."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

import graph.loaders
from graph.loaders.spec import (
    DuplicateLoaderName,
    GlobalLoader,
    Scope,
    TerritoryLoader,
    declared_names,
)


async def _nothing(_conn: AsyncConnection, _scope: Scope, keys: list[uuid.UUID]) -> Sequence[None]:
    return [None] * len(keys)


async def _nothing_global(_conn: AsyncConnection, keys: list[bytes]) -> Sequence[None]:
    return [None] * len(keys)


def _area_modules() -> list[str]:
    return [
        f"graph.loaders.{m.name}"
        for m in pkgutil.iter_modules(graph.loaders.__path__)
        if m.name not in ("request", "spec")
    ]


def test_every_area_declares_its_loaders_under_its_own_name() -> None:
    declared: list[str] = []
    for name in _area_modules():
        module = importlib.import_module(name)
        area = name.rsplit(".", 1)[1]
        specs = [v for v in vars(module).values() if isinstance(v, TerritoryLoader | GlobalLoader)]
        assert specs, f"{name} declares no loader"
        for spec in specs:
            assert spec.name.startswith(f"{area}."), spec.name
            declared.append(spec.name)
    assert len(declared) == len(set(declared))
    assert set(declared) <= declared_names()


def test_a_second_territory_spec_under_a_taken_name_fails_at_declaration() -> None:
    importlib.import_module("graph.loaders.communities")
    with pytest.raises(DuplicateLoaderName, match=r"communities\.by_id"):
        TerritoryLoader("communities.by_id", _nothing, missing=None)


def test_a_second_global_spec_under_a_taken_name_fails_at_declaration() -> None:
    importlib.import_module("graph.loaders.roles")
    with pytest.raises(DuplicateLoaderName, match=r"roles\.grants_of_identity"):
        GlobalLoader("roles.grants_of_identity", _nothing_global)
