"""lstmlib.belt (lesson 08's belt split and the product of a gate along it) and showdown.init_model."""

import numpy as np
import pytest

from lstmlib import belt, gradcheck, lstm, showdown


def test_keep_products_is_the_product_after_start():
    rng = np.random.default_rng(0)
    f = rng.uniform(0.1, 1.0, size=(5, 7, 3))
    start = np.array([0, 2, 6, 3, 5])
    out = belt.keep_products(f, start)
    assert out.shape == (5, 3) and out.dtype == np.float64
    for n in range(5):
        np.testing.assert_allclose(out[n], np.prod(f[n, start[n] + 1 :], axis=0), rtol=1e-12)
    np.testing.assert_array_equal(out[2], np.ones(3))  # start = T - 1: the empty product


def test_keep_products_does_not_underflow_to_a_wrong_value_in_float32():
    f = np.full((1, 400, 1), 0.5, dtype=np.float32)
    out = belt.keep_products(f, np.array([0]))
    np.testing.assert_allclose(out, 0.5**399, rtol=1e-9)  # ~1e-120: below float32's range, fine in float64


@pytest.mark.parametrize(
    "gate, start, match",
    [
        (np.full((2, 3), 0.5), np.array([0, 1]), "gate must be"),
        (np.full((2, 3, 1), 0.5), np.array([0]), "start must be an int array of shape"),
        (np.full((2, 3, 1), 0.5), np.array([0.0, 1.0]), "start must be an int array"),
        (np.full((2, 3, 1), 0.5), np.array([0, 3]), r"start must lie in \[0, T - 1\]"),
        (np.zeros((2, 3, 1)), np.array([0, 1]), "positive"),
    ],
)
def test_keep_products_rejects_bad_input(gate, start, match):
    with pytest.raises(ValueError, match=match):
        belt.keep_products(gate, start)


def _params(rng, D=2, H=3):
    return lstm.init_params(D, H, rng)


def test_belt_split_whole_is_dL_dc_k():
    # the whole gradient at c_0 equals the finite difference of L = <h_T, w> with respect to c_0
    rng = np.random.default_rng(1)
    p = _params(rng)
    xs = rng.standard_normal((2, 5, 2))
    w = rng.standard_normal(3)
    split = belt.belt_split(p, xs, w)
    assert split["whole"].shape == split["belt"].shape == (2, 6, 3) and split["f"].shape == (2, 5, 3)

    def loss(c0):
        hs, _, _ = lstm.forward(xs, p, (np.zeros((2, 3)), c0))
        return float(np.sum(hs[:, -1] * w))

    numeric = gradcheck.numeric_gradient(loss, np.zeros((2, 3)))
    assert gradcheck.relative_error(split["whole"][:, 0], numeric) < 1e-7
    # at c_T the only path is through h_T: belt and whole coincide
    np.testing.assert_allclose(split["belt"][:, -1], split["whole"][:, -1], rtol=1e-12)


def test_belt_split_is_the_whole_gradient_when_nothing_leaves_the_belt():
    # W_h = 0: c_k reaches the loss only along c_k -> ... -> c_T -> h_T
    rng = np.random.default_rng(2)
    p = _params(rng)
    p["W_h"][:] = 0.0
    xs = rng.standard_normal((3, 6, 2))
    split = belt.belt_split(p, xs, rng.standard_normal((3, 3)))
    np.testing.assert_allclose(split["belt"], split["whole"], rtol=1e-10, atol=1e-14)


def test_belt_split_differs_when_the_gradient_also_goes_through_h():
    rng = np.random.default_rng(3)
    p = _params(rng)
    p["W_h"] *= 5.0  # strong recurrent paths around the belt
    xs = rng.standard_normal((3, 6, 2))
    split = belt.belt_split(p, xs, rng.standard_normal(3))
    assert not np.allclose(split["belt"][:, 0], split["whole"][:, 0], rtol=1e-3)


def test_belt_split_rejects_a_wrong_w():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="w must have shape"):
        belt.belt_split(_params(rng), rng.standard_normal((2, 4, 2)), np.ones(4))


def test_init_model_is_where_adding_run_starts():
    start = showdown.init_model(lstm, 4, seed=3)
    again = showdown.init_model(lstm, 4, seed=3)
    for key in ("W_y", "b_y"):
        np.testing.assert_array_equal(start[key], again[key])
    np.testing.assert_array_equal(start["cell"]["W_h"], again["cell"]["W_h"])
    # one training step with lr -> 0 leaves the model where it started
    run = showdown.adding_run(lstm, 5, 4, seed=3, n_steps=1, lr=1e-300, eval_every=1, threshold=None, progress=False)
    np.testing.assert_allclose(run.model["cell"]["W_h"], start["cell"]["W_h"], rtol=0, atol=1e-30)
    assert not np.array_equal(showdown.init_model(lstm, 4, seed=4)["cell"]["W_h"], start["cell"]["W_h"])
