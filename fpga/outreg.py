"""Fold fabric flip-flops on ECP5 block RAM outputs into the block RAM's own output register.

Yosys maps a synchronous read port to a ``DP16KD`` with ``REGMODE = NOREG`` and leaves a
register that follows the read data (the engine's bank output register) in the fabric, so the
block RAM's slow clock-to-output (about 5.8 ns at speed grade 6) and the route to that register
share one clock period. The ``DP16KD`` has a second register behind its read latch
(``REGMODE = OUTREG``, enabled by ``OCE``); this pass moves the fabric register there, between
Yosys and nextpnr, on the JSON netlist::

    python fpga/outreg.py top.json    # rewrites top.json, writes top.outreg.json (counts)

A read port is folded only when every data output it drives feeds exactly one ``TRELLIS_FF``
(its ``DI``, nothing else) and all those flip-flops are plain copies of the output register:
same clock as the port (rising edge), no set/reset (``LSR`` tied to 0), one common clock enable
or none, the port's own reset tied to 0. Otherwise the port is left as it is. A folded port
behaves as the fabric register did: the data appear one clock after the read latch.

This file depends on the standard library only, so the build script can run it by path.
"""

import json
import sys
from collections import defaultdict


__all__ = ["fold_output_registers", "main"]


def _is_const(bit, value=None):
    return isinstance(bit, str) and (value is None or bit == value)


def _param_str(params, name, default=""):
    return str(params.get(name, default)).strip()


def _param_int(params, name, default=0):
    value = params.get(name, default)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text, 2) if text and set(text) <= {"0", "1"} else int(text or default)


def _read_ports(cell):
    """``[(clock pin, output enable pins, reset pins, REGMODE parameters, data output pins)]``
    of a ``DP16KD``'s read ports. In the 36-bit pseudo-dual-port mode all 36 outputs belong to
    the read port B, and both REGMODE parameters must agree (nextpnr does the same for
    ``PDPW16KD``)."""
    conns = cell["connections"]
    outs = {letter: [f"DO{letter}{i}" for i in range(18) if f"DO{letter}{i}" in conns]
            for letter in "AB"}
    if _param_int(cell["parameters"], "DATA_WIDTH_A", 18) == 36:
        return [("CLKB", ("OCEA", "OCEB"), ("RSTA", "RSTB"), ("REGMODE_A", "REGMODE_B"),
                 outs["A"] + outs["B"])]
    return [(f"CLK{letter}", (f"OCE{letter}",), (f"RST{letter}",), (f"REGMODE_{letter}",),
             outs[letter]) for letter in "AB"]


def fold_output_registers(netlist):
    """Rewrite ``netlist`` (a Yosys JSON dictionary, changed in place): fold every foldable
    output register into its ``DP16KD``. Return ``(ports folded, flip-flops removed,
    ports left)``, where *ports left* counts read ports with outputs that could not be
    folded."""
    folded = removed = left = 0
    for module in netlist.get("modules", {}).values():
        f, r, l = _fold_module(module)
        folded, removed, left = folded + f, removed + r, left + l
    return folded, removed, left


def _fold_module(module):
    cells = module.get("cells", {})
    sinks = defaultdict(list)
    for name, cell in cells.items():
        for pin, bits in cell.get("connections", {}).items():
            if cell.get("port_directions", {}).get(pin) == "input":
                for bit in bits:
                    if not _is_const(bit):
                        sinks[bit].append((name, pin))
    for port in module.get("ports", {}).values():
        if port.get("direction") != "input":
            for bit in port["bits"]:
                sinks[bit].append((None, None))

    folded = removed = left = 0
    doomed = set()
    for name, cell in list(cells.items()):
        if cell.get("type") != "DP16KD":
            continue
        params, conns = cell["parameters"], cell["connections"]
        for clk_pin, oce_pins, rst_pins, mode_names, out_pins in _read_ports(cell):
            if any(_param_str(params, p, "NOREG") != "NOREG" for p in mode_names):
                continue
            used = [pin for pin in out_pins if not _is_const(conns[pin][0]) and sinks[conns[pin][0]]]
            if not used:
                continue
            plan = _plan_port(cells, sinks, cell, clk_pin, rst_pins, used)
            if plan is None:
                left += 1
                continue
            enable, moves = plan
            for pin, ff_name in moves:
                conns[pin] = list(cells[ff_name]["connections"]["Q"])
                doomed.add(ff_name)
            for pin in oce_pins:
                conns[pin] = [enable]
                cell["port_directions"][pin] = "input"
            for mode in mode_names:
                params[mode] = "OUTREG"
            folded += 1
            removed += len(moves)
    for ff_name in doomed:
        del cells[ff_name]
    return folded, removed, left


def _plan_port(cells, sinks, cell, clk_pin, rst_pins, used):
    """The common clock enable and ``[(output pin, flip-flop)]`` if every used output of the
    port feeds one plain flip-flop; ``None`` otherwise."""
    conns, params = cell["connections"], cell["parameters"]
    clock = conns.get(clk_pin, ["0"])[0]
    if _is_const(clock) or _param_str(params, f"{clk_pin}MUX", clk_pin) != clk_pin:
        return None
    if any(not _is_const(conns.get(pin, ["0"])[0], "0") for pin in rst_pins):
        return None
    enable = None
    moves = []
    for pin in used:
        users = sinks[conns[pin][0]]
        if len(users) != 1 or users[0][1] != "DI":
            return None
        ff_name = users[0][0]
        ff = cells[ff_name]
        if ff.get("type") != "TRELLIS_FF":
            return None
        ff_params, ff_conns = ff["parameters"], ff["connections"]
        if ff_conns.get("CLK", [None])[0] != clock:
            return None
        if _param_str(ff_params, "CLKMUX", "CLK") != "CLK":
            return None
        if not _is_const(ff_conns.get("LSR", ["0"])[0], "0"):
            return None
        cemux = _param_str(ff_params, "CEMUX", "1")
        if cemux == "1":
            ff_enable = "1"
        elif cemux == "CE":
            ff_enable = ff_conns.get("CE", ["1"])[0]
        else:
            return None
        if enable is None:
            enable = ff_enable
        elif enable != ff_enable:
            return None
        moves.append((pin, ff_name))
    return enable, moves


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: outreg.py NETLIST.json", file=sys.stderr)
        return 2
    path = args[0]
    try:
        with open(path) as f:
            netlist = json.load(f)
    except (OSError, ValueError) as e:
        print(f"outreg: cannot read netlist {path!r}: {e}", file=sys.stderr)
        return 2
    folded, removed, left = fold_output_registers(netlist)
    with open(path, "w") as f:
        json.dump(netlist, f)
    summary = path[:-len(".json")] if path.endswith(".json") else path
    with open(summary + ".outreg.json", "w") as f:
        json.dump({"ports_folded": folded, "flip_flops_removed": removed,
                   "ports_left": left}, f, indent=2)
        f.write("\n")
    print(f"outreg: {folded} block RAM read ports now use their output register "
          f"({removed} fabric flip-flops removed; {left} left as they were)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
