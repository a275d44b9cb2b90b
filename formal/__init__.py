"""Formal checks of the engine with SymbiYosys (docs/formal.md)."""
