"""Per-document limits, all enforced before a single resolver runs.

Why one extension rather than Strawberry's separate limiters: the limits must share one walk of the
operation (fragments expanded once, memoised), report their own stable codes, see the request's
variables (a page size given as ``$first`` counts like a literal one), and know the caller (only
some callers may introspect).

Why in three steps: what can be counted on the bare syntax is counted before graphql-core's
validation runs, so an abusive document costs a parse and gets one coded error instead of
the validator's (up to 100) errors. Tokens are capped while parsing (graphql-core's
``max_tokens``), so an oversized document is never turned into an AST at all; aliases and
directives are counted on the parsed document, before validation; depth, cost, page sizes and
introspection need a valid document (known fields, no fragment cycles), so they are measured after.

Cost model (``MAX_QUERY_COST``): every object or list field costs 1 per time it resolves; a field's
children resolve once per item it returns. A field with a ``first``/``last`` argument returns that
many items (the default page size when absent); ``edges``/``nodes`` of a connection add no factor
of their own (the connection's page size already did); another list field returns as many items as
its longest list argument (``nodes(ids:)``), else a default page. Leaves cost nothing. Fragments are
costed once (cost is linear in the number of parents) and abstract selections are summed, which
over-estimates rather than under-estimates.

Introspection (``__schema``/``__type``) is exempt from depth and cost only because
graphql-core's ``MaxIntrospectionDepthRule`` (in the standard rules) already bounds the only
recursive part of introspection, the nesting of ``fields``/``interfaces``/``possibleTypes``; tokens,
bytes, aliases and directives still apply to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    visit,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from graph.server.policy import Policy, allows
from graph.types.relay import DEFAULT_PAGE_SIZE

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
# The resolvers refuse an oversized `first` with BAD_USER_INPUT too: one code, whichever check
# catches it (a page size can also reach a resolver outside this walk, e.g. over a WebSocket).
PAGE_SIZE_TOO_LARGE = "BAD_USER_INPUT"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"

# `_service { sdl }` (federation) prints the whole schema: it is introspection by another name, so
# the introspection policy decides who may ask for it (gateways compose from the checked-in
# schema.federation.graphql, or are trusted callers).
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "_service"})
PAGE_ARGUMENTS = ("first", "last")
CONNECTION_LIST_FIELDS = frozenset({"edges", "nodes"})


class _Counter(Visitor):
    """Counts aliases and directive uses over every definition of the document."""

    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.alias is not None:
            self.aliases += 1

    def enter_directive(self, *_args: object) -> None:
        self.directives += 1


@dataclass(slots=True)
class Measure:
    """What one walk of the selected operation found."""

    depth: int = 0
    cost: int = 0
    introspection: bool = False
    errors: list[GraphQLError] = field(default_factory=list)


@dataclass(slots=True)
class _Walker:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    max_page_size: int
    introspection: bool = False
    errors: list[GraphQLError] = field(default_factory=list)
    # Fragment name -> (depth, cost per parent instance); valid documents have no fragment cycles.
    memo: dict[str, tuple[int, int]] = field(default_factory=dict)

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType) -> tuple[int, int]:
        """(depth, cost for one instance of ``parent``) of a selection set."""
        depth = cost = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                d, c = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value) or parent
                d, c = self.selection_set(selection.selection_set, condition)
            elif isinstance(selection, FragmentSpreadNode):
                d, c = self.spread(selection)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            depth = max(depth, d)
            cost += c
        return depth, cost

    def spread(self, node: FragmentSpreadNode) -> tuple[int, int]:
        name = node.name.value
        if name not in self.memo:
            fragment = self.fragments[name]
            condition = self.schema.get_type(fragment.type_condition.name.value)
            assert condition is not None  # validation guarantees the type exists
            self.memo[name] = self.selection_set(fragment.selection_set, condition)
        return self.memo[name]

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> tuple[int, int]:
        name = node.name.value
        if name in INTROSPECTION_FIELDS:
            self.introspection = True
            return 0, 0
        definition = self._definition(parent, name)
        if definition is None or node.selection_set is None:
            return 1, 0  # a leaf, or __typename
        named = get_named_type(definition.type)
        if is_leaf_type(named):  # pragma: no cover - validation forbids selections on leaves
            return 1, 0
        factor = self._factor(node, parent, definition)
        depth, cost = self.selection_set(node.selection_set, named)
        return depth + 1, 1 + factor * cost

    @staticmethod
    def _definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            found: GraphQLField | None = parent.fields.get(name)
            return found
        return None

    def _factor(self, node: FieldNode, parent: GraphQLNamedType, definition: GraphQLField) -> int:
        """How many items ``node`` returns, as far as the document and variables tell."""
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        paged = [name for name in PAGE_ARGUMENTS if name in definition.args]
        if paged:
            # The largest page asked for (`first` and `last` together cannot return more).
            sizes: list[int] = []
            for page_argument in paged:
                value = self._value(arguments.get(page_argument))
                if not isinstance(value, int) or isinstance(value, bool):
                    continue  # absent or null: the default page; ill-typed: validation refused it
                if value > self.max_page_size:
                    self.errors.append(
                        GraphQLError(
                            f"`{page_argument}` on `{parent.name}.{node.name.value}` is {value}; "
                            f"at most {self.max_page_size} items per page.",
                            nodes=node,
                            extensions={"code": PAGE_SIZE_TOO_LARGE, "field": page_argument},
                        )
                    )
                sizes.append(max(value, 0))
            return max(sizes, default=DEFAULT_PAGE_SIZE)
        if not _is_list(definition.type):
            return 1
        if parent.name.endswith("Connection") and node.name.value in CONNECTION_LIST_FIELDS:
            return 1
        lengths = [len(v) for v in map(self._value, arguments.values()) if isinstance(v, list)]
        return max(lengths) if lengths else DEFAULT_PAGE_SIZE

    def _value(self, node: ValueNode | None) -> Any:
        """A literal's or variable's value, just enough for counting (raw, uncoerced)."""
        if node is None:
            return None
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        if isinstance(node, BooleanValueNode):
            return node.value
        return None


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, provided: object
) -> Mapping[str, Any]:
    """The operation's variables as execution will see them: coerced by graphql-core itself.

    Coercion, not the raw JSON, because execution runs on coerced values: ``6.0`` is the Int 6,
    an omitted variable takes the operation's default and an explicit null stays null. Counting
    the raw values would let ``{"n": 100.0}`` pass as a default page. When coercion fails the
    operation never executes (graphql-core reports why), so the raw values only shape the
    message the limits give alongside.
    """
    inputs = dict(provided) if isinstance(provided, Mapping) else {}
    values = get_variable_values(schema, operation.variable_definitions or (), inputs, 1)
    return inputs if isinstance(values, list) else values.coerced


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


def _error(message: str, code: str, node: Node | None = None) -> GraphQLError:
    return GraphQLError(message, nodes=node, extensions={"code": code})


def count_document(document: DocumentNode, policy: Policy) -> list[GraphQLError]:
    """The syntactic limits ``document`` breaks (aliases, directives); needs no validation.

    One error per limit, whatever the count: the point of counting before validation is that an
    abusive document gets a short answer.
    """
    limits = policy.limits
    errors: list[GraphQLError] = []
    counter = _Counter()
    visit(document, counter)
    if counter.aliases > limits.max_aliases:
        errors.append(
            _error(
                f"The document uses {counter.aliases} aliases; at most {limits.max_aliases}.",
                TOO_MANY_ALIASES,
            )
        )
    if counter.directives > limits.max_directives:
        errors.append(
            _error(
                f"The document uses {counter.directives} directives; "
                f"at most {limits.max_directives}.",
                TOO_MANY_DIRECTIVES,
            )
        )
    return errors


def measure_document(  # noqa: PLR0917 - the execution context's parts, in its order
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    policy: Policy,
    caller: Any,
) -> list[GraphQLError]:
    """The semantic limits (depth, cost, page size, introspection) a validated document breaks."""
    limits = policy.limits
    errors: list[GraphQLError] = []

    walked = _walk(schema, document, operation_name, variables, limits.max_page_size)
    if walked is None:
        return errors  # Strawberry reports the missing operation itself
    operation, walker, (depth, cost) = walked
    errors.extend(walker.errors)
    if depth > limits.max_depth:
        errors.append(
            _error(
                f"The operation is {depth} fields deep; at most {limits.max_depth}.",
                QUERY_TOO_DEEP,
                operation,
            )
        )
    if cost > limits.max_cost:
        errors.append(
            _error(
                f"The operation's estimated cost is {cost}; at most {limits.max_cost}. "
                "Ask for smaller pages (`first`) or fewer nested lists.",
                QUERY_TOO_COMPLEX,
                operation,
            )
        )
    if walker.introspection and not allows(policy.introspection, caller):
        errors.append(
            _error(
                "Introspection is not available to this caller.", INTROSPECTION_DISABLED, operation
            )
        )
    return errors


def measure(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None = None
) -> tuple[int, int]:
    """(depth, cost) of the document's only operation; for tests and the README's examples."""
    walked = _walk(schema, document, None, variables, max_page_size=10**9)
    assert walked is not None
    return walked[2]


def _walk(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: object,
    max_page_size: int,
) -> tuple[OperationDefinitionNode, _Walker, tuple[int, int]] | None:
    """The selected operation, its walker and its (depth, cost); None if there is none."""
    operation = get_operation_ast(document, operation_name)
    root = _root(schema, operation) if operation is not None else None
    if operation is None or root is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, fragments, _variables(schema, operation, variables), max_page_size)
    return operation, walker, walker.selection_set(operation.selection_set, root)


# Shared by every request and schema, like Strawberry's ValidationCache (which this replaces: the
# limits must run between parsing and validation, and ValidationCache validates unconditionally).
# Keyed by (schema, document, rules); ParserCache hands out the same document for the same text.
_validate = lru_cache(maxsize=1024)(validate_document)


class DocumentLimits(SchemaExtension):
    """Cap tokens while parsing; count aliases and directives, then validate (cached), then measure.

    It validates itself, so a schema lists it instead of ``ValidationCache``: a document over a
    syntactic limit never reaches the validator. If an earlier extension already validated, its
    errors stand and only the measuring is left.
    """

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.policy.limits.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None:
            errors = count_document(document, self.policy)
            if not errors:
                if ctx.pre_execution_errors is None:
                    ctx.pre_execution_errors = _validate(
                        ctx.schema._schema, document, tuple(ctx.validation_rules)
                    )
                if not ctx.pre_execution_errors:
                    errors = measure_document(
                        ctx.schema._schema,
                        document,
                        ctx.operation_name,
                        ctx.variables,
                        self.policy,
                        getattr(ctx.context, "caller", None),
                    )
            if errors:
                ctx.pre_execution_errors = errors
        yield
