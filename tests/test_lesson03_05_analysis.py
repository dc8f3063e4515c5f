"""analysis.whole_state_gradients / whole_grad_norm_by_distance: the whole dL/dc_k and dL/dh_k,
gradient-checked in float64 against a forward pass restarted from a perturbed state."""

import numpy as np
import pytest

from lstmlib import analysis, gradcheck, lstm, rnn


def _loss_from_state(cell, xs, params, w, k, state_k_fn):
    """L = <h_T, w> as a function of one state array after step k (k = 0 is the initial state)."""
    N, T, _ = xs.shape
    H = params["W_h"].shape[0]
    zeros = tuple(np.zeros((N, H)) for _ in cell.CELL.state_names)
    if k == 0:
        base, caches = zeros, []
    else:
        _, base, cache = cell.forward(xs[:, :k], params)
        caches = cache.steps

    def loss(perturbed):
        state = state_k_fn(base, caches, perturbed)
        if k == T:
            return float(np.sum(state[0] * w))
        hs, _, _ = cell.forward(xs[:, k:], params, state)
        return float(np.sum(hs[:, -1] * w))

    return loss, base


def _c_state(base, caches, c_new):
    if not caches:  # initial state: h_0 does not depend on c_0
        return (base[0], c_new)
    o = caches[-1].o
    return (o * np.tanh(c_new), c_new)  # h_k = o_k ⊙ tanh(c_k) reads the perturbed c_k


def _h_state(base, caches, h_new):
    return (h_new,) + tuple(base[1:])


@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_whole_cell_gradient_matches_numeric(k):
    D, H, N, T = 3, 4, 2, 5
    params = lstm.init_params(D, H, np.random.default_rng(0))
    params["W_h"] *= 3.0  # a strong h path, so that a missing term would show
    xs = np.random.default_rng(1).standard_normal((N, T, D))
    g = analysis.whole_state_gradients(lstm, params, xs, np.random.default_rng(2))
    _, w, _ = analysis.probe_gradients(lstm, params, xs, np.random.default_rng(2))
    assert g["c"].shape == (N, T + 1, H) and g["h"].shape == (N, T + 1, H)
    for name, fn in (("c", _c_state), ("h", _h_state)):
        loss, base = _loss_from_state(lstm, xs, params, w, k, fn)
        idx = lstm.CELL.state_names.index(name)
        num = gradcheck.numeric_gradient(loss, base[idx].copy())
        assert gradcheck.relative_error(g[name][:, k], num) <= 1e-7, (name, k)


def test_whole_c_differs_from_recorded_c_by_the_h_path():
    D, H, N, T = 3, 4, 2, 6
    params = lstm.init_params(D, H, np.random.default_rng(3))
    xs = np.random.default_rng(4).standard_normal((N, T, D))
    probe, _, _ = analysis.probe_gradients(lstm, params, xs, np.random.default_rng(5))
    whole = analysis.whole_state_gradients(lstm, params, xs, np.random.default_rng(5))
    assert np.all(probe["c"][:, -1] == 0)  # the recorded c gradient at c_T is 0 ...
    assert np.linalg.norm(whole["c"][:, -1]) > 0  # ... the whole one is not
    np.testing.assert_array_equal(whole["c"][:, 0], probe["c0"])
    np.testing.assert_array_equal(whole["h"][:, 1:], probe["h"])


def test_whole_norms_by_distance():
    D, H, N, T = 3, 5, 4, 8
    xs = np.random.default_rng(6).standard_normal((N, T, D))
    p_rnn = rnn.init_params(D, H, np.random.default_rng(7))
    np.testing.assert_allclose(
        analysis.whole_grad_norm_by_distance(rnn, p_rnn, xs, np.random.default_rng(8)),
        analysis.grad_norm_by_distance(rnn, p_rnn, xs, np.random.default_rng(8)), rtol=1e-12)
    p = lstm.init_params(D, H, np.random.default_rng(7))
    g = analysis.whole_state_gradients(lstm, p, xs, np.random.default_rng(8))["c"]
    by_d = analysis.whole_grad_norm_by_distance(lstm, p, xs, np.random.default_rng(8), which="c")
    assert by_d.shape == (T + 1,)
    np.testing.assert_allclose(by_d[0], np.linalg.norm(g[:, T], axis=1).mean())
    np.testing.assert_allclose(by_d[T], np.linalg.norm(g[:, 0], axis=1).mean())
    with pytest.raises(ValueError, match="which must be one of"):
        analysis.whole_grad_norm_by_distance(rnn, p_rnn, xs, np.random.default_rng(8), which="c")
