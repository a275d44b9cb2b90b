"""W8A8 quantization, PSUM tiling and dataflow order of the explorer."""

import os

import numpy as np
import pytest

from apsq_rae.explore.quant import (act_scale, psum_tiles, quantize_act, quantize_weight,
                               stream_order, to_addresses)


def _seed(default):
    """``$APSQ_SEED`` if set, else ``default``; printed so a failure can be replayed."""
    seed = int(os.environ.get("APSQ_SEED", str(default)), 0)
    print(f"APSQ_SEED={seed}")
    return seed


def test_weight_quantization_per_channel_and_tensor():
    w = np.array([[0.5, -1.0, 0.25], [0.01, 0.02, -0.04]])
    wq, s = quantize_weight(w, "channel")
    assert wq.tolist() == [[64, -127, 32], [32, 64, -127]]
    assert np.allclose(s, [1.0 / 127, 0.04 / 127])
    wq, s = quantize_weight(w, "tensor")
    assert wq.tolist() == [[64, -127, 32], [1, 3, -5]]
    assert np.allclose(s, 1.0 / 127)
    with pytest.raises(ValueError, match="weight_granularity"):
        quantize_weight(w, "row")


def test_activation_quantization_static_clips_and_dynamic_per_token():
    x = np.array([[1.0, -2.0], [4.0, 0.5]])
    assert act_scale(x) == 4.0 / 127
    xq, s = quantize_act(x, 2.0 / 127)               # a calibrated scale smaller than the data
    assert xq.tolist() == [[64, -127], [127, 32]]   # 4.0 clips to 127
    assert np.allclose(s, 2.0 / 127)
    xq, s = quantize_act(x, None)
    assert xq.tolist() == [[64, -127], [127, 16]]
    assert np.allclose(s, [2.0 / 127, 4.0 / 127])


@pytest.mark.parametrize("chunk", [1, 16, 32, 64, 100])
def test_tiles_sum_to_the_integer_product(chunk):
    seed = _seed(7)
    rng = np.random.default_rng(seed)
    xq = rng.integers(-127, 128, (9, 70))
    wq = rng.integers(-127, 128, (21, 70))
    tiles = psum_tiles(xq, wq, chunk)
    assert tiles.shape == (-(-70 // chunk), 9, 21)
    assert tiles.dtype == np.int64
    assert np.array_equal(tiles.sum(axis=0), xq @ wq.T)
    assert np.array_equal(tiles[0], xq[:, :chunk] @ wq[:, :chunk].T)


def test_tiles_are_exact_at_the_extremes():
    xq = np.full((2, 64), -127)
    wq = np.full((3, 64), -127)
    tiles = psum_tiles(xq, wq, 64)
    assert tiles.shape == (1, 2, 3) and np.all(tiles == 64 * 127 * 127)


def test_to_addresses_pads_and_orders_token_major():
    tiles = np.arange(2 * 3 * 20).reshape(2, 3, 20)
    a = to_addresses(tiles, 16)
    assert a.shape == (2, 6, 16)
    assert a[1, 2].tolist() == tiles[1, 1, :16].tolist()        # token 1, block 0 = address 2
    assert a[1, 3].tolist() == tiles[1, 1, 16:].tolist() + [0] * 12


def test_stream_order_ws_and_is():
    addr, step = stream_order(3, 2, 2, "ws")
    # for step: for block: for token; address = token * n_blocks + block
    assert addr.tolist() == [0, 2, 4, 1, 3, 5] * 2
    assert step.tolist() == [0] * 6 + [1] * 6
    addr, step = stream_order(3, 2, 2, "is")
    # for token: for step: for block
    assert addr.tolist() == [0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5]
    assert step.tolist() == [0, 0, 1, 1] * 3
    with pytest.raises(ValueError, match="dataflow"):
        stream_order(1, 1, 1, "os")
