"""Mutation testing of the cocotb regression on the generated netlist (docs/mutation.md)."""
