"""Host script: stream a random workload to a board over its serial port and check every
result against the golden model (``apsq-rae fpga host --port /dev/ttyUSB0``).

The workload and the check are plain functions so the simulation test of the board top uses
the same ones. Tiles are :class:`apsq_rae.golden.Tile`; the expected results come from
:class:`apsq_rae.golden.Engine`.
"""

import random
import sys
import time

from apsq_rae import golden

from . import protocol as P


__all__ = ["make_workload", "expected_results", "check_results", "run_serial"]


def make_workload(params, *, n_addresses, n_steps, seed, order="weight-stationary"):
    """Tiles for ``n_addresses`` addresses of ``n_steps`` steps each.

    ``order`` is ``"weight-stationary"`` (step ``i`` of every address before step ``i+1``) or
    ``"random"`` (a random interleaving that keeps each address's steps in order). Each
    address's data has its own magnitude, and exponents are chosen near the magnitude of the
    running sum so that results are neither all zero nor all saturated (some saturate).

    Returns a list of :class:`apsq_rae.golden.Tile`.
    """
    p = params
    rng = random.Random(seed)
    lo, hi = -(1 << (p.psum_bits - 1)), (1 << (p.psum_bits - 1)) - 1
    per_addr = []
    for a in range(n_addresses):
        mag_bits = rng.randint(1, p.psum_bits - 1)
        tiles = []
        for i in range(n_steps):
            data = tuple(max(lo, min(hi, rng.randint(-(1 << mag_bits), (1 << mag_bits))))
                         for _ in range(p.lanes))
            peak = max(1, max(abs(v) for v in data)) * (i + 1)
            exp = peak.bit_length() - (p.q_bits - 1) + rng.randint(-2, 1)
            exp = max(0, min(p.max_exp, exp))
            tiles.append(golden.Tile(addr=a, step=i % (1 << p.step_bits),
                                     last=i == n_steps - 1, exp=exp, data=data))
        per_addr.append(tiles)
    if order == "weight-stationary":
        return [per_addr[a][i] for i in range(n_steps) for a in range(n_addresses)]
    if order == "random":
        cursors = [0] * n_addresses
        out = []
        while len(out) < n_addresses * n_steps:
            a = rng.choice([k for k in range(n_addresses) if cursors[k] < n_steps])
            out.append(per_addr[a][cursors[a]])
            cursors[a] += 1
        return out
    raise ValueError(f"order = {order!r} is not a workload order "
                     f"(legal: weight-stationary, random)")


def golden_engine(params, group_size):
    """A ``apsq_rae.golden.Engine`` with ``params``, configured to ``group_size`` (non-strict: an
    address beyond the capacity is dropped and sets ``err`` bit 1, as the hardware does)."""
    eng = golden.Engine(**params.as_dict(), strict=False)
    eng.configure(group_size)
    return eng


def expected_results(engine, tiles):
    """Push ``tiles`` into a golden engine; the results it produces, in order."""
    out = []
    for t in tiles:
        r = engine.push(t.addr, t.step, t.last, t.exp, list(t.data))
        if r is not None:
            out.append(r)
    return out


def check_results(got, expected):
    """Compare board results with golden ones; a list of mismatch messages (empty: all good)."""
    errors = []
    if len(got) != len(expected):
        errors.append(f"{len(got)} results arrived, {len(expected)} expected")
    for n, (g, e) in enumerate(zip(got, expected)):
        if (g.addr, g.exp, bool(g.sat), tuple(g.data)) != (e.addr, e.exp, bool(e.sat),
                                                            tuple(e.data)):
            errors.append(f"result {n}: board (addr {g.addr}, exp {g.exp}, sat {int(g.sat)}, "
                          f"data {list(g.data)}), golden (addr {e.addr}, exp {e.exp}, "
                          f"sat {int(e.sat)}, data {list(e.data)})")
    return errors


# --- The serial-port session. ---

def _read_frames(port, codec, kind, count, timeout):
    deadline = time.monotonic() + timeout
    while True:
        frames = [f for f in codec.frames if isinstance(f, kind)]
        if len(frames) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {count} {kind.__name__} frame(s), "
                               f"got {len(frames)}")
        data = port.read(max(1, port.in_waiting))
        if data:
            codec.feed(data)


def _query_info(port, timeout):
    port.reset_input_buffer()
    time.sleep(0.05)  # longer than the board's 10 ms frame timeout: resynchronize
    port.write(P.HostCodec.info())
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while len(buf) < 1 + P.INFO_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no info frame from the board within {timeout} s "
                               f"(got {bytes(buf).hex() or 'nothing'})")
        buf += port.read(1 + P.INFO_BYTES - len(buf))
    return P.HostCodec.decode_info(buf)


def _status(port, codec, timeout):
    port.write(codec.status())
    _read_frames(port, codec, P.Status, 1, timeout)
    return codec.take(P.Status)[-1]


def run_serial(port_name, *, baud, group_sizes, n_addresses, n_steps, seed, order, timeout=10.0,
               out=sys.stdout):
    """Run the workload on a board for each group size; returns the number of mismatches."""
    import serial  # pyserial

    with serial.Serial(port_name, baud, timeout=0.1) as port:
        params, latency = _query_info(port, timeout)
        print(f"[host] board engine: {params} (latency {latency})", file=out)
        codec = P.HostCodec(params)
        port.write(codec.clear())
        failures = 0
        for gs in group_sizes:
            eng = golden_engine(params, gs)
            cap = eng.capacity()
            if n_addresses > cap:
                raise ValueError(f"--addresses {n_addresses} exceeds the capacity {cap} at "
                                 f"group size {gs}")
            tiles = make_workload(params, n_addresses=n_addresses, n_steps=n_steps,
                                  seed=seed + gs, order=order)
            expected = expected_results(eng, tiles)
            port.write(codec.group_size(gs))
            start = time.monotonic()
            for t in tiles:
                port.write(codec.tile(t.addr, t.step, t.last, t.exp, t.data))
                if port.in_waiting:
                    codec.feed(port.read(port.in_waiting))
            _read_frames(port, codec, P.Result, len(expected), timeout)
            got = codec.take(P.Result)
            elapsed = time.monotonic() - start
            status = _status(port, codec, timeout)
            errors = check_results(got, expected)
            if status.flags & ~P.STATUS_BUSY:
                errors.append(f"status flags {status.flags:#04x} (expected 0)")
            failures += len(errors)
            verdict = "PASS" if not errors else f"FAIL ({len(errors)} mismatches)"
            print(f"[host] gs {gs}: {len(tiles)} tiles, {len(got)} results in {elapsed:.2f} s: "
                  f"{verdict}", file=out)
            for e in errors[:10]:
                print(f"[host]   {e}", file=out)
        return failures
