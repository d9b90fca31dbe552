"""Strawberry object types, one module per area."""
