"""Elaboration parameters of the Reconfigurable APSQ Engine (spec section 4).

One place checks them, so the hardware, the generator, the area report and the FPGA
builds all refuse the same values with the same one-line message.
"""

from dataclasses import dataclass, asdict, fields

from ._checks import ROUNDING_RULES, check_int, check_rounding


__all__ = ["RAEParams", "ROUNDING_RULES", "PARAM_HELP", "as_option_error", "as_params"]


#: One line of help per integer parameter, with its legal range (for command lines).
PARAM_HELP = {
    "lanes": "elements per tile (>= 1)",
    "psum_bits": "width of a signed PSUM element (2..64)",
    "q_bits": "width of a signed stored value (2..psum_bits)",
    "max_group_size": "number of banks, largest run-time group size (1..16)",
    "depth": "rows per bank (>= 1)",
    "exp_bits": "exponent width (1..6)",
    "step_bits": "width of the step index (1..32)",
}


def as_option_error(error):
    """``error`` (a ``ValueError`` from :class:`RAEParams`) reworded for a command line: the
    parameter it starts with is spelled as its option (``q_bits = 40 ...`` becomes
    ``--q-bits = 40 ...``)."""
    message = str(error)
    for name in PARAM_HELP.keys() | {"rounding"}:
        if message.startswith(name + " "):
            message = "--" + name.replace("_", "-") + message[len(name):]
            break
    return ValueError(message)


@dataclass(frozen=True)
class RAEParams:
    """Elaboration parameters of the engine, checked on construction.

    Parameters
    ----------
    lanes : int
        Elements per tile (>= 1).
    psum_bits : int
        Width of a signed PSUM element (2..64).
    q_bits : int
        Width of a signed stored value (2..``psum_bits``).
    max_group_size : int
        Number of banks and largest run-time group size (1..16).
    depth : int
        Rows per bank (>= 1).
    exp_bits : int
        Exponent width (1..6).
    step_bits : int
        Width of the step index (1..32).
    rounding : str
        Rounding rule of the quantizer: ``"half_up"``, ``"half_even"`` or ``"trunc"``.

    Raises
    ------
    ValueError
        A value is out of its legal range; the message names the parameter, the value and
        the range.
    TypeError
        A value has the wrong type.
    """

    lanes: int = 16
    psum_bits: int = 32
    q_bits: int = 8
    max_group_size: int = 4
    depth: int = 256
    exp_bits: int = 5
    step_bits: int = 16
    rounding: str = "half_up"

    def __post_init__(self):
        check_int("lanes", self.lanes, 1)
        check_int("psum_bits", self.psum_bits, 2, 64)
        check_int("q_bits", self.q_bits, 2, self.psum_bits)
        check_int("max_group_size", self.max_group_size, 1, 16)
        check_int("depth", self.depth, 1)
        check_int("exp_bits", self.exp_bits, 1, 6)
        check_int("step_bits", self.step_bits, 1, 32)
        check_rounding(self.rounding)

    # Derived widths (spec section 5).

    @property
    def addr_bits(self):
        """``A = max(1, ceil(log2(depth * max_group_size)))``: width of ``in_addr``/``out_addr``."""
        return max(1, (self.depth * self.max_group_size - 1).bit_length())

    @property
    def gs_bits(self):
        """``G = ceil(log2(max_group_size + 1))``: width of ``cfg_group_size``."""
        return self.max_group_size.bit_length()

    @property
    def max_exp(self):
        """Largest exponent, ``2**exp_bits - 1``."""
        return (1 << self.exp_bits) - 1

    @property
    def deq_bits(self):
        """Width of a dequantized stored value, ``q_bits + 2**exp_bits - 1`` (signed)."""
        return self.q_bits + self.max_exp

    @property
    def sum_bits(self):
        """Exact width of the adder tree's sum of ``Tp`` and ``max_group_size`` dequantized values."""
        return max(self.psum_bits, self.deq_bits) + self.max_group_size.bit_length()

    def capacity(self, group_size):
        """Addresses held at once with run-time group size ``group_size``:
        ``depth * floor(max_group_size / group_size)``."""
        check_int("group_size", group_size, 1, self.max_group_size)
        return self.depth * (self.max_group_size // group_size)

    def as_dict(self):
        return asdict(self)

    @classmethod
    def names(cls):
        return [f.name for f in fields(cls)]


def as_params(params=None, **kwargs):
    """The :class:`RAEParams` a component was given: ``params`` itself, or the spec defaults
    for ``None``, or ``RAEParams(**kwargs)`` when only keyword parameters are given.

    Raises
    ------
    TypeError
        ``params`` is neither ``None`` nor an :class:`RAEParams`, or both ``params`` and
        keyword parameters are given.
    ValueError
        A keyword parameter is out of its legal range (see :class:`RAEParams`).
    """
    if params is None:
        return RAEParams(**kwargs)
    if kwargs:
        raise TypeError("pass either an RAEParams or keyword parameters, not both")
    if not isinstance(params, RAEParams):
        raise TypeError(f"params must be an RAEParams, not {params!r}")
    return params
