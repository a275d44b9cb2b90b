"""The mutation netlist of one configuration: the generated Verilog, flattened by Yosys, with a
sample of mutants selected at run time by one extra input.

Yosys reads the Verilog that ``apsq-rae generate`` writes, flattens it and keeps its memories
as memories (``proc; flatten; memory -nomap``), then simplifies it as mcy's ``prep`` does
(``opt -noff -keepdc``: identical cells merged, constants folded; flip-flops and their resets
untouched; not ``wreduce``, which cuts flip-flops into slices that the equivalence check's
``expose -evert-dff`` cannot turn into ports). Without it, every use of an expression in
the Amaranth source has its own copy of the logic in the Verilog (the quantizer's shifter
appears once per comparison), and a mutant in one copy is a mutant of logic that synthesis
merges away. ``mutate -list`` then draws an even sample of
mutations over every cell output bit (the modes of mcy: ``inv``, ``const0``, ``const1``,
``cnot0``, ``cnot1``; an even share of the sample per mode), and every mutation is applied to one netlist behind ``mutsel``: mutant
``k`` is active when ``mutsel == k``, and ``mutsel == 0`` is the unmutated engine. One
compilation serves every mutant.

Files written in the work directory (YoWASP's Yosys runs there, on relative paths):
``apsq_rae.v`` (the generated Verilog), ``design.il`` (flattened), ``mutations.ys`` (the
list), ``mutated.v`` (the netlist with ``mutsel``), ``netlist.log``.
"""

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from apsq_rae.area.yosys import yosys_command
from apsq_rae.gen.generate import generate_verilog


__all__ = ["MODES", "TOPLEVEL", "Mutation", "prepare", "parse_mutations"]


#: Mutation modes (mcy's): invert a bit, tie it to 0 or 1, or invert it only when another bit
#: of the same cell's inputs is 0 (``cnot0``) or 1 (``cnot1``).
MODES = ("inv", "const0", "const1", "cnot0", "cnot1")
#: Module name of the engine in the generated Verilog and in the mutation netlist.
TOPLEVEL = "apsq_rae"


@dataclass(frozen=True)
class Mutation:
    """One mutant.

    Members
    -------
    index : int
        The ``mutsel`` value that activates it (1 and up; 0 is the engine itself).
    mode : str
        One of :data:`MODES`.
    cell : str
        Yosys name of the mutated cell in the flattened netlist.
    wire, bit : str, int
        The driven wire (hierarchical, e.g. ``engine.quant.$828``) and its bit.
    verilog_line : int or None
        Line of the generated Verilog (``apsq_rae.v``) the mutated cell came from.
    command : str
        The ``mutate`` command that applies it (without the ``-ctrl`` option).
    """
    index: int
    mode: str
    cell: str
    wire: str
    bit: int
    verilog_line: object
    command: str


def parse_mutations(text):
    """The :class:`Mutation` list of ``mutate -ctrl mutsel W k ...`` lines (a ``none``
    entry is skipped)."""
    out = []
    for line in text.splitlines():
        words = shlex.split(line.replace("\\", "\\\\"))
        if not words or words[0] != "mutate":
            continue
        opts, srcs, plain = {}, [], []
        i = 1
        while i < len(words):
            key = words[i]
            if key == "-ctrl":
                opts["ctrl"] = int(words[i + 3])
                i += 4
                continue
            value = words[i + 1]
            if key == "-src":
                srcs.append(value)
            else:
                opts[key[1:]] = value
            if key not in ("-src", "-wire", "-wirebit"):
                plain += [key, value]
            i += 2
        if opts["mode"] == "none":
            continue
        line_no = None
        for src in reversed(srcs):          # the cell's own location comes last
            match = re.match(r".*\.v:(\d+)\.", src)
            if match:
                line_no = int(match.group(1))
                break
        command = "mutate " + " ".join(plain)
        out.append(Mutation(index=opts["ctrl"], mode=opts["mode"], cell=opts.get("cell", ""),
                            wire=opts.get("wire", ""), bit=int(opts.get("wirebit", 0)),
                            verilog_line=line_no, command=command))
    return out


def _yosys(workdir, script, log, timeout=600):
    (workdir / f"{log}.ys").write_text(script)
    proc = subprocess.run([yosys_command(), "-q", "-l", f"{log}.log", f"{log}.ys"], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-10:])
        raise RuntimeError(f"yosys ({log}.ys in {workdir}) exited {proc.returncode}:\n{tail}")


#: Ports of memory cells whose mutants are left out: a memory's clocks (a mutated clock is
#: another clocking scheme, not a logic fault) and its read ports' asynchronous reset (Yosys
#: cannot write a ROM read port with a non-constant one back as Verilog).
_MEMORY_CONTROL = re.compile(r" -port (RD|WR)_(CLK|ARST)\b")


def prepare(params, pipeline, workdir, *, count, seed):
    """Write the mutation netlist of ``params`` at ``pipeline`` into ``workdir``.

    Parameters
    ----------
    params : RAEParams
    pipeline : str
    workdir : Path
    count : int
        Mutants to draw (an even sample over the netlist's cell output bits).
    seed : int
        Seed of Yosys' sample.

    Returns
    -------
    (list of Mutation, dict)
        The mutants and the manifest of the generated Verilog.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    text, manifest = generate_verilog(params, TOPLEVEL, pipeline=pipeline)
    (workdir / f"{TOPLEVEL}.v").write_text(text)
    # `mutate -list` keeps only the last of several -mode filters: one list per mode, an even
    # share of the count each, numbered here 1, 2, ... in mode order. Each list is drawn
    # with room to drop the mutations of memory clocks and asynchronous resets (below).
    shares = [count // len(MODES) + (i < count % len(MODES)) for i in range(len(MODES))]
    listing = [f"mutate -list {2 * n + 8} -seed {seed} -mode {mode} -o list_{mode}.ys"
               for mode, n in zip(MODES, shares) if n]
    _yosys(workdir, "\n".join([
        f"read_verilog {TOPLEVEL}.v",
        f"hierarchy -check -top {TOPLEVEL}",
        "proc", "flatten", "memory -nomap", "opt -noff -keepdc", "opt_clean",
        "write_rtlil design.il", *listing, ""]), "netlist")
    width = max(8, count.bit_length())
    lines = []
    for mode, n in zip(MODES, shares):
        if n:
            drawn = [line for line in (workdir / f"list_{mode}.ys").read_text().splitlines()
                     if line.startswith("mutate ") and not _MEMORY_CONTROL.search(line)]
            if len(drawn) < n:
                raise RuntimeError(f"yosys listed {len(drawn)} {mode} mutations, {n} asked "
                                   f"(see {workdir / f'list_{mode}.ys'})")
            lines += drawn[:n]
    numbered = [f"mutate -ctrl mutsel {width} {k} {line[len('mutate '):]}"
                for k, line in enumerate(lines, 1)]
    (workdir / "mutations.ys").write_text("\n".join(numbered) + "\n")
    _yosys(workdir, "\n".join([
        "read_rtlil design.il", "script mutations.ys", "opt_clean",
        "write_verilog -noattr mutated.v", ""]), "mutated")
    mutations = parse_mutations((workdir / "mutations.ys").read_text())
    if len(mutations) != count:
        raise RuntimeError(f"yosys listed {len(mutations)} mutations, {count} asked "
                           f"(see {workdir / 'mutations.ys'})")
    return mutations, manifest
