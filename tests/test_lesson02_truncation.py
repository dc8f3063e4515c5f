"""lstmlib.truncation: truncated BPTT for the many-to-one regressor used in lesson 02."""

import numpy as np
import pytest

from lstmlib import analysis, data, gradcheck, models, optim, rnn, truncation


def _setup(seed=0, T=12, H=5, rho=1.5):
    rng = np.random.default_rng(seed)
    model = models.init_regressor(rnn, 2, H, 1, rng)
    model["cell"]["W_h"] = analysis.with_spectral_radius(model["cell"]["W_h"], rho)
    xs, y = data.adding_problem(4, T, rng)
    return model, xs, y


def test_full_window_equals_regressor_loss():
    model, xs, y = _setup()
    loss, g = truncation.regressor_loss_truncated(rnn, model, xs, y, xs.shape[1])
    loss_ref, g_ref = models.regressor_loss(rnn, model, xs, y)
    assert loss == pytest.approx(loss_ref, rel=1e-12)
    for (window, a), (_, b) in zip(optim.leaves(g), optim.leaves(g_ref)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=window)


@pytest.mark.parametrize("window", [1, 3, 7])
def test_loss_is_the_full_loss_and_gradient_is_that_of_the_last_k_steps(window):
    model, xs, y = _setup(window)
    T = xs.shape[1]
    loss, g = truncation.regressor_loss_truncated(rnn, model, xs, y, window)
    assert loss == pytest.approx(models.regressor_loss(rnn, model, xs, y)[0], rel=1e-12)
    _, (h_start,), _ = rnn.forward(xs[:, : T - window], model["cell"])  # held constant

    def loss_of(W_h):
        cell = {**model["cell"], "W_h": W_h}
        hs, _, _ = rnn.forward(xs[:, T - window :], cell, (h_start,))
        return float(np.mean((hs[:, -1] @ model["W_y"] + model["b_y"] - y) ** 2))

    num = gradcheck.numeric_gradient(loss_of, model["cell"]["W_h"])
    assert gradcheck.relative_error(g["cell"]["W_h"], num) < 1e-7
    full = models.regressor_loss(rnn, model, xs, y)[1]["cell"]["W_h"]
    assert gradcheck.relative_error(g["cell"]["W_h"], full) > 1e-3  # truncation really cut something


def test_truncation_caps_an_exploding_gradient():
    model, xs, y = _setup(T=50, H=32, rho=3.0)
    full = optim.global_norm(models.regressor_loss(rnn, model, xs, y)[1]["cell"])
    short = optim.global_norm(truncation.regressor_loss_truncated(rnn, model, xs, y, 5)[1]["cell"])
    assert short < full / 100


@pytest.mark.parametrize("window", [0, 13, 2.0, True])
def test_bad_window_is_rejected(window):
    model, xs, y = _setup()
    with pytest.raises(ValueError, match=r"window must be an int in \[1, T\] = \[1, 12\]"):
        truncation.regressor_loss_truncated(rnn, model, xs, y, window)
