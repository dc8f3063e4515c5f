"""The API contract of lstmlib.rnn / lstm / gru: gradients, fixed values, gate order, dtypes, BPTT."""

import math

import numpy as np
import pytest

from lstmlib import gradcheck, gru, lstm, recurrent, rnn

N, T, D, H = 2, 3, 4, 5  # distinct sizes: a transposed matrix cannot pass

CELLS = {
    "rnn": (rnn, {}),
    "lstm": (lstm, {}),
    "gru_reset_after": (gru, {"reset_after": True}),
    "gru_reset_before": (gru, {"reset_after": False}),
}


def make(name, seed=0, dtype=np.float64, scale=0.5):
    """Params with every entry random (biases too), inputs and a non-zero initial state."""
    mod, kw = CELLS[name]
    rng = np.random.default_rng(seed)
    params = mod.init_params(D, H, rng, dtype=dtype, **kw)
    for k in params:  # move away from init so no gradient is trivially zero
        params[k] = (params[k] + scale * rng.standard_normal(params[k].shape)).astype(dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    state0 = tuple(rng.standard_normal((N, H)).astype(dtype) for _ in mod.CELL.state_names)
    return mod, params, xs, state0, rng


# ------------------------------------------------------------------------------ gradients


@pytest.mark.parametrize("name", CELLS)
def test_step_gradients_match_numeric(name):
    mod, params, xs, state0, rng = make(name)
    errors = gradcheck.check_step(mod, params, xs[:, 0], state0, rng)
    expected = {"x"} | {f"state[{s}]" for s in mod.CELL.state_names} | set(params)
    assert set(errors) == expected
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("name", CELLS)
def test_sequence_gradients_match_numeric(name):
    mod, params, xs, state0, rng = make(name, seed=1)
    errors = gradcheck.check_sequence(mod, params, xs, state0, rng)
    expected = {"xs"} | {f"state0[{s}]" for s in mod.CELL.state_names} | set(params)
    assert set(errors) == expected
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("name", CELLS)
def test_backward_returns_exactly_the_param_keys_and_shapes(name):
    mod, params, xs, state0, rng = make(name)
    hs, sT, cache = mod.forward(xs, params, state0)
    dxs, dstate0, grads = mod.backward(np.ones_like(hs), cache, params)
    assert list(grads) == list(params)
    for k in params:
        assert grads[k].shape == params[k].shape
    assert dxs.shape == xs.shape
    assert len(dstate0) == len(state0) and all(d.shape == (N, H) for d in dstate0)


def test_gradcheck_catches_a_wrong_backward(monkeypatch):
    """A backward that forgets one term must fail the check by orders of magnitude."""
    mod, params, xs, state0, rng = make("lstm")
    real = lstm.CELL.core_backward

    def broken(dstate, cache, p):
        dax, dstate_prev = real(dstate, cache, p)
        return dax, (dstate_prev[0], dstate_prev[1] * 0.5)  # wrong dc_prev

    monkeypatch.setattr(lstm, "CELL", lstm.CELL._replace(core_backward=broken))
    errors = gradcheck.check_sequence(lstm, params, xs, state0, rng)
    assert errors["state0[c]"] > 1e-3


def test_gradcheck_catches_an_error_in_one_column_of_one_parameter(monkeypatch):
    """A wrong last column of dW_h only: the check flags W_h and nothing else, at step and sequence level."""
    mod, params, xs, state0, rng = make("lstm")
    real = lstm.CELL.hidden_grads

    def off_by_a_little(steps, h_prevs, dax, p):
        grads = real(steps, h_prevs, dax, p)
        grads["W_h"][:, -1] *= 1.01
        return grads

    monkeypatch.setattr(lstm, "CELL", lstm.CELL._replace(hidden_grads=off_by_a_little))
    for errors in (gradcheck.check_sequence(lstm, params, xs, state0, rng),
                   gradcheck.check_step(lstm, params, xs[:, 0], state0, rng)):
        assert errors["W_h"] > 1e-5
        assert max(v for k, v in errors.items() if k != "W_h") < 1e-7


def test_gradcheck_uses_the_final_state_and_every_state_entry(monkeypatch):
    """check_sequence weights the final state, check_step weights c: dropping either must be caught."""
    mod, params, xs, state0, rng = make("lstm")
    real_backward, real_step_backward = lstm.backward, lstm.step_backward
    monkeypatch.setattr(lstm, "backward", lambda dhs, cache, p, dstate_T=None: real_backward(dhs, cache, p, None))
    errors = gradcheck.check_sequence(lstm, params, xs, state0, rng)
    assert errors["state0[c]"] > 1e-3 and errors["W_h"] > 1e-3
    monkeypatch.setattr(lstm, "step_backward", lambda dstate, cache, p: real_step_backward((dstate[0], np.zeros_like(dstate[1])), cache, p))
    errors = gradcheck.check_step(lstm, params, xs[:, 0], state0, rng)
    assert errors["state[c]"] > 1e-3 and errors["b"] > 1e-3


# ------------------------------------------------------------------------------ fixed values


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def _matvec(row, M, j):
    return sum(row[k] * M[k][j] for k in range(len(row)))


def reference(name, params, xs, state0):
    """Independent scalar implementation straight from the module docstrings' equations."""
    P = {k: v.tolist() for k, v in params.items()}
    out = []
    for n in range(xs.shape[0]):
        h = state0[0][n].tolist()
        c = state0[1][n].tolist() if name == "lstm" else None
        seq = []
        for t in range(xs.shape[1]):
            x = xs[n, t].tolist()
            pre = lambda j: _matvec(x, P["W_x"], j) + P["b"][j]  # noqa: E731
            hid = lambda j, hh=h: _matvec(hh, P["W_h"], j)  # noqa: E731
            if name == "rnn":
                h = [math.tanh(pre(j) + hid(j)) for j in range(H)]
            elif name == "lstm":
                i = [_sig(pre(j) + hid(j)) for j in range(H)]
                f = [_sig(pre(H + j) + hid(H + j)) for j in range(H)]
                g = [math.tanh(pre(2 * H + j) + hid(2 * H + j)) for j in range(H)]
                o = [_sig(pre(3 * H + j) + hid(3 * H + j)) for j in range(H)]
                c = [f[j] * c[j] + i[j] * g[j] for j in range(H)]
                h = [o[j] * math.tanh(c[j]) for j in range(H)]
            else:
                r = [_sig(pre(j) + hid(j)) for j in range(H)]
                z = [_sig(pre(H + j) + hid(H + j)) for j in range(H)]
                if "b_hn" in P:
                    nn = [math.tanh(pre(2 * H + j) + r[j] * (hid(2 * H + j) + P["b_hn"][j])) for j in range(H)]
                else:
                    rh = [r[k] * h[k] for k in range(H)]
                    nn = [math.tanh(pre(2 * H + j) + _matvec(rh, P["W_h"], 2 * H + j)) for j in range(H)]
                h = [(1 - z[j]) * nn[j] + z[j] * h[j] for j in range(H)]
            seq.append(h)
        out.append(seq)
    return np.array(out)


@pytest.mark.parametrize("name", CELLS)
def test_forward_matches_scalar_reference(name):
    mod, params, xs, state0, _ = make(name, seed=3)
    hs, _, _ = mod.forward(xs, params, state0)
    np.testing.assert_allclose(hs, reference(name, params, xs, state0), rtol=0, atol=1e-13)


def test_rnn_fixed_values():
    p = {"W_x": np.array([[0.5]]), "W_h": np.array([[-1.0]]), "b": np.array([0.1])}
    xs = np.array([[[1.0], [2.0]]])
    hs, (hT,), _ = rnn.forward(xs, p)
    h1 = math.tanh(0.5 + 0.1)
    h2 = math.tanh(1.0 - h1 + 0.1)
    np.testing.assert_allclose(hs[0, :, 0], [h1, h2], atol=1e-15)
    assert hT[0, 0] == hs[0, 1, 0]


def test_lstm_fixed_values():
    # H = 1, D = 1; gates (i, f, g, o) get pre-activations 0.5x + b_k with W_h = 0
    p = {"W_x": np.array([[0.5, 0.5, 0.5, 0.5]]), "W_h": np.zeros((1, 4)), "b": np.array([0.0, 1.0, -1.0, 2.0])}
    x = np.array([[2.0]])
    (h, c), cache = lstm.step_forward(x, (np.zeros((1, 1)), np.array([[3.0]])), p)
    i, f, g, o = _sig(1.0), _sig(2.0), math.tanh(0.0), _sig(3.0)
    assert c[0, 0] == pytest.approx(f * 3.0 + i * g, abs=1e-15)
    assert h[0, 0] == pytest.approx(o * math.tanh(f * 3.0 + i * g), abs=1e-15)
    assert (cache.i[0, 0], cache.f[0, 0], cache.o[0, 0]) == pytest.approx((i, f, o), abs=1e-15)


def test_gru_fixed_values_both_conventions():
    p = {"W_x": np.array([[1.0, -1.0, 0.5]]), "W_h": np.array([[0.2, 0.3, 2.0]]), "b": np.array([0.0, 0.1, -0.2])}
    x, h0 = np.array([[1.0]]), np.array([[0.5]])
    r, z = _sig(1.0 + 0.1), _sig(-1.0 + 0.15 + 0.1)
    n_before = math.tanh(0.5 - 0.2 + (r * 0.5) * 2.0)
    (h,), _ = gru.step_forward(x, (h0,), p)
    assert h[0, 0] == pytest.approx((1 - z) * n_before + z * 0.5, abs=1e-15)
    (h,), _ = gru.step_forward(x, (h0,), {**p, "b_hn": np.array([0.4])})
    n_after = math.tanh(0.5 - 0.2 + r * (0.5 * 2.0 + 0.4))
    assert h[0, 0] == pytest.approx((1 - z) * n_after + z * 0.5, abs=1e-15)


# ------------------------------------------------------------------------------ gate order


def _block_bias(G, values):
    return np.repeat(np.array(values, dtype=np.float64), H)


def test_lstm_gate_order_is_i_f_g_o():
    assert lstm.GATES == ("i", "f", "g", "o")
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    zero = {"W_x": np.zeros((D, 4 * H)), "W_h": np.zeros((H, 4 * H))}
    # huge bias on the forget block only: f = 1, i = o = g-block = sigma(0)/tanh(0)
    (h, c), _ = lstm.step_forward(x, (h0, c0), {**zero, "b": _block_bias(4, [0, 50, 0, 0])})
    np.testing.assert_allclose(c, c0 + 0.5 * 0.0, atol=1e-12)  # c = c_prev + i*g with g = tanh(0) = 0
    # write exactly: i = 1, f = 0, g = tanh(0.3), o = 1
    (h, c), _ = lstm.step_forward(x, (h0, c0), {**zero, "b": _block_bias(4, [50, -50, 0.3, 50])})
    np.testing.assert_allclose(c, np.full((N, H), math.tanh(0.3)), atol=1e-12)
    np.testing.assert_allclose(h, np.tanh(c), atol=1e-12)
    # output gate closed: h = 0 whatever c is
    (h, c), _ = lstm.step_forward(x, (h0, c0), {**zero, "b": _block_bias(4, [0, 50, 0, -50])})
    np.testing.assert_allclose(h, 0.0, atol=1e-12)
    assert lstm.gate_slice("f", H) == slice(H, 2 * H)


def test_lstm_forget_bias_default_is_one():
    p = lstm.init_params(D, H, np.random.default_rng(0))
    np.testing.assert_array_equal(p["b"][lstm.gate_slice("f", H)], 1.0)
    assert not np.all(p["b"][lstm.gate_slice("i", H)] == 1.0)
    p0 = lstm.init_params(D, H, np.random.default_rng(0), forget_bias=0.0)
    np.testing.assert_array_equal(p0["b"][lstm.gate_slice("f", H)], 0.0)


def test_gru_gate_order_is_r_z_n_and_z_keeps_the_old_state():
    assert gru.GATES == ("r", "z", "n")
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    zero = {"W_x": np.zeros((D, 3 * H)), "W_h": rng.standard_normal((H, 3 * H))}
    for extra in ({}, {"b_hn": np.zeros(H)}):
        (h,), _ = gru.step_forward(x, (h0,), {**zero, **extra, "b": _block_bias(3, [0, 50, 0])})
        np.testing.assert_allclose(h, h0, atol=1e-12)  # z = 1 keeps h_{t-1}
        # z = 0 and r = 0: h = n = tanh(b_n), the old state fully reset
        (h,), _ = gru.step_forward(x, (h0,), {**zero, **extra, "b": _block_bias(3, [-50, -50, 0.7])})
        np.testing.assert_allclose(h, np.full((N, H), math.tanh(0.7)), atol=1e-12)


def test_gru_conventions_differ_and_init_sets_b_hn():
    rng = np.random.default_rng(0)
    pa = gru.init_params(D, H, rng)
    assert set(pa) == {"W_x", "W_h", "b", "b_hn"}
    pb = gru.init_params(D, H, rng, reset_after=False)
    assert set(pb) == {"W_x", "W_h", "b"}
    xs = rng.standard_normal((N, T, D))
    p = {k: pa[k] for k in ("W_x", "W_h", "b")}
    ha, _, _ = gru.forward(xs, {**p, "b_hn": np.zeros(H)})
    hb, _, _ = gru.forward(xs, p)
    assert np.abs(ha - hb).max() > 1e-3


# ------------------------------------------------------------------------------ sequences


@pytest.mark.parametrize("name", CELLS)
def test_sequence_equals_repeated_steps(name):
    mod, params, xs, state0, _ = make(name)
    hs, sT, _ = mod.forward(xs, params, state0)
    state = state0
    for t in range(T):
        state, _ = mod.step_forward(xs[:, t], state, params)
        np.testing.assert_allclose(hs[:, t], state[0], atol=1e-14)
    for a, b in zip(state, sT):
        np.testing.assert_allclose(a, b, atol=1e-14)


@pytest.mark.parametrize("name", CELLS)
def test_truncated_bptt_chunks_continue_the_state(name):
    mod, params, _, state0, rng = make(name)
    xs = rng.standard_normal((N, 7, D))
    hs_full, sT_full, _ = mod.forward(xs, params, state0)
    hs1, s1, _ = mod.forward(xs[:, :4], params, state0)
    hs2, s2, _ = mod.forward(xs[:, 4:], params, s1)
    np.testing.assert_allclose(np.concatenate([hs1, hs2], axis=1), hs_full, atol=1e-14)
    for a, b in zip(s2, sT_full):
        np.testing.assert_allclose(a, b, atol=1e-14)
    # the gradient entering chunk 2's initial state is what flows back into chunk 1's final state
    dhs = rng.standard_normal(hs_full.shape)
    _, _, cache = mod.forward(xs, params, state0)
    _, d0_full, g_full = mod.backward(dhs, cache, params)
    _, _, c2 = mod.forward(xs[:, 4:], params, s1)
    _, d_mid, g2 = mod.backward(dhs[:, 4:], c2, params)
    _, _, c1 = mod.forward(xs[:, :4], params, state0)
    _, d0, g1 = mod.backward(dhs[:, :4], c1, params, d_mid)
    for a, b in zip(d0, d0_full):
        np.testing.assert_allclose(a, b, atol=1e-12)
    for k in params:
        np.testing.assert_allclose(g1[k] + g2[k], g_full[k], atol=1e-12)


@pytest.mark.parametrize("name", CELLS)
def test_float32_keeps_dtype_end_to_end(name):
    mod, params, xs, state0, _ = make(name, dtype=np.float32)
    hs, sT, cache = mod.forward(xs, params, state0)
    assert hs.dtype == np.float32 and all(s.dtype == np.float32 for s in sT)
    dxs, d0, grads = mod.backward(np.ones_like(hs), cache, params, tuple(np.ones_like(s) for s in sT))
    assert dxs.dtype == np.float32 and all(d.dtype == np.float32 for d in d0)
    assert all(g.dtype == np.float32 for g in grads.values())
    # and agrees with float64 to float32 precision
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    hs64, _, _ = mod.forward(xs.astype(np.float64), p64, tuple(s.astype(np.float64) for s in state0))
    np.testing.assert_allclose(hs, hs64, atol=1e-5)


def test_init_params_is_deterministic_and_typed():
    a = lstm.init_params(D, H, np.random.default_rng(7))
    b = lstm.init_params(D, H, np.random.default_rng(7))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["W_x"].shape == (D, 4 * H) and a["W_h"].shape == (H, 4 * H) and a["b"].shape == (4 * H,)
    assert rnn.init_params(D, H, np.random.default_rng(0), dtype=np.float32)["W_h"].dtype == np.float32
    assert np.abs(rnn.init_params(D, H, np.random.default_rng(0))["W_x"]).max() <= 1 / math.sqrt(H)


def test_gather_stacks_a_field_over_time():
    mod, params, xs, state0, _ = make("lstm")
    _, _, cache = mod.forward(xs, params, state0)
    f = recurrent.gather(cache, "f")
    assert f.shape == (N, T, H)
    np.testing.assert_array_equal(f[:, 1], cache.steps[1].f)
    with pytest.raises(ValueError, match="field must be one of"):
        recurrent.gather(cache, "z")


class CountingArray(np.ndarray):
    """An ndarray that counts the matrix products it takes part in."""

    calls = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul:
            CountingArray.calls += 1
        inputs = tuple(np.asarray(a) if isinstance(a, CountingArray) else a for a in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("steps", [1, 6])
def test_input_projection_is_one_matrix_product_whatever_T(name, steps):
    """W_x takes part in exactly one product forward (x W_x for all t) and one backward (dax W_xᵀ)."""
    mod, params, _, state0, rng = make(name)
    xs = rng.standard_normal((N, steps, D))
    params = {**params, "W_x": params["W_x"].view(CountingArray)}
    CountingArray.calls = 0
    hs, _, cache = mod.forward(xs, params, state0)
    assert CountingArray.calls == 1
    mod.backward(np.ones_like(hs), cache, params)
    assert CountingArray.calls == 2


# ------------------------------------------------------------------------------ no aliasing


@pytest.mark.parametrize("n_t", [(2, 3), (1, 3), (2, 1), (1, 1)], ids=["N2T3", "N1T3", "N2T1", "N1T1"])
@pytest.mark.parametrize("name", CELLS)
def test_inputs_are_never_written_and_outputs_are_the_callers_own(name, n_t):
    """The loop reuses buffers inside (the LSTM writes its gates over x W_x + b), never the caller's.

    N = 1 or T = 1 matter: there a transposed (N, T, .) array is already contiguous, so a copy
    made with np.ascontiguousarray would silently be a view.
    """
    mod, params, xs, state0, rng = make(name)
    xs = np.ascontiguousarray(xs[: n_t[0], : n_t[1]])
    state0 = tuple(np.ascontiguousarray(s[: n_t[0]]) for s in state0)
    before = [a.copy() for a in (xs, *state0, *params.values())]
    hs, sT, cache = mod.forward(xs, params, state0)
    dhs = rng.standard_normal(hs.shape)
    dstate_T = tuple(rng.standard_normal(s.shape) for s in sT)
    dxs, dstate0, grads = mod.backward(dhs, cache, params, dstate_T)
    for a, b in zip((xs, *state0, *params.values()), before):
        np.testing.assert_array_equal(a, b)
    # scribbling over what the caller passed in or got back must not change a second backward
    for arr in (hs, *sT, xs, *state0):
        arr[...] = 7.0
    dxs2, dstate02, grads2 = mod.backward(dhs, cache, params, dstate_T)
    np.testing.assert_array_equal(dxs, dxs2)
    for k in grads:
        np.testing.assert_array_equal(grads[k], grads2[k])
    assert dxs.flags.c_contiguous and hs.flags.c_contiguous  # batch-major (N, T, .) like xs
