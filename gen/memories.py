"""The memory boundary of the generated engine (``apsq-rae generate --memories``).

With ``behavioural`` (the default) each bank is a Verilog array inside the engine, which FPGA
flows map to block RAM. With ``macro`` each bank is an instance of a separate 1R1W memory
module, ``<name>_sram_<width>x<depth>``, whose behavioural model the generator writes into
its own file, ``<module>.v``, for the integrator to replace with an SRAM macro or a wrapper
around one. This module names that module, writes its model and describes the memories for
the manifest.
"""

from apsq_rae.hdl.banks import macro_ports, row_layout


__all__ = ["MEMORY_CHOICES", "check_memories", "macro_name", "model_text", "memory_table"]


#: ``--memories`` values; the first is the default.
MEMORY_CHOICES = ("behavioural", "macro")


def check_memories(memories):
    """Refuse a ``--memories`` value other than those of :data:`MEMORY_CHOICES`.

    Raises
    ------
    ValueError
        One line naming ``--memories``, the value and the legal ones.
    """
    if memories not in MEMORY_CHOICES:
        raise ValueError(f"--memories = {memories!r} is not one of {', '.join(MEMORY_CHOICES)}")
    return memories


def macro_name(params, name):
    """``<name>_sram_<width>x<depth>``: the bank module of engine ``name`` (width in bits)."""
    return f"{name}_sram_{row_layout(params).size}x{params.depth}"


def model_text(params, name):
    """Verilog of the bank module's behavioural model (deterministic, no initial values)."""
    module = macro_name(params, name)
    ports = macro_ports(params)
    width = row_layout(params).size

    def decl(port, direction, bits):
        kind = "input" if direction == "in" else "output reg"
        return f"  {kind} {'' if bits == 1 else f'[{bits - 1}:0] '}{port};"

    return "\n".join([
        f"// {module}: behavioural model of one bank of {name} (apsq-rae generate "
        f"--memories macro).",
        f"// A 1R1W synchronous memory of {params.depth} words of {width} bits. Replace this "
        f"file with your SRAM",
        "// macro, or a wrapper around one, that keeps this port list and this behaviour:",
        "// on a rising edge of clk with rd_en = 1, rd_data becomes the word at rd_addr as it "
        "was",
        "// before that edge (a write to the same word on that edge is not seen; the engine "
        "never",
        "// uses such a read), and rd_data holds until the next read; with wr_en = 1, wr_data "
        "is",
        "// written at wr_addr. Read latency 1 clock. Contents after power-up: any value.",
        f"module {module}({', '.join(port for port, _, _ in ports)});",
        *(decl(*port) for port in ports),
        f"  reg [{width - 1}:0] mem [0:{params.depth - 1}];",
        "  always @(posedge clk) begin",
        "    if (wr_en)",
        "      mem[wr_addr] <= wr_data;",
        "    if (rd_en)",
        "      rd_data <= mem[rd_addr];",
        "  end",
        "endmodule",
        ""])


def memory_table(params, name, memories="behavioural"):
    """The manifest's ``memories`` list: one entry per bank (``instance``, ``module`` (the
    macro's name, or ``null`` when the bank is a Verilog array inside the engine), ``kind``,
    ``width``, ``depth``, ``ports``, ``read_latency``)."""
    check_memories(memories)
    width = row_layout(params).size
    module = macro_name(params, name) if memories == "macro" else None
    return [{"instance": f"{name}_engine_banks.bank{b}", "module": module, "kind": memories,
             "width": width, "depth": params.depth,
             "ports": [{"name": n, "direction": d, "width": w}
                       for n, d, w in macro_ports(params)],
             "read_latency": 1}
            for b in range(params.max_group_size)]
