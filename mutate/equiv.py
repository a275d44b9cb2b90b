"""Try to prove a surviving mutant equivalent to the engine, with Yosys' SAT solver.

Two checks; ``make mutate`` runs the first on every survivor of the quick run and the second,
when asked (``--reset-seconds``), on what survives the longer run too:

1. **Same registers, same behaviour** (combinational, one SAT call). The flattened netlist
   (gold) and a copy with the mutation applied (gate) get their flip-flops turned into
   inputs and outputs (``expose -evert-dff``); a miter compares every output and every
   next-state bit for any register state and any input. If that finds a difference, the check
   runs again with both cut into single-bit flip-flops and nets, so that register bits that
   nothing reads are removed instead of compared. When none can differ, the two machines, which
   start from the same initial state, never differ: **equivalent**. This settles the common
   case of a mutated bit that nothing reads (the copies of a shifter that Amaranth emits for
   each use of an expression, the unused high bits of a wide intermediate).
2. **From reset** (``sat -tempinduct``, reset in the first clock, registers at zero like the
   generated Verilog's initial values): a base case that finds differing outputs gives
   **differs** (not equivalent; the trace is ``cex.vcd``); an induction step that closes gives
   **equivalent**; otherwise **not proved**, with the depth reached.

A mutant whose difference needs a register state the engine cannot reach fails check 1 and
usually stays **not proved**: it counts as alive. Only **equivalent** leaves a mutant out of
the score's denominator.
"""

import subprocess
from pathlib import Path

from apsq_rae.area.yosys import yosys_command


__all__ = ["EQUIVALENT", "DIFFERS", "NOT_PROVED", "check_state_matched", "check_from_reset"]


EQUIVALENT = "equivalent"
DIFFERS = "differs"
NOT_PROVED = "not proved"


def _mutant(mutation, split=False):
    # ``split``: every flip-flop and net cut into single bits, so that a register bit nothing
    # reads (an unused field of a pipeline register's layout) is removed instead of being
    # compared as state. When the mutation removes a register bit of its own (a constant on
    # its input), gold and gate have different bits and cannot be compared that way.
    return [
        "read_rtlil ../../design.il",
        "copy apsq_rae gate", "rename apsq_rae gold",
        mutation.command.replace("-module apsq_rae", "-module gate"),
        "memory_map", *(["splitcells", "splitnets"] if split else []), "opt_clean",
    ]


def _miter(gates):
    return [
        "miter -equiv -flatten -make_outputs gold gate miter",
        "hierarchy -top miter", "flatten",
        # Gates, so that bits nothing reads disappear and the two copies merge over clocks
        # (for the unrolled check; the single SAT call is faster on the coarse cells).
        *(["techmap"] if gates else []), "opt", "opt_clean -purge",
    ]


def _state_matched_script(mutation, split):
    return "\n".join(_mutant(mutation, split) + ["expose -evert-dff -dff gold gate"] +
                     _miter(False) + ["sat -prove trigger 0 miter", ""])


def _from_reset_script(mutation, depth):
    return "\n".join(_mutant(mutation) + _miter(True) + [
        f"sat -tempinduct -prove trigger 0 -set-init-zero -set-at 1 in_rst 1 -seq 1 "
        f"-maxsteps {depth} -dump_vcd cex.vcd miter", ""])


def _yosys(here, name, script, timeout):
    (here / f"{name}.ys").write_text(script)
    try:
        subprocess.run([yosys_command(), "-q", "-l", f"{name}.log", f"{name}.ys"], cwd=here,
                       capture_output=True, text=True, timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        pass
    log = here / f"{name}.log"
    return log.read_text(errors="replace") if log.exists() else ""


def _here(workdir, mutation):
    here = Path(workdir) / "equiv" / str(mutation.index)
    here.mkdir(parents=True, exist_ok=True)
    return here


def check_state_matched(workdir, mutation, *, timeout):
    """Check 1 on ``mutation`` of the netlist in ``workdir`` (``design.il``): ``(EQUIVALENT,
    detail)`` or ``(NOT_PROVED, detail)``. Work files go to ``workdir/equiv/<index>/``."""
    here = _here(workdir, mutation)
    log = _yosys(here, "state", _state_matched_script(mutation, False), timeout)
    if "no model found: SUCCESS!" in log:
        return EQUIVALENT, "same next state and outputs for every register state and input"
    if "No matching port in" in log:          # cutting into bits cannot make the state match
        return NOT_PROVED, ("the mutant drops a register the engine has (a constant where it "
                            "was read), so the state-matched check does not apply")
    # Whole registers differ (or the check ran out of time): again on single bits, which
    # drops the register bits nothing reads (slower: several times on 16 lanes).
    bits = _yosys(here, "state_bits", _state_matched_script(mutation, True), timeout)
    if "no model found: SUCCESS!" in bits:
        return EQUIVALENT, ("same next state and outputs for every register state and input, "
                            "once the register bits nothing reads are removed")
    if "model found: FAIL!" in log:
        return NOT_PROVED, "differs from some register state (reachable or not)"
    return NOT_PROVED, "state-matched check: time limit or tool error (see state.log)"


def check_from_reset(workdir, mutation, *, depth, timeout):
    """Check 2: ``(EQUIVALENT | DIFFERS | NOT_PROVED, detail)``."""
    here = _here(workdir, mutation)
    log = _yosys(here, "reset", _from_reset_script(mutation, depth), timeout)
    reached = sum(line.startswith("[base case") for line in log.splitlines())
    if "Induction step proven: SUCCESS!" in log:
        return EQUIVALENT, f"induction from reset closed at length {reached}"
    if "model found for base case: FAIL!" in log:
        return DIFFERS, f"outputs differ {reached} clocks after reset (trace {here / 'cex.vcd'})"
    why = "time limit" if "End of script" not in log else "depth limit"
    return NOT_PROVED, f"no difference within {max(0, reached - 1)} clocks from reset ({why})"
