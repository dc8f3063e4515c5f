"""from_torch / to_torch without torch: exact inverse one way, same function the other way."""

import numpy as np
import pytest

from lstmlib import gru, lstm, rnn

N, T, D, H = 2, 3, 4, 5


@pytest.mark.parametrize("mod", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_from_torch_of_to_torch_is_identity(mod):
    params = mod.init_params(D, H, np.random.default_rng(0))
    back = mod.from_torch(**mod.to_torch(params))
    assert list(back) == list(params)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


@pytest.mark.parametrize("mod", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_to_torch_of_from_torch_keeps_layout_and_function(mod):
    G = mod.CELL.n_blocks
    rng = np.random.default_rng(1)
    w = {"weight_ih": rng.standard_normal((G * H, D)), "weight_hh": rng.standard_normal((G * H, H)),
         "bias_ih": rng.standard_normal(G * H), "bias_hh": rng.standard_normal(G * H)}
    again = mod.to_torch(mod.from_torch(**w))
    assert set(again) == set(w)
    np.testing.assert_array_equal(again["weight_ih"], w["weight_ih"])
    np.testing.assert_array_equal(again["weight_hh"], w["weight_hh"])
    # the two biases are merged (only their sum enters the equations) ...
    if mod is gru:  # ... except the n block of bias_hh, which sits inside r ⊙ (h W_hn + b_hn)
        np.testing.assert_array_equal(again["bias_hh"][2 * H:], w["bias_hh"][2 * H:])
        np.testing.assert_allclose(again["bias_ih"][:2 * H], w["bias_ih"][:2 * H] + w["bias_hh"][:2 * H])
    else:
        np.testing.assert_allclose(again["bias_ih"] + again["bias_hh"], w["bias_ih"] + w["bias_hh"])
    xs = rng.standard_normal((N, T, D))
    h1, _, _ = mod.forward(xs, mod.from_torch(**w))
    h2, _, _ = mod.forward(xs, mod.from_torch(**again))
    np.testing.assert_allclose(h1, h2, atol=1e-14)


def test_from_torch_transposes_weights():
    rng = np.random.default_rng(2)
    w_ih = rng.standard_normal((4 * H, D))
    p = lstm.from_torch(w_ih, rng.standard_normal((4 * H, H)), np.zeros(4 * H), np.zeros(4 * H))
    assert p["W_x"].shape == (D, 4 * H)
    np.testing.assert_array_equal(p["W_x"], w_ih.T)
