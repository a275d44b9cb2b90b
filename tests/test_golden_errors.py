"""Bad input to the golden model raises ValueError with a message a user understands."""

import numpy as np
import pytest

from apsq_rae import golden


def test_quantize_rejects_floats():
    with pytest.raises(ValueError, match=r"x must be an integer array, got dtype float64"):
        golden.quantize([1.5, 2.0], 1)


def test_quantize_rejects_bad_exponent():
    with pytest.raises(ValueError, match=r"exp = 64 is out of range \(legal: 0\.\.63\)"):
        golden.quantize([1], 64)
    with pytest.raises(ValueError, match=r"exp = -1 is out of range"):
        golden.quantize([1], -1)


def test_quantize_rejects_bad_rounding_and_width():
    with pytest.raises(ValueError, match=r"rounding = 'nearest' is not a rounding rule"):
        golden.quantize([1], 1, rounding="nearest")
    with pytest.raises(ValueError, match=r"q_bits = 1 is out of range"):
        golden.quantize([1], 1, q_bits=1)


def test_accumulate_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"tiles must have shape \(n_steps, lanes\)"):
        golden.apsq_accumulate([1, 2, 3], [0, 0, 0], 1)
    with pytest.raises(ValueError, match=r"exps must have shape \(n_steps,\) = \(2,\), got \(3,\)"):
        golden.apsq_accumulate([[1], [2]], [0, 0, 0], 1)
    with pytest.raises(ValueError, match=r"at least one step"):
        golden.apsq_accumulate(np.zeros((0, 2), dtype=int), [], 1)


def test_accumulate_rejects_group_size_zero():
    with pytest.raises(ValueError, match=r"group_size = 0 is out of range \(legal: integer >= 1\)"):
        golden.apsq_accumulate([[1]], [0], 0)


def test_accumulate_rejects_exponent_out_of_range():
    with pytest.raises(ValueError, match=r"exps holds 70, out of range"):
        golden.apsq_accumulate([[1]], [70], 1)


def test_engine_rejects_bad_parameters():
    with pytest.raises(ValueError, match=r"max_group_size = 17 is out of range \(legal: 1\.\.16\)"):
        golden.Engine(max_group_size=17)
    with pytest.raises(ValueError, match=r"q_bits = 40 is out of range \(legal: 2\.\.32\)"):
        golden.Engine(q_bits=40)
    with pytest.raises(ValueError, match=r"rounding = 'up'"):
        golden.Engine(rounding="up")


def test_engine_protocol_violations():
    eng = golden.Engine(lanes=1, max_group_size=4, depth=4)
    with pytest.raises(ValueError, match=r"group size is not configured"):
        eng.push(0, 0, False, 0, [1])
    with pytest.raises(ValueError, match=r"group_size = 0 is out of range \(legal: 1\.\.4\)"):
        eng.configure(0)
    eng.configure(2)
    assert eng.capacity() == 8
    with pytest.raises(ValueError, match=r"address 3: step 1 out of order"):
        eng.push(3, 1, False, 0, [1])
    assert eng.push(3, 0, False, 0, [1]) is None
    with pytest.raises(ValueError, match=r"address 3: a new accumulation before the last step "
                                         r"\(got step 0, expected step 1\)"):
        eng.push(3, 0, False, 0, [1])
    with pytest.raises(ValueError, match=r"address 3: step out of order \(got step 2"):
        eng.push(3, 2, False, 0, [1])
    with pytest.raises(ValueError, match=r"addr = 8 is beyond the capacity 8 at group size 2"):
        eng.push(8, 0, True, 0, [1])
    with pytest.raises(ValueError, match=r"cannot change the group size"):
        eng.configure(1)
    with pytest.raises(ValueError, match=r"data must hold lanes = 1 values, got 2"):
        eng.push(3, 1, False, 0, [1, 2])
    with pytest.raises(ValueError, match=r"data holds a value outside the signed 32-bit range"):
        eng.push(3, 1, False, 0, [2 ** 31])
    with pytest.raises(ValueError, match=r"exp = 32 is out of range \(legal: 0\.\.31\)"):
        eng.push(3, 1, False, 32, [1])
    assert eng.in_flight == {3}


def test_engine_non_strict_drops_beyond_capacity():
    eng = golden.Engine(lanes=1, max_group_size=4, depth=4, strict=False)
    eng.configure(3)                     # capacity 4 * floor(4 / 3) = 4
    assert eng.push(4, 0, True, 0, [5]) is None
    assert eng.err == 2 and eng.in_flight == set()
    assert eng.push(3, 0, True, 0, [5]) == golden.Result(3, 0, False, (5,))
    eng.clear_err()
    assert eng.err == 0
