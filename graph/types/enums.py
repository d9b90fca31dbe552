"""GraphQL enums over the domain's enums, each value described."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

E = TypeVar("E", bound=Enum)


def described_enum(
    cls: type[E], *, name: str, description: str, values: Mapping[E, str]
) -> type[E]:
    """``strawberry.enum`` for a domain enum, with a description for each value.

    Domain enums stay free of GraphQL, so the per-value descriptions ``strawberry.enum_value``
    would carry are attached to Strawberry's definition here; a value left undescribed fails at
    import time.
    """
    strawberry.enum(cls, name=name, description=description)
    definition = getattr(cls, "__strawberry_definition__", None)
    assert isinstance(definition, StrawberryEnumDefinition)
    for value in definition.values:
        value.description = values[cls[value.name]]
    return cls
