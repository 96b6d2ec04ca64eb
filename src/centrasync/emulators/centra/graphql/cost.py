"""What one request costs and which permissions it touches, read from the query's AST.

Centra publishes no complexity formula [I]. This one reproduces the two figures its docs
show (``rateLimits`` costs 10, the ``orderConnection(last: 10)`` example 50) and the rules
they state (nested lists raise the cost sharply; stock quantities other than
``freeToAllocateQuantity`` are expensive scalars):

- a field returning an object costs 1, a scalar 0, except a scalar that takes arguments
  (a formatted date, money with or without tax) or an expensive stock quantity: 1;
- connection and ``PageInfo`` wrappers cost nothing themselves;
- a list multiplies its item's cost by its size: ``limit`` (its default when not given),
  else 10; a connection's ``edges`` by ``first`` or ``last``, else 20.

``permissionsUsed`` lists the permission of every selected field, granted or not, in the
order the query names them, as Centra's answers do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

__all__ = ["Analysis", "analyse"]

UNBOUNDED_LIST_SIZE = 10
CONNECTION_SIZE = 20
_EXPENSIVE_OWNERS = {"Stock", "StockTotals"}
_FREE_STOCK = "freeToAllocateQuantity"

PermissionOf = Callable[[str, str], str | None]


@dataclass
class Analysis:
    complexity: int = 0
    mutations: int = 0
    permissions: list[str] = field(default_factory=list)

    def touch(self, permission: str | None) -> None:
        if permission is not None and permission not in self.permissions:
            self.permissions.append(permission)


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues | None,
    permission_of: PermissionOf,
) -> Analysis:
    analysis = Analysis()
    walker = _Walker(schema, fragments, variables, permission_of, analysis)
    if operation.operation is OperationType.MUTATION:
        root = schema.mutation_type
        analysis.mutations = sum(
            1 for node in operation.selection_set.selections if isinstance(node, FieldNode)
        )
    else:
        root = schema.query_type
    if root is not None:
        analysis.complexity = walker.selection_cost(operation.selection_set, root, None)
    return analysis


def _is_connection(named: GraphQLNamedType) -> bool:
    return named.name.endswith("Connection") or named.name == "PageInfo"


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues | None,
        permission_of: PermissionOf,
        analysis: Analysis,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.permission_of = permission_of
        self.analysis = analysis

    def selection_cost(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, page: int | None
    ) -> int:
        """Cost of a selection on ``parent``; ``page`` is the enclosing connection's size."""
        total = 0
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                total += self.field_cost(node, parent, page)
            elif isinstance(node, InlineFragmentNode):
                condition = (
                    self.schema.get_type(node.type_condition.name.value)
                    if node.type_condition
                    else parent
                )
                total += self.selection_cost(node.selection_set, condition or parent, page)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    condition = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection_cost(fragment.selection_set, condition or parent, page)
        return total

    def field_cost(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        self.analysis.touch(self.permission_of(parent.name, name))
        named = get_named_type(definition.type)
        arguments = self._arguments(definition, node)
        composite = isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        if composite:
            own = 0 if _is_connection(named) else 1
        else:
            expensive = parent.name in _EXPENSIVE_OWNERS and name != _FREE_STOCK
            own = 1 if definition.args or expensive else 0
        size = page
        if _is_connection(named) and named.name != "PageInfo":
            size = arguments.get("first") or arguments.get("last") or CONNECTION_SIZE
        children = self.selection_cost(node.selection_set, named, size) if node.selection_set else 0
        if not _is_list(definition.type):
            return own + children
        if name == "edges":
            multiplier = page or CONNECTION_SIZE
        elif "limit" in definition.args:
            multiplier = arguments.get("limit") or UNBOUNDED_LIST_SIZE
        else:
            multiplier = UNBOUNDED_LIST_SIZE
        return int(multiplier) * (own + children)

    def _included(self, node: SelectionNode) -> bool:
        """``@skip`` / ``@include``: a selection left out costs nothing and touches no
        permission, as execution leaves it out."""
        try:
            skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
            include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        except GraphQLError:
            return True
        if skip is not None and skip.get("if"):
            return False
        return include is None or bool(include.get("if"))

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            # Bad arguments are reported by execution; they cost what their defaults would.
            return {}


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
