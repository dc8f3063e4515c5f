"""Activations, read-out, losses, optimisers, clipping, stacking, models, analysis, gradcheck."""

import warnings

import numpy as np
import pytest

from lstmlib import activations, analysis, gradcheck, gru, layers, lstm, models, optim, rnn

N, T, D, H = 2, 3, 4, 5


# ------------------------------------------------------------------------------ activations


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_overflow_safe_and_exact_at_the_extremes(dtype):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            s = activations.sigmoid(x)
    assert s.dtype == dtype
    assert not np.isnan(s).any()
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    mid = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(activations.sigmoid(mid), 1 / (1 + np.exp(-mid)), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_out_writes_in_place_with_the_same_values(dtype):
    x = np.linspace(-20, 20, 12, dtype=dtype).reshape(3, 4)
    expected = activations.sigmoid(x)
    buf = np.empty_like(x)
    assert activations.sigmoid(x, out=buf) is buf
    np.testing.assert_array_equal(buf, expected)
    x2 = x.copy()
    activations.sigmoid(x2[:, 1:3], out=x2[:, 1:3])  # in place on a strided view, as the LSTM does
    np.testing.assert_array_equal(x2[:, 1:3], expected[:, 1:3])
    np.testing.assert_array_equal(x2[:, [0, 3]], x[:, [0, 3]])  # the rest untouched
    assert isinstance(activations.sigmoid(np.float64(2.0)), np.floating)  # scalars still work
    for bad in (np.empty((4, 3), dtype), np.empty((3, 4), np.float16 if dtype == np.float32 else np.float32), [0.0]):
        with pytest.raises(ValueError, match=r"out must be an array of x's shape \(3, 4\)"):
            activations.sigmoid(x, out=bad)


def test_sigmoid_values_lie_strictly_inside_0_1_for_moderate_inputs():
    s = activations.sigmoid(np.array([-10.0, 10.0]))
    assert 0 < s[0] < 1e-4 and 1 - 1e-4 < s[1] < 1


def test_softmax_and_log_softmax_are_stable():
    z = np.array([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
        p = activations.softmax(z)
        lp = activations.log_softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(lp), p, atol=1e-15)
    assert p[1, 2] == 1.0


# ------------------------------------------------------------------------------ read-out and losses


def test_linear_gradients():
    rng = np.random.default_rng(0)

    def fb(h, W, b, dout):
        y, cache = layers.linear_forward(h, W, b)
        if dout is None:
            return y
        dh, g = layers.linear_backward(dout, cache)
        return y, {"h": dh, "W": g["W"], "b": g["b"]}

    errs = gradcheck.check_function(fb, {"h": rng.standard_normal((N, T, H)), "W": rng.standard_normal((H, 3)), "b": rng.standard_normal(3)}, rng)
    assert set(errs) == {"h", "W", "b"} and max(errs.values()) < 1e-7


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((N, T, 6))
    targets = rng.integers(0, 6, size=(N, T))
    loss, d = layers.softmax_cross_entropy(scores, targets)
    p = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    expected = -np.mean(np.log(np.take_along_axis(p, targets[..., None], -1)))
    assert loss == pytest.approx(expected, rel=1e-12)
    num = gradcheck.numeric_gradient(lambda s: layers.softmax_cross_entropy(s, targets)[0], scores)
    assert gradcheck.relative_error(d, num) < 1e-7
    # uniform scores give log V
    assert layers.softmax_cross_entropy(np.zeros((4, 6)), np.arange(4))[0] == pytest.approx(np.log(6))


def test_mse_value_and_gradient():
    rng = np.random.default_rng(2)
    pred, target = rng.standard_normal((N, 3)), rng.standard_normal((N, 3))
    loss, d = layers.mse_loss(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2))
    num = gradcheck.numeric_gradient(lambda p: layers.mse_loss(p, target)[0], pred)
    assert gradcheck.relative_error(d, num) < 1e-7


# ------------------------------------------------------------------------------ optimisers


def test_clip_grad_norm_scales_all_gradients_and_keeps_direction():
    g = {"a": np.array([3.0, 0.0]), "b": [{"c": np.array([[4.0]])}]}
    before = np.concatenate([g["a"], g["b"][0]["c"].ravel()])
    norm = optim.clip_grad_norm(g, 1.0)
    after = np.concatenate([g["a"], g["b"][0]["c"].ravel()])
    assert norm == pytest.approx(5.0)
    assert np.linalg.norm(after) == pytest.approx(1.0)
    np.testing.assert_allclose(after, before / 5.0)  # same direction: not element-wise clipping
    small = {"a": np.array([0.1, 0.2])}
    optim.clip_grad_norm(small, 1.0)
    np.testing.assert_array_equal(small["a"], [0.1, 0.2])  # below the threshold: untouched
    with pytest.raises(ValueError, match="max_norm must be a positive number"):
        optim.clip_grad_norm(small, 0)


def test_sgd_and_adam_steps():
    p = {"w": np.array([1.0, -2.0])}
    optim.sgd_step(p, {"w": np.array([0.5, 0.5])}, lr=0.1)
    np.testing.assert_allclose(p["w"], [0.95, -2.05])
    p = {"w": np.array([1.0, -2.0])}
    state = optim.adam_init(p)
    optim.adam_step(p, {"w": np.array([0.5, -3.0])}, state, lr=0.1)
    # first Adam step moves every coordinate by lr against the gradient's sign (bias-corrected)
    np.testing.assert_allclose(p["w"], [0.9, -1.9], atol=1e-7)
    with pytest.raises(ValueError, match="grads must have the structure of params"):
        optim.sgd_step(p, {"v": np.zeros(2)}, 0.1)


def test_adam_minimises_a_quadratic():
    p = {"w": np.array([3.0, -4.0])}
    state = optim.adam_init(p)
    for _ in range(500):
        optim.adam_step(p, {"w": 2 * p["w"]}, state, lr=0.05)
    assert np.abs(p["w"]).max() < 1e-2


# ------------------------------------------------------------------------------ deep stacks and models


@pytest.mark.parametrize("cell", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_stacked_layers_gradients(cell):
    rng = np.random.default_rng(3)
    layers_ = [cell.init_params(D, H, rng), cell.init_params(H, H, rng)]
    xs = rng.standard_normal((N, T, D))
    w = rng.standard_normal((N, T, H))

    def loss(xs_, layers__):
        hs, _, _ = models.stack_forward(cell, xs_, layers__)
        return float(np.sum(hs * w))

    hs, _, caches = models.stack_forward(cell, xs, layers_)
    dxs, _, grads = models.stack_backward(cell, w, caches, layers_)
    assert gradcheck.relative_error(dxs, gradcheck.numeric_gradient(lambda v: loss(v, layers_), xs)) < 1e-7
    for l in range(2):
        for k in layers_[l]:
            def f(v, l=l, k=k):
                ls = [dict(p) for p in layers_]
                ls[l][k] = v
                return loss(xs, ls)

            assert gradcheck.relative_error(grads[l][k], gradcheck.numeric_gradient(f, layers_[l][k])) < 1e-7


def test_regressor_and_char_lm_gradients():
    rng = np.random.default_rng(4)
    model = models.init_regressor(lstm, 2, H, 1, rng)
    xs, y = rng.standard_normal((N, T, 2)), rng.standard_normal((N, 1))
    loss, grads = models.regressor_loss(lstm, model, xs, y)
    assert loss == pytest.approx(layers.mse_loss(models.regressor_predict(lstm, model, xs), y)[0])
    for key in ("W_y", "b_y"):
        num = gradcheck.numeric_gradient(lambda v: models.regressor_loss(lstm, {**model, key: v}, xs, y)[0], model[key])
        assert gradcheck.relative_error(grads[key], num) < 1e-7
    num = gradcheck.numeric_gradient(lambda v: models.regressor_loss(lstm, {**model, "cell": {**model["cell"], "W_h": v}}, xs, y)[0], model["cell"]["W_h"])
    assert gradcheck.relative_error(grads["cell"]["W_h"], num) < 1e-7

    lm = models.init_char_lm(gru, 6, H, 2, rng)
    inputs, targets = rng.integers(0, 6, size=(N, T)), rng.integers(0, 6, size=(N, T))
    loss, grads, states = models.char_lm_loss(gru, lm, inputs, targets)
    assert len(states) == 2 and loss == pytest.approx(np.log(6), rel=0.3)
    num = gradcheck.numeric_gradient(lambda v: models.char_lm_loss(gru, {**lm, "layers": [lm["layers"][0], {**lm["layers"][1], "W_x": v}]}, inputs, targets)[0], lm["layers"][1]["W_x"])
    assert gradcheck.relative_error(grads["layers"][1]["W_x"], num) < 1e-7


def test_char_lm_sampling_is_deterministic_and_temperature_sharpens():
    rng = np.random.default_rng(5)
    lm = models.init_char_lm(lstm, 5, 8, 1, rng)
    lm["b_y"][:] = [3.0, 0.0, 0.0, 0.0, 0.0]
    a = models.char_lm_sample(lstm, lm, np.array([1, 2]), 50, np.random.default_rng(0), temperature=1.0)
    b = models.char_lm_sample(lstm, lm, np.array([1, 2]), 50, np.random.default_rng(0), temperature=1.0)
    np.testing.assert_array_equal(a, b)
    cold = models.char_lm_sample(lstm, lm, np.array([1, 2]), 200, np.random.default_rng(1), temperature=0.2)
    hot = models.char_lm_sample(lstm, lm, np.array([1, 2]), 200, np.random.default_rng(1), temperature=5.0)
    assert np.mean(cold == 0) > 0.95 > np.mean(hot == 0)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        models.char_lm_sample(lstm, lm, np.array([1]), 5, rng, temperature=0)


# ------------------------------------------------------------------------------ analysis


@pytest.mark.parametrize("cell", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_state_gradients_equal_the_backward_of_the_remaining_sequence(cell):
    """dL/dh_k from the recorded BPTT equals dstate0 of a backward run started at step k."""
    rng = np.random.default_rng(6)
    params = cell.init_params(D, H, rng)
    xs, dhs = rng.standard_normal((N, 6, D)), rng.standard_normal((N, 6, H))
    hs, _, cache = cell.forward(xs, params)
    g = analysis.state_gradients(cell, dhs, cache, params)
    k = 2  # gradient reaching the state after step k (index k-1)
    state_k = (hs[:, k - 1],) + ((cache.steps[k - 1].c,) if cell is lstm else ())
    _, _, tail_cache = cell.forward(xs[:, k:], params, state_k)
    _, d_tail, _ = cell.backward(dhs[:, k:], tail_cache, params)
    np.testing.assert_allclose(g["h"][:, k - 1] - dhs[:, k - 1], d_tail[0], atol=1e-12)
    _, d0, _ = cell.backward(dhs, cache, params)
    np.testing.assert_allclose(g["h0"], d0[0])


def test_grad_norm_by_distance_shows_vanishing_for_a_contractive_rnn():
    rng = np.random.default_rng(7)
    params = rnn.init_params(3, 16, rng)
    params["W_h"] = analysis.with_spectral_radius(params["W_h"], 0.5)
    assert analysis.spectral_radius(params["W_h"]) == pytest.approx(0.5)
    norms = analysis.grad_norm_by_distance(rnn, params, rng.standard_normal((4, 30, 3)), rng)
    assert norms.shape == (31,) and norms[0] == pytest.approx(1.0)
    assert norms[30] < 1e-6 < norms[5]


def test_count_params():
    assert analysis.count_params(lstm.init_params(D, H, np.random.default_rng(0))) == 4 * H * (D + H + 1)
    assert analysis.count_params(gru.init_params(D, H, np.random.default_rng(0))) == 3 * H * (D + H + 1) + H
    assert analysis.count_params(rnn.init_params(D, H, np.random.default_rng(0))) == H * (D + H + 1)


# ------------------------------------------------------------------------------ gradcheck itself


def test_numeric_gradient_does_not_modify_input_and_needs_float64():
    x = np.array([1.0, 2.0])
    g = gradcheck.numeric_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-9)
    with pytest.raises(TypeError, match="x must be float64"):
        gradcheck.numeric_gradient(lambda v: 0.0, x.astype(np.float32))


def test_relative_error_scale():
    a = np.array([1.0, 2.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert gradcheck.relative_error(a, -a) == pytest.approx(1.0)
    assert gradcheck.relative_error(a, a.T.copy()[::-1]) > 0.1


@pytest.mark.parametrize("cell", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_cells_saturate_without_warnings_at_huge_preactivations(cell):
    rng = np.random.default_rng(8)
    params = {k: v * 1e4 for k, v in cell.init_params(D, H, rng).items()}
    xs = rng.standard_normal((N, T, D))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            hs, _, cache = cell.forward(xs, params)
            dxs, _, grads = cell.backward(np.ones_like(hs), cache, params)
    assert np.isfinite(hs).all() and np.isfinite(dxs).all()
    assert all(np.isfinite(g).all() for g in grads.values())
    assert np.abs(hs).max() <= 1.0


def test_char_lm_eval_equals_the_training_loss_of_one_long_row():
    rng = np.random.default_rng(9)
    lm = models.init_char_lm(lstm, 7, 6, 2, rng)
    ids = rng.integers(0, 7, size=40)
    loss, _, _ = models.char_lm_loss(lstm, lm, ids[None, :-1], ids[None, 1:])
    assert models.char_lm_eval(lstm, lm, ids) == pytest.approx(loss, rel=1e-12)
    with pytest.raises(ValueError, match="1-D integer stream"):
        models.char_lm_eval(lstm, lm, ids[None])
