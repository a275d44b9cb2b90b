"""The files written beside the Verilog for other people's flows, all derived from the
manifest: the C header, the SystemVerilog package and instantiation template, the smoke
testbench and the protocol checker (flat ports only), and the FuseSoC core
(docs/integration.md)."""

from .c_header import c_header_text
from .fusesoc_core import core_text
from .protocol_checker import checker_text
from .smoke_tb import smoke_tb_text
from .sv_instance import sv_instance_text
from .sv_package import sv_package_text


__all__ = ["ip_files"]


def ip_files(manifest, params):
    """``{file name: text}`` of the integration files of the module ``manifest`` describes
    (``params``: its parameters, for the smoke test's golden results)."""
    module = manifest["module"]
    out = {
        f"{module}.h": c_header_text(manifest),
        f"{module}_pkg.sv": sv_package_text(manifest),
        f"{module}_inst.sv": sv_instance_text(manifest),
    }
    if manifest["interface"] == "flat":
        # The smoke test drives the flat ports; the AXI4-Stream top is tested with
        # cocotbext-axi (tests/test_cocotb_axis.py).
        out[f"{module}_smoke_tb.v"] = smoke_tb_text(manifest, params)
        out[f"{module}_checker.sv"] = checker_text(manifest)
    out[f"{module}.core"] = core_text(manifest)
    return out
