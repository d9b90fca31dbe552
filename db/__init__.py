"""Persistence: tables, the territory registry, one engine per database server, schema routing."""
