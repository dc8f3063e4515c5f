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


def test_clip_threshold_is_exactly_max_norm():
    at = {"a": np.array([0.6, 0.8])}  # norm exactly 1
    assert optim.clip_grad_norm(at, 1.0) == pytest.approx(1.0)
    np.testing.assert_array_equal(at["a"], [0.6, 0.8])
    over = {"a": np.array([0.606, 0.808])}  # norm 1.01: clipped back to 1
    assert optim.clip_grad_norm(over, 1.0) == pytest.approx(1.01)
    np.testing.assert_allclose(over["a"], [0.6, 0.8])


def test_adam_eps_is_added_to_the_root_not_inside_it():
    p = {"w": np.array([0.0])}
    state = optim.adam_init(p)
    optim.adam_step(p, {"w": np.array([1e-9])}, state, lr=1.0, eps=1e-8)
    # m̂ = 1e-9, sqrt(v̂) = 1e-9: the step is 1e-9 / (1e-9 + 1e-8); eps inside the root would give ~1e-5
    np.testing.assert_allclose(p["w"], [-1e-9 / (1e-9 + 1e-8)], rtol=1e-12)


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


def _with_leaf(tree, index, value):
    """A copy of the nested dict/list ``tree`` whose ``index``-th array (in optim.leaves order) is ``value``."""
    counter = [0]

    def rebuild(node):
        if isinstance(node, np.ndarray):
            i = counter[0]
            counter[0] += 1
            return value if i == index else node
        if isinstance(node, dict):
            return {k: rebuild(v) for k, v in node.items()}
        return [rebuild(v) for v in node]

    return rebuild(tree)


def _assert_every_leaf_matches(loss_of_model, model, grads):
    """Numeric gradient of ``loss_of_model`` for every array of ``model`` against ``grads``."""
    paths = [k for k, _ in optim.leaves(model)]
    assert paths == [k for k, _ in optim.leaves(grads)]
    for i, (path, value) in enumerate(optim.leaves(model)):
        num = gradcheck.numeric_gradient(lambda v, i=i: loss_of_model(_with_leaf(model, i, v)), value)
        err = gradcheck.relative_error(dict(optim.leaves(grads))[path], num)
        assert err < 1e-7, (path, err)


@pytest.mark.parametrize("cell", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_stacked_layers_gradients(cell):
    """Two layers of different sizes (H, then H2): every parameter, the input, every initial
    state entry of both layers, with upstream gradients on the top hs and on both final states."""
    rng = np.random.default_rng(3)
    H2 = H + 1
    sizes, names = (H, H2), cell.CELL.state_names
    layers_ = [cell.init_params(D, H, rng), cell.init_params(H, H2, rng)]
    xs = rng.standard_normal((N, T, D))
    states0 = [tuple(rng.standard_normal((N, h)) for _ in names) for h in sizes]
    w = rng.standard_normal((N, T, H2))
    w_T = [tuple(rng.standard_normal((N, h)) for _ in names) for h in sizes]

    def loss(xs_, layers__, states0_):
        hs, states_T, _ = models.stack_forward(cell, xs_, layers__, states0_)
        return float(np.sum(hs * w)) + sum(float(np.sum(a * b)) for s, ws in zip(states_T, w_T) for a, b in zip(s, ws))

    hs, _, caches = models.stack_forward(cell, xs, layers_, states0)
    assert hs.shape == (N, T, H2)
    dxs, dstates0, grads = models.stack_backward(cell, w, caches, layers_, w_T)
    assert gradcheck.relative_error(dxs, gradcheck.numeric_gradient(lambda v: loss(v, layers_, states0), xs)) < 1e-7
    _assert_every_leaf_matches(lambda m: loss(xs, m, states0), layers_, grads)
    for l in range(2):
        for k in range(len(names)):
            def f(v, l=l, k=k):
                s0 = list(states0)
                s0[l] = s0[l][:k] + (v,) + s0[l][k + 1 :]
                return loss(xs, layers_, s0)

            assert gradcheck.relative_error(dstates0[l][k], gradcheck.numeric_gradient(f, states0[l][k])) < 1e-7, (l, names[k])


@pytest.mark.parametrize("cell", [rnn, lstm, gru], ids=["rnn", "lstm", "gru"])
def test_regressor_gradients_for_every_parameter(cell):
    rng = np.random.default_rng(4)
    model = models.init_regressor(cell, 2, H, 3, rng)  # D=2, H=5, O=3: no square matrix
    xs, y = rng.standard_normal((N, T, 2)), rng.standard_normal((N, 3))
    loss, grads = models.regressor_loss(cell, model, xs, y)
    assert loss == pytest.approx(layers.mse_loss(models.regressor_predict(cell, model, xs), y)[0])
    _assert_every_leaf_matches(lambda m: models.regressor_loss(cell, m, xs, y)[0], model, grads)


def test_char_lm_gradients_for_every_parameter_of_two_layers():
    rng = np.random.default_rng(4)
    lm = models.init_char_lm(gru, 6, H, 2, rng)
    inputs, targets = rng.integers(0, 6, size=(N, T)), rng.integers(0, 6, size=(N, T))
    states0 = [tuple(rng.standard_normal((N, H)) for _ in gru.CELL.state_names) for _ in range(2)]
    loss, grads, states = models.char_lm_loss(gru, lm, inputs, targets, states0)
    assert len(states) == 2 and loss == pytest.approx(np.log(6), rel=0.3)
    _assert_every_leaf_matches(lambda m: models.char_lm_loss(gru, m, inputs, targets, states0)[0], lm, grads)


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


def test_grad_norm_by_distance_reads_the_state_it_is_asked_for():
    rng = np.random.default_rng(12)
    params = lstm.init_params(D, H, rng)
    xs = rng.standard_normal((N, T, D))
    hs, _, cache = lstm.forward(xs, params)
    w = np.random.default_rng(7).standard_normal((N, H))  # the probe grad_norm_by_distance draws first
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = w
    sg = analysis.state_gradients(lstm, dhs, cache, params)
    probe, w_probe, _ = analysis.probe_gradients(lstm, params, xs, np.random.default_rng(7))
    np.testing.assert_array_equal(w_probe, w)  # one unit vector per sequence, the rng's first draw
    assert sorted(probe) == sorted(sg) and all(np.array_equal(probe[k], sg[k]) for k in sg)
    for which in ("h", "c"):
        per_step = np.concatenate([sg[which + "0"][:, None], sg[which]], axis=1)  # k = 0..T
        expected = np.linalg.norm(per_step, axis=2).mean(axis=0)[::-1]  # by distance T - k
        got = analysis.grad_norm_by_distance(lstm, params, xs, np.random.default_rng(7), which=which)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    g_c = analysis.grad_norm_by_distance(lstm, params, xs, np.random.default_rng(7), which="c")
    assert g_c[0] == 0.0 and (g_c[1:] > 0).all()  # the loss reads h_T: dL/dc_T from later steps is 0
    with pytest.raises(ValueError, match=r"which must be one of \('h', 'c'\), got 'x'"):
        analysis.grad_norm_by_distance(lstm, params, xs, np.random.default_rng(7), which="x")


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
    # a difference in the last element only: 0.1 / (sqrt(14) + sqrt(14.61))
    assert gradcheck.relative_error([1.0, 2.0, 3.0], [1.0, 2.0, 3.1]) == pytest.approx(0.1 / (14**0.5 + 14.61**0.5), rel=1e-12)
    m = np.arange(12.0).reshape(3, 4)
    assert gradcheck.relative_error(m, m.T.reshape(3, 4)) > 0.1  # same values, transposed layout
    with pytest.raises(ValueError, match=r"analytic has shape \(3, 4\) but numeric has shape \(4, 3\)"):
        gradcheck.relative_error(m, m.T)


def test_numeric_gradient_of_a_function_whose_elements_interact():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((4, 4))  # not symmetric: the gradient of x A x is (A + Aᵀ) x
    x = rng.standard_normal(4)
    num = gradcheck.numeric_gradient(lambda v: float(v @ A @ v), x)
    np.testing.assert_allclose(num, (A + A.T) @ x, rtol=1e-8, atol=1e-10)
    B, C = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    X = rng.standard_normal((2, 3))
    num = gradcheck.numeric_gradient(lambda v: float(np.sum((v @ B) * C)), X)  # d/dX = C Bᵀ
    np.testing.assert_allclose(num, C @ B.T, rtol=1e-8, atol=1e-10)


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
