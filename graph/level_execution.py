"""Queries executed one level of the selection at a time, for every object of that level at once.

Why: graphql-core completes a response one field of one object at a time: a resolve info, a
path, a resolver call, a completion and an awaitable check for each of the ~29,000 fields of a
forum page (forums -> topics -> comments -> author -> badges), which left the API ten times
slower than one hand-written statement answering the same request (benchmarks/forums.py). Most
of those fields are plain attributes of objects a page resolver already built. Here a query runs
breadth-first instead: at each level every field is resolved for all the level's objects in one
pass (an attribute read for a plain field, one call per object for a field with a resolver, one
call for all of them for a field declared ``batched_by``), then each field's values are completed
for the whole level (scalars coerced in one pass, objects' sub-selections as the next level).
Resolvers are the same functions, called with the same arguments and a resolve info with the
same path, so authorization, loaders and statement counts stay exactly as they are: every
resolver of a level is called before any is awaited, so their loaders batch as before.

It answers only what it answers exactly as the standard executor would, and hands everything
else to it (the same request, its loaders' caches warm): mutations and subscriptions, documents
that select an interface or union (``node``, ``_entities``) or introspection, ``@defer`` and
``@stream``, field middleware, and any request in which a resolver raises, returns an error or
breaks a non-null field (so errors, their paths and null propagation are graphql-core's own).
Each request's outcome is left on the context (``execution``) for the metrics.

Strict equality with the standard executor is what tests/execution checks, document by document.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from itertools import accumulate, chain, repeat
from operator import attrgetter, is_not
from types import NoneType
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import DeferUsage, FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.types.arguments import convert_arguments

from graph.shared_events import SharedEventExecutor

LEVELS = "levels"
"""``Context.execution`` of a request this executor answered."""

BATCH = "unityplan.batched_by"
"""The Strawberry field metadata key naming a field's batch resolver."""

V = TypeVar("V")
BatchResolver = Callable[..., Awaitable[Sequence[V]]]
"""``(context, sources, **arguments) -> values``: one value per source, in order; the field's
arguments by their Python names, converted as the field's resolver receives them."""


def batched_by(resolver: BatchResolver[V]) -> dict[str, object]:
    """Field metadata: under this executor, resolve the field for all objects of a level with
    one call of ``resolver`` instead of calling the field's own resolver once per object.

    The field keeps its ordinary resolver (the standard executor calls it, one object at a
    time), which should call the same function with a single source, so both answer alike. The
    field must have no permission classes or extensions: those are honoured only by the ordinary
    resolver (a schema test holds every batched field to this).
    """
    return {BATCH: resolver}


class _Fallback(Exception):
    """This request is not answered here; ``reason`` says why (a metrics label)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


PathOf = Callable[[int], Path | None]
"""The response path of the i-th object or value of a level, computed only when a resolver
needs it (for its resolve info): most levels never ask."""

_FAST_LEAVES: dict[str, type] = {"String": str, "ID": str, "Int": int, "Boolean": bool}
"""Leaf types whose values of exactly this Python type coerce to themselves."""

_ATTRIBUTE = "_is_default"
"""Strawberry's mark on a field without resolver, permissions or extensions (an attribute)."""


class LevelExecutor(SharedEventExecutor):
    """The schema's executor: queries a level at a time where it can, the standard way else."""

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> Any:
        reason = self._unsupported(serially, new_defer_usages)
        if reason is not None:
            self._record(reason)
            return super().execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )
        return self._levels_or_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )

    def _unsupported(self, serially: bool, new_defer_usages: Sequence[DeferUsage]) -> str | None:
        if self.operation.operation is not OperationType.QUERY or serially:
            return "operation"
        if new_defer_usages or self.abort_signal is not None:
            return "incremental"
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return "middleware"
        if not _plannable(self, self.operation):
            return "abstract"
        return None

    async def _levels_or_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> Any:
        try:
            rows = await self._level(root_type, grouped_field_set, [root_value], _no_path)
        except _Fallback as fallback:
            self._record(fallback.reason)
            result = super().execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )
            return await result if self.is_awaitable(result) else result
        self._record(LEVELS)
        return rows[0]

    def _record(self, outcome: str) -> None:
        if hasattr(self.context_value, "execution"):
            self.context_value.execution = outcome

    # --- one level: every field for every object

    async def _level(
        self,
        parent_type: GraphQLObjectType,
        grouped: GroupedFieldSet,
        sources: list[Any],
        path_of: PathOf,
    ) -> list[dict[str, Any]]:
        """The response objects of ``sources`` (all of ``parent_type``) for ``grouped``."""
        names: list[str] = []
        resolved: list[Sequence[Any] | Awaitable[Sequence[Any]]] = []
        fields: list[tuple[GraphQLOutputType, FieldDetailsList, PathOf]] = []
        for response_name, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                names.append(response_name)
                resolved.append([parent_type.name] * len(sources))
                fields.append((_TYPENAME, details, path_of))
                continue
            field_def = parent_type.fields.get(name)
            if field_def is None:  # the standard executor leaves it out too
                continue
            names.append(response_name)
            field_path = _field_path(path_of, response_name, parent_type.name)
            resolved.append(self._resolve(parent_type, field_def, details, sources, field_path))
            fields.append((field_def.type, details, field_path))
        values = await self._settle(resolved)
        completed: list[Sequence[Any] | Awaitable[Sequence[Any]]] = [
            self._complete(return_type, details, column, field_path)
            for (return_type, details, field_path), column in zip(fields, values, strict=True)
        ]
        columns = await self._settle(completed)
        if not names:
            return [{} for _ in sources]
        # One dict per object, built in C: every column holds one value per source.
        return list(map(dict, map(partial(zip, names), zip(*columns, strict=True))))

    def _resolve(
        self,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        details: FieldDetailsList,
        sources: list[Any],
        path_of: PathOf,
    ) -> list[Any] | Awaitable[Sequence[Any]]:
        """One field's raw values for every source: a list, or one awaitable of the list."""
        resolve = field_def.resolve
        definition = field_def.extensions.get("strawberry-definition")
        if resolve is None:
            raise _Fallback("resolver")  # not a Strawberry field (graphql-core's default)
        if (
            definition is not None
            and getattr(resolve, _ATTRIBUTE, False)
            and _reads_attributes(self)
        ):
            try:
                return list(map(attrgetter(definition.python_name), sources))
            except AttributeError:
                raise _Fallback("error") from None
        batch = None if definition is None else definition.metadata.get(BATCH)
        if batch is not None:
            arguments = self._arguments(field_def, definition, details)
            return batch(self.context_value, sources, **arguments)  # type: ignore[no-any-return]
        args = self._coerced(field_def, details)
        nodes = [d.node for d in details]
        build = self.build_resolve_info
        try:
            values = [
                resolve(source, build(field_def, nodes, parent_type, path_of(i)), **args)  # type: ignore[arg-type]
                for i, source in enumerate(sources)
            ]
        except Exception:
            raise _Fallback("error") from None
        is_awaitable = self.is_awaitable
        if not any(is_awaitable(v) for v in values):
            return values
        return _awaited(values, is_awaitable)

    def _coerced(self, field_def: GraphQLField, details: FieldDetailsList) -> dict[str, Any]:
        """The field's arguments as graphql-core coerces them for its resolver (the same for
        every object of a level)."""
        node = details[0].node
        if not (field_def.args or node.arguments):
            return {}
        try:
            return get_argument_values(
                field_def,
                node,
                self.variable_values,
                details[0].fragment_variable_values,
                self.hide_suggestions,
            )
        except Exception:
            raise _Fallback("error") from None

    def _arguments(
        self, field_def: GraphQLField, definition: Any, details: FieldDetailsList
    ) -> dict[str, Any]:
        """A batched field's arguments as its resolver would get them: Python names, values
        converted by Strawberry (enums, input types)."""
        coerced = self._coerced(field_def, details)
        if not coerced:
            return {}
        schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        try:
            converted: dict[str, Any] = convert_arguments(
                coerced,
                definition.arguments,
                scalar_registry=schema.schema_converter.scalar_registry,
                config=schema.config,
            )
        except Exception:
            raise _Fallback("error") from None
        return converted

    async def _settle(
        self, items: list[Sequence[Any] | Awaitable[Sequence[Any]]]
    ) -> list[Sequence[Any]]:
        """``items`` with every awaitable awaited together (so their loaders batch as one)."""
        settled: list[Sequence[Any]] = []
        pending: list[int] = []
        awaitables: list[Awaitable[Sequence[Any]]] = []
        for i, item in enumerate(items):
            if isinstance(item, Sequence):
                settled.append(item)
            else:
                settled.append(())
                pending.append(i)
                awaitables.append(item)
        if not pending:
            return settled
        done = await asyncio.gather(*awaitables, return_exceptions=True)
        for i, value in zip(pending, done, strict=True):
            settled[i] = _succeeded(value)
        return settled

    # --- completion: a whole column of values of one type

    def _complete(
        self,
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        values: Sequence[Any],
        path_of: PathOf,
    ) -> list[Any] | Awaitable[list[Any]]:
        if isinstance(return_type, GraphQLNonNull):
            inner = self._complete(return_type.of_type, details, values, path_of)
            if isinstance(inner, list):
                return _non_null(inner)
            return _non_null_later(inner)
        if isinstance(return_type, GraphQLList):
            return self._complete_lists(return_type, details, values, path_of)
        if is_leaf_type(return_type):
            return _leaves(return_type, values)
        if is_object_type(return_type):
            return self._complete_objects(return_type, details, values, path_of)
        raise _Fallback("abstract")

    def _complete_lists(
        self,
        return_type: GraphQLList[Any],
        details: FieldDetailsList,
        values: Sequence[Any],
        path_of: PathOf,
    ) -> list[Any] | Awaitable[list[Any]]:
        if any(d.name.value == "stream" for f in details for d in f.node.directives or ()):
            raise _Fallback("incremental")  # @include/@skip were applied when fields were collected
        lists = _as_lists(values)
        if all(map(is_not, lists, repeat(None))):
            items = list(chain.from_iterable(lists))  # type: ignore[arg-type]
            starts = list(accumulate(map(len, lists), initial=0))  # type: ignore[arg-type]
        else:
            items = [item for found in lists if found is not None for item in found]
            sizes = (0 if found is None else len(found) for found in lists)
            starts = list(accumulate(sizes, initial=0))

        def item_path(i: int) -> Path | None:
            owner = bisect_right(starts, i) - 1  # the last start <= i: a non-empty list's
            return Path(path_of(owner), i - starts[owner], None)

        completed = self._complete(return_type.of_type, details, items, item_path)
        if isinstance(completed, list):
            return _regroup(lists, starts, completed)

        async def regroup_later() -> list[Any]:
            return _regroup(lists, starts, await completed)

        return regroup_later()

    async def _complete_objects(
        self,
        return_type: GraphQLObjectType,
        details: FieldDetailsList,
        values: Sequence[Any],
        path_of: PathOf,
    ) -> list[Any]:
        if all(map(is_not, values, repeat(None))):  # by identity, in C
            present, objects = list(range(len(values))), list(values)
        else:
            present = [i for i, value in enumerate(values) if value is not None]
            objects = [values[i] for i in present]
        distinct, where = _distinct(objects, present)
        _check_types(return_type, distinct)
        grouped, new_defer_usages, _ = self.collect_subfields(return_type, details)
        if new_defer_usages:
            raise _Fallback("incremental")
        rows = await self._level(return_type, grouped, distinct, lambda k: path_of(where[k]))
        if distinct is objects and len(present) == len(values):
            return rows
        out: list[Any] = [None] * len(values)
        if distinct is objects:
            for i, row in zip(present, rows, strict=True):
                out[i] = row
            return out
        row_of = dict(zip(map(id, distinct), rows, strict=True))
        shared = list(map(row_of.__getitem__, map(id, objects)))
        if len(present) == len(values):
            return shared
        for i, row in zip(present, shared, strict=True):
            out[i] = row
        return out


def _distinct(objects: list[Any], present: list[int]) -> tuple[list[Any], list[int]]:
    """The objects to complete and the value index of each.

    An object met at several places of a level (one badge beside the posts of all its holders)
    is completed once, at its first place; the places share its response object, which JSON
    cannot tell from copies.
    """
    if len(set(map(id, objects))) == len(objects):
        return objects, present
    # Each object's first index: built from the end, so earlier indexes overwrite later ones.
    backwards = range(len(objects) - 1, -1, -1)
    first = sorted(dict(zip(map(id, reversed(objects)), backwards, strict=True)).values())
    return [objects[j] for j in first], [present[j] for j in first]


def _check_types(return_type: GraphQLObjectType, objects: list[Any]) -> None:
    """graphql-core's ``is_type_of`` check. Strawberry's own (isinstance) reads no resolve info;
    a hand-written one that does fails here, and the standard executor answers."""
    is_type_of = return_type.is_type_of
    if is_type_of is None:
        return
    try:
        fits = all(is_type_of(obj, None) is True for obj in objects)  # type: ignore[arg-type]
    except Exception:
        raise _Fallback("error") from None
    if not fits:
        raise _Fallback("error")


_TYPENAME = GraphQLNonNull(GraphQLString)
"""What ``__typename`` completes as."""


def _no_path(_i: int) -> Path | None:
    return None


def _field_path(path_of: PathOf, key: str, typename: str) -> PathOf:
    return lambda i: Path(path_of(i), key, typename)


def _reads_attributes(executor: LevelExecutor) -> bool:
    """Whether Strawberry's attribute fields read ``getattr(source, python_name)`` (its default
    resolver, unless a schema configured another)."""
    config = getattr(executor.schema, "_strawberry_schema", None)
    resolver = getattr(getattr(config, "config", None), "default_resolver", getattr)
    return resolver is getattr


async def _awaited(values: list[Any], is_awaitable: Callable[[Any], bool]) -> list[Any]:
    pending = [i for i, value in enumerate(values) if is_awaitable(value)]
    done = await asyncio.gather(*(values[i] for i in pending), return_exceptions=True)
    for i, value in zip(pending, done, strict=True):
        values[i] = _succeeded(value)
    return values


def _succeeded(value: Any) -> Any:
    """An awaited value, or the fallback its failure calls for (gathered with
    ``return_exceptions``, so no sibling is left running when one fails)."""
    if isinstance(value, _Fallback):
        raise value
    if isinstance(value, BaseException):
        if not isinstance(value, Exception):
            raise value  # cancellation and the like pass through
        raise _Fallback("error")
    return value


def _non_null(values: list[Any]) -> list[Any]:
    # Completed values are dicts, lists and scalars: ``in`` compares them in C.
    if None in values:
        raise _Fallback("error")  # graphql-core's error and null propagation
    return values


async def _non_null_later(values: Awaitable[list[Any]]) -> list[Any]:
    return _non_null(await values)


def _leaves(return_type: GraphQLLeafType, values: Sequence[Any]) -> list[Any]:
    coerce = return_type.coerce_output_value
    exact = _FAST_LEAVES.get(return_type.name)
    if exact is not None and set(map(type, values)) <= {exact, NoneType}:
        return list(values)  # every value is its own output: one pass in C
    out: list[Any] = []
    append = out.append
    try:
        for value in values:
            if value is None or value.__class__ is exact:
                append(value)
                continue
            coerced = coerce(value)
            if coerced is None or coerced is Undefined:
                raise _Fallback("error")
            append(coerced)
    except _Fallback:
        raise
    except Exception:
        raise _Fallback("error") from None
    return out


def _as_lists(values: Sequence[Any]) -> list[Sequence[Any] | None]:
    """Each value of a list field as a sequence (or None); anything else is graphql-core's error."""
    if set(map(type, values)) <= {list, tuple, NoneType}:
        return list(values)
    lists: list[Sequence[Any] | None] = []
    for value in values:
        if value is None or isinstance(value, list | tuple):
            lists.append(value)
        elif isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
            lists.append(list(value))
        else:
            raise _Fallback("error")  # not a list: graphql-core reports it
    return lists


def _regroup(
    lists: list[Sequence[Any] | None], starts: list[int], completed: list[Any]
) -> list[Any]:
    return [
        None if found is None else completed[starts[i] : starts[i + 1]]
        for i, found in enumerate(lists)
    ]


# --- which operations a level at a time can answer, decided once per document

_PLANNABLE: OrderedDict[int, tuple[OperationDefinitionNode, bool]] = OrderedDict()
_PLANNABLE_SIZE = 1024


def _plannable(executor: LevelExecutor, operation: OperationDefinitionNode) -> bool:
    """Whether no field of ``operation`` returns an interface or union, or is introspection.

    Decided from the document alone (fragments followed), before anything runs, so a document
    the standard executor must answer costs no wasted level. Kept per operation node (the parser
    cache keeps nodes alive; the entry holds its node, so its id cannot be reused meanwhile).
    """
    key = id(operation)
    known = _PLANNABLE.get(key)
    if known is not None and known[0] is operation:
        _PLANNABLE.move_to_end(key)
        return known[1]
    root = executor.schema.query_type
    answer = root is not None and _selection_ok(executor, root, operation.selection_set, set())
    _PLANNABLE[key] = (operation, answer)
    while len(_PLANNABLE) > _PLANNABLE_SIZE:
        _PLANNABLE.popitem(last=False)
    return answer


def _selection_ok(
    executor: LevelExecutor,
    parent_type: GraphQLObjectType,
    selection_set: SelectionSetNode,
    visited: set[str],
) -> bool:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name == "__typename":
                continue
            if name.startswith("__"):
                return False
            field_def = parent_type.fields.get(name)
            if field_def is None:
                continue
            named = get_named_type(field_def.type)
            if is_abstract_type(named):
                return False
            if (
                selection.selection_set is not None
                and isinstance(named, GraphQLObjectType)
                and not _selection_ok(executor, named, selection.selection_set, visited)
            ):
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _selection_ok(executor, parent_type, selection.selection_set, visited):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = executor.fragment_definitions.get(name)
            if fragment is None or name in visited:
                continue
            if not _selection_ok(executor, parent_type, fragment.selection_set, visited | {name}):
                return False
    return True
