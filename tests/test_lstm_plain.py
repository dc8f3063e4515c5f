"""lstmlib.lstm_plain, the one-line-per-equation step that lesson 07 reads, equals lstmlib.lstm."""

import numpy as np
import pytest

from lstmlib import lstm, lstm_plain


@pytest.mark.parametrize("N, D, H, dtype", [(1, 3, 4, np.float64), (5, 2, 7, np.float64), (3, 4, 2, np.float32)])
def test_plain_step_equals_the_library_step(N, D, H, dtype):
    rng = np.random.default_rng(N * 100 + H)
    params = lstm.init_params(D, H, rng, dtype=dtype)
    params = {k: (3.0 * v).astype(dtype) for k, v in params.items()}  # gates away from 0.5: a swapped block shows
    x = rng.standard_normal((N, D)).astype(dtype)
    state = (rng.uniform(-1, 1, (N, H)).astype(dtype), (2.0 * rng.standard_normal((N, H))).astype(dtype))
    h, c = lstm_plain.step_forward(x, state, params)
    (h_lib, c_lib), cache = lstm.step_forward(x, state, params)
    assert h.dtype == dtype and c.dtype == dtype and h.shape == (N, H)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(h, h_lib, rtol=tol, atol=tol)
    np.testing.assert_allclose(c, c_lib, rtol=tol, atol=tol)


def test_plain_steps_chained_equal_lstm_forward():
    rng = np.random.default_rng(7)
    N, T, D, H = 2, 6, 3, 4
    params = lstm.init_params(D, H, rng)
    xs = rng.standard_normal((N, T, D))
    state = (np.zeros((N, H)), np.zeros((N, H)))
    hs = []
    for t in range(T):
        state = lstm_plain.step_forward(xs[:, t], state, params)
        hs.append(state[0])
    hs_lib, (h_T, c_T), _ = lstm.forward(xs, params)
    np.testing.assert_allclose(np.stack(hs, axis=1), hs_lib, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(state[1], c_T, rtol=1e-13, atol=1e-14)


def test_plain_step_leaves_its_inputs_alone_and_rejects_bad_shapes():
    rng = np.random.default_rng(0)
    params = lstm.init_params(3, 4, rng)
    x, h0, c0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    copies = [a.copy() for a in (x, h0, c0, params["W_x"], params["W_h"], params["b"])]
    lstm_plain.step_forward(x, (h0, c0), params)
    for before, after in zip(copies, (x, h0, c0, params["W_x"], params["W_h"], params["b"])):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="x"):
        lstm_plain.step_forward(rng.standard_normal((2, 5)), (h0, c0), params)
    with pytest.raises(ValueError, match="state"):
        lstm_plain.step_forward(x, (h0[:, :3], c0), params)
