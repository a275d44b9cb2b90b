"""The framed UART protocol between a host and the board top: constants and the host codec.

This module is plain Python (no Amaranth): the host script uses it over a serial port and the
simulation test uses it to drive the simulated UART bit by bit. The hardware side is
:mod:`apsq_rae.fpga.link`, which takes its frame sizes from :func:`tile_bits` and :func:`result_bits`.

Frames
------
Every frame is one command byte followed by a payload whose length is fixed by the command and
the engine's parameters. Multi-byte payloads are little-endian bit vectors: the engine's stream
payload (a ``StructLayout``, first field in the least significant bits) padded with zeros to a
whole number of bytes.

Host to board:

=========  ===================  ==============================================================
command    payload              effect
=========  ===================  ==============================================================
``I``      none                 board answers with an ``I`` frame (its parameters)
``G``      1 byte               ``cfg_group_size`` register <= payload (low ``G`` bits)
``T``      ``tile_bytes``       one tile (``addr, step, last, exp, data``) for the engine
``S``      none                 board answers with an ``S`` frame (flags, group size)
``C``      none                 pulse ``err_clear`` and clear the link's own flags
=========  ===================  ==============================================================

Board to host:

=========  ===================  ==============================================================
``R``      ``result_bytes``     one result (``addr, exp, sat, data``), sent as soon as the
                                engine produces it
``S``      2 bytes              status flags (see ``STATUS_*``) and the group-size register
``I``      ``INFO_BYTES``       magic, protocol version and the engine parameters
=========  ===================  ==============================================================

A frame that stops arriving in the middle is discarded after the board's frame timeout
(``STATUS_FRAME_ERR`` is set), so a host can always resynchronize by pausing.
An ``S`` frame leaves after every result frame that was already started, so a status with
``busy = 0`` means every result of every tile sent before the ``S`` command has arrived.
"""

from dataclasses import dataclass

from apsq_rae.golden import Result, Tile
from apsq_rae.hdl.params import RAEParams, ROUNDING_RULES, as_params


__all__ = [
    "CMD_INFO", "CMD_GROUP_SIZE", "CMD_TILE", "CMD_STATUS", "CMD_CLEAR",
    "RSP_RESULT", "RSP_STATUS", "RSP_INFO",
    "STATUS_ERR_CFG", "STATUS_ERR_ADDR", "STATUS_BUSY", "STATUS_OVERRUN", "STATUS_FRAME_ERR",
    "STATUS_UART_ERR", "INFO_MAGIC", "PROTOCOL_VERSION", "INFO_BYTES",
    "tile_bits", "result_bits", "tile_bytes", "result_bytes", "info_payload",
    "Tile", "Result", "Status", "HostCodec",
]


CMD_INFO = ord("I")
CMD_GROUP_SIZE = ord("G")
CMD_TILE = ord("T")
CMD_STATUS = ord("S")
CMD_CLEAR = ord("C")

RSP_RESULT = ord("R")
RSP_STATUS = ord("S")
RSP_INFO = ord("I")

#: Status flag bits (first status byte).
STATUS_ERR_CFG = 1 << 0     # engine err bit 0: cfg_group_size is 0 or above max_group_size
STATUS_ERR_ADDR = 1 << 1    # engine err bit 1: a tile's address was at or above the capacity
STATUS_BUSY = 1 << 2        # engine busy, or a tile is waiting to enter it
STATUS_OVERRUN = 1 << 3     # a tile frame completed while the previous tile still waited: lost
STATUS_FRAME_ERR = 1 << 4   # unknown command byte, or a frame timed out half-way
STATUS_UART_ERR = 1 << 5    # a byte arrived with a bad stop bit

INFO_MAGIC = 0xA5
PROTOCOL_VERSION = 1
#: Info payload: magic, version, lanes (2 B), psum_bits, q_bits, max_group_size, depth (4 B),
#: exp_bits, step_bits, rounding index, engine latency (2 B).
INFO_BYTES = 16


def _field_widths(p):
    A = p.addr_bits
    tile = [("addr", A), ("step", p.step_bits), ("last", 1), ("exp", p.exp_bits),
            ("data", p.lanes * p.psum_bits)]
    result = [("addr", A), ("exp", p.exp_bits), ("sat", 1), ("data", p.lanes * p.q_bits)]
    return tile, result


def tile_bits(p):
    """Width of the engine's tile payload (``addr, step, last, exp, data``)."""
    return sum(w for _, w in _field_widths(p)[0])


def result_bits(p):
    """Width of the engine's result payload (``addr, exp, sat, data``)."""
    return sum(w for _, w in _field_widths(p)[1])


def tile_bytes(p):
    """Payload bytes of a ``T`` frame."""
    return (tile_bits(p) + 7) // 8


def result_bytes(p):
    """Payload bytes of an ``R`` frame."""
    return (result_bits(p) + 7) // 8


def info_payload(p, latency):
    """The ``I`` frame's payload for parameters ``p`` and engine latency ``latency``."""
    return bytes([INFO_MAGIC, PROTOCOL_VERSION,
                  *p.lanes.to_bytes(2, "little"), p.psum_bits, p.q_bits, p.max_group_size,
                  *p.depth.to_bytes(4, "little"), p.exp_bits, p.step_bits,
                  ROUNDING_RULES.index(p.rounding), *int(latency).to_bytes(2, "little")])


def _params_from_info(payload):
    if len(payload) != INFO_BYTES or payload[0] != INFO_MAGIC:
        raise ValueError(f"info frame {payload.hex()} does not start with magic {INFO_MAGIC:#x}")
    if payload[1] != PROTOCOL_VERSION:
        raise ValueError(f"board speaks protocol version {payload[1]}, host speaks "
                         f"{PROTOCOL_VERSION}")
    params = RAEParams(lanes=int.from_bytes(payload[2:4], "little"), psum_bits=payload[4],
                       q_bits=payload[5], max_group_size=payload[6],
                       depth=int.from_bytes(payload[7:11], "little"), exp_bits=payload[11],
                       step_bits=payload[12], rounding=ROUNDING_RULES[payload[13]])
    return params, int.from_bytes(payload[14:16], "little")


def _pack(fields, values):
    word, offset = 0, 0
    for (name, width), value in zip(fields, values):
        if not 0 <= value < (1 << width):
            raise ValueError(f"{name} = {value} does not fit in {width} bits")
        word |= value << offset
        offset += width
    return word


def _lanes_to_uint(values, lanes, width):
    if len(values) != lanes:
        raise ValueError(f"data has {len(values)} lanes, the engine has {lanes}")
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    word = 0
    for j, v in enumerate(values):
        v = int(v)
        if not lo <= v <= hi:
            raise ValueError(f"data lane {j} = {v} is out of range (legal: {lo}..{hi})")
        word |= (v & ((1 << width) - 1)) << (j * width)
    return word


def _uint_to_lanes(word, lanes, width):
    out = []
    for j in range(lanes):
        v = (word >> (j * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return tuple(out)


@dataclass(frozen=True)
class Status:
    """One ``S`` frame, decoded."""
    flags: int
    group_size: int

    @property
    def err(self):
        """The engine's two ``err`` bits."""
        return self.flags & (STATUS_ERR_CFG | STATUS_ERR_ADDR)

    @property
    def busy(self):
        return bool(self.flags & STATUS_BUSY)

    @property
    def link_errors(self):
        """The link's own flags (overrun, frame error, UART error)."""
        return self.flags & (STATUS_OVERRUN | STATUS_FRAME_ERR | STATUS_UART_ERR)


class HostCodec:
    """Encode host commands and decode the board's byte stream.

    Parameters
    ----------
    params : RAEParams or None
        The board's engine parameters (the host learns them from an ``I`` frame; see
        :meth:`decode_info`); ``None`` takes the spec defaults.

    Members
    -------
    params : RAEParams
    frames : list
        Decoded frames not yet taken by :meth:`take` (``Result``, ``Status`` or
        ``(RAEParams, latency)`` for an info frame).

    Raises
    ------
    TypeError
        ``params`` is neither ``None`` nor an :class:`RAEParams`.
    """

    def __init__(self, params):
        self.params = params = as_params(params)
        self._tile_fields, self._result_fields = _field_widths(params)
        self._buf = bytearray()
        self.frames = []

    # Encoding.

    @staticmethod
    def info():
        return bytes([CMD_INFO])

    @staticmethod
    def status():
        return bytes([CMD_STATUS])

    @staticmethod
    def clear():
        return bytes([CMD_CLEAR])

    @staticmethod
    def group_size(gs):
        if not 0 <= gs <= 255:
            raise ValueError(f"group size {gs} does not fit in one byte")
        return bytes([CMD_GROUP_SIZE, gs])

    def tile(self, addr, step, last, exp, data):
        """``T`` frame for one tile; ``data`` has ``lanes`` signed ``psum_bits`` integers."""
        p = self.params
        word = _pack(self._tile_fields,
                     [addr, step, int(bool(last)), exp,
                      _lanes_to_uint(data, p.lanes, p.psum_bits)])
        return bytes([CMD_TILE]) + word.to_bytes(tile_bytes(p), "little")

    # Decoding.

    def _frame_len(self, header):
        if header == RSP_RESULT:
            return 1 + result_bytes(self.params)
        if header == RSP_STATUS:
            return 3
        if header == RSP_INFO:
            return 1 + INFO_BYTES
        raise ValueError(f"unexpected frame header byte {header:#04x} from the board")

    def feed(self, data):
        """Add received bytes; complete frames are appended to :attr:`frames`."""
        self._buf += data
        while self._buf:
            n = self._frame_len(self._buf[0])
            if len(self._buf) < n:
                break
            frame, self._buf = bytes(self._buf[:n]), self._buf[n:]
            self.frames.append(self._decode(frame))

    def pending_bytes(self):
        return len(self._buf)

    def _decode(self, frame):
        p = self.params
        if frame[0] == RSP_STATUS:
            return Status(flags=frame[1], group_size=frame[2])
        if frame[0] == RSP_INFO:
            return _params_from_info(frame[1:])
        word = int.from_bytes(frame[1:], "little")
        fields = {}
        offset = 0
        for name, width in self._result_fields:
            fields[name] = (word >> offset) & ((1 << width) - 1)
            offset += width
        return Result(addr=fields["addr"], exp=fields["exp"], sat=bool(fields["sat"]),
                      data=_uint_to_lanes(fields["data"], p.lanes, p.q_bits))

    def take(self, kind=None):
        """Remove and return the decoded frames (only those of type ``kind`` if given)."""
        if kind is None:
            out, self.frames = self.frames, []
        else:
            out = [f for f in self.frames if isinstance(f, kind)]
            self.frames = [f for f in self.frames if not isinstance(f, kind)]
        return out

    @classmethod
    def decode_info(cls, frame):
        """``(RAEParams, latency)`` from a complete ``I`` frame (header included)."""
        if not frame or frame[0] != RSP_INFO:
            raise ValueError(f"not an info frame: {bytes(frame).hex()}")
        return _params_from_info(bytes(frame[1:]))
