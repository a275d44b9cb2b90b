"""The generated top module's port list against the spec section 5 table, and the manifest.

Widths come from the spec's formulas, computed here independently of ``apsq_rae.hdl.params``.
"""

import json
import math
import re

import pytest

from apsq_rae.hdl.params import RAEParams
from apsq_rae.gen.generate import generate_verilog
from apsq_rae.gen.manifest import build_manifest


def spec_ports(lanes=16, psum_bits=32, q_bits=8, max_group_size=4, depth=256, exp_bits=5,
               step_bits=16, rounding="half_up"):
    """The spec section 5 table, in its order: ``(name, direction, width)``."""
    A = max(1, math.ceil(math.log2(depth * max_group_size)))
    G = math.ceil(math.log2(max_group_size + 1))
    return [
        ("clk", "in", 1), ("rst", "in", 1), ("cfg_group_size", "in", G),
        ("in_valid", "in", 1), ("in_ready", "out", 1), ("in_addr", "in", A),
        ("in_step", "in", step_bits), ("in_last", "in", 1), ("in_exp", "in", exp_bits),
        ("in_data", "in", lanes * psum_bits), ("out_valid", "out", 1), ("out_ready", "in", 1),
        ("out_addr", "out", A), ("out_exp", "out", exp_bits), ("out_sat", "out", 1),
        ("out_data", "out", lanes * q_bits), ("busy", "out", 1), ("err", "out", 2),
        ("err_clear", "in", 1),
    ]


def verilog_ports(text, name):
    """``(name, direction, width)`` of the ports of module ``name``, in header order."""
    body = text[text.index(f"module {name}("):]
    body = body[:body.index("endmodule")]
    header = re.match(r"module \w+\(([^)]*)\);", body).group(1)
    order = [p.strip() for p in header.split(",")]
    decls = {}
    for direction, msb, lsb, port in re.findall(
            r"^\s*(input|output|inout)\s+(?:\[(\d+):(\d+)\]\s+)?(\w+)\s*;", body, re.MULTILINE):
        width = int(msb) - int(lsb) + 1 if msb else 1
        decls[port] = ({"input": "in", "output": "out"}.get(direction, direction), width)
    assert sorted(decls) == sorted(order), f"header {order} vs declarations {sorted(decls)}"
    return [(p, *decls[p]) for p in order]


CONFIGS = [
    {},
    {"lanes": 1, "max_group_size": 1, "depth": 1},          # A = max(1, 0) = 1
    {"lanes": 3, "psum_bits": 12, "q_bits": 5, "max_group_size": 3, "depth": 5, "exp_bits": 3,
     "step_bits": 5, "rounding": "half_even"},             # non-powers of two
    {"lanes": 2, "max_group_size": 8, "depth": 16, "q_bits": 4, "rounding": "trunc"},
    {"lanes": 1, "psum_bits": 64, "q_bits": 16, "max_group_size": 5, "depth": 2,
     "exp_bits": 6, "step_bits": 32},                     # widest arithmetic
]


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda c: "-".join(
    f"{k}{v}" for k, v in c.items()) or "default")
def generated(request):
    params = RAEParams(**request.param)
    text, manifest = generate_verilog(params, "apsq_rae")
    return request.param, text, manifest


def test_ports_match_spec_table(generated):
    config, text, _ = generated
    assert verilog_ports(text, "apsq_rae") == spec_ports(**config)


def test_manifest_ports_parameters_capacity(generated):
    config, text, manifest = generated
    manifest = json.loads(json.dumps(manifest))      # what the file holds
    full = RAEParams(**config).as_dict()
    assert manifest["module"] == "apsq_rae" and manifest["verilog"] == "apsq_rae.v"
    assert manifest["sdc"] == "apsq_rae.sdc"
    assert manifest["parameters"] == full
    assert [(p["name"], p["direction"], p["width"]) for p in manifest["ports"]] == \
        spec_ports(**config)
    g, depth = full["max_group_size"], full["depth"]
    assert manifest["capacity"] == {str(gs): depth * (g // gs) for gs in range(1, g + 1)}
    assert isinstance(manifest["latency"], int) and manifest["latency"] >= 1
    assert manifest["pipeline"] == {
        "setting": "default", "shift_levels_per_stage": 2, "shift_select_lanes": 0,
        "tree_levels_per_stage": 1, "tree_input_register": False, "quantizer_stages": 2,
        "bank_output_register": True, "bank_write_register": False, "result_write_register": False,
        "queue_input_register": True, "decode_register": False, "bank_bypass": False}
    assert manifest["vlt"] == "apsq_rae.vlt"
    assert list(manifest) == ["format", "module", "verilog", "sdc", "vlt", "parameters", "derived",
                              "interface", "ports", "payloads",
                              "pipeline", "init", "memories", "memory_models", "latency",
                              "reread_distance", "capacity", "generator", "amaranth"]
    assert manifest["init"] == "reset"
    assert manifest["generator"]["name"] == "apsq-rae"
    assert re.match(r"\d+\.\d+", manifest["amaranth"]["version"])


@pytest.mark.parametrize("setting,latency,reread",
                         [("min", 4, 2), ("default", 16, 14), ("max", 18, 15)])
def test_manifest_pipeline_setting(setting, latency, reread):
    """The manifest names the pipeline setting and its knobs, and the latency and the reread
    distance follow it (spec defaults: 4, 16 and 18 clocks, and two or three less:
    docs/design.md, Pipeline settings and "A tile waits only when it must"); the ports do not
    change."""
    text, manifest = generate_verilog(RAEParams(), "apsq_rae", pipeline=setting)
    assert manifest["pipeline"]["setting"] == setting
    assert manifest["latency"] == latency
    assert manifest["reread_distance"] == reread
    assert verilog_ports(text, "apsq_rae") == spec_ports()


def test_no_simulation_constructs(generated):
    _, text, _ = generated
    for construct in ("$display", "$finish", "$random", "`timescale", "force ", "wait "):
        assert construct not in text, construct
    assert not re.search(r"#\s*\d", text), "delay in generated Verilog"
    assert "src =" not in text       # emit_src=False: no source locations, no paths


def test_only_one_top_module_named(generated):
    _, text, _ = generated
    assert len(re.findall(r"^module apsq_rae\(", text, re.MULTILINE)) == 1


def test_manifest_payloads_at_spec_defaults():
    """The tile and result as packed words, port order, least significant first (spec
    defaults: addr 10 bits, step 16, exp 5, 16 lanes of 32 and of 8 bits)."""
    _, manifest = generate_verilog(RAEParams(), "apsq_rae")
    tile, result = manifest["payloads"]["tile"], manifest["payloads"]["result"]
    assert [(f["name"], f["offset"], f["width"]) for f in tile["fields"]] == [
        ("addr", 0, 10), ("step", 10, 16), ("last", 26, 1), ("exp", 27, 5), ("data", 32, 512)]
    assert tile["width"] == 544 and tile["fields"][-1]["lanes"] == 16
    assert tile["fields"][-1]["lane_width"] == 32
    assert [(f["name"], f["offset"], f["width"]) for f in result["fields"]] == [
        ("addr", 0, 10), ("exp", 10, 5), ("sat", 15, 1), ("data", 16, 128)]
    assert result["width"] == 144 and result["fields"][-1]["lane_width"] == 8


@pytest.mark.parametrize("bad", [0, -1, True, 2.0])
def test_manifest_refuses_a_bad_reread_distance(bad):
    with pytest.raises(ValueError, match=rf"^reread_distance = {bad!r} must be an integer >= 1$"):
        build_manifest(RAEParams(), "apsq_rae", 16, reread_distance=bad)
