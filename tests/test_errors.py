"""Malformed input gets a ValueError/TypeError naming the argument and expected vs actual."""

import numpy as np
import pytest

from lstmlib import gru, layers, lstm, rnn

N, T, D, H = 2, 3, 4, 5
MODS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def setup(name):
    mod = MODS[name]
    rng = np.random.default_rng(0)
    params = mod.init_params(D, H, rng)
    xs = rng.standard_normal((N, T, D))
    state0 = tuple(np.zeros((N, H)) for _ in mod.CELL.state_names)
    return mod, params, xs, state0


@pytest.mark.parametrize("name", MODS)
class TestForwardInputs:
    def test_wrong_ndim(self, name):
        mod, params, xs, _ = setup(name)
        with pytest.raises(ValueError, match=r"xs must have shape \(N, T, D\) = \(\?, \?, 4\), got \(2, 4\)"):
            mod.forward(xs[:, 0], params)

    def test_wrong_input_size(self, name):
        mod, params, xs, _ = setup(name)
        with pytest.raises(ValueError, match=r"xs must have shape \(N, T, D\) = \(\?, \?, 4\), got \(2, 3, 6\)"):
            mod.forward(np.zeros((N, T, 6)), params)

    def test_state0_with_wrong_batch(self, name):
        mod, params, xs, state0 = setup(name)
        bad = (np.zeros((N + 1, H)),) + state0[1:]
        with pytest.raises(ValueError, match=r"state0\[h\] must have shape \(N, H\) = \(2, 5\), got \(3, 5\)"):
            mod.forward(xs, params, bad)

    def test_state0_not_a_tuple_or_wrong_length(self, name):
        mod, params, xs, state0 = setup(name)
        with pytest.raises(TypeError, match="state0 must be a tuple"):
            mod.forward(xs, params, state0[0])
        with pytest.raises(TypeError, match="state0 must be a tuple"):
            mod.forward(xs, params, state0 + (state0[0],))

    def test_missing_and_extra_params_keys(self, name):
        mod, params, xs, _ = setup(name)
        p = dict(params)
        del p["b"]
        with pytest.raises(ValueError, match=r"missing \['b'\]"):
            mod.forward(xs, p)
        with pytest.raises(ValueError, match=r"unexpected \['W_y'\]"):
            mod.forward(xs, {**params, "W_y": np.zeros((H, 1))})

    def test_params_with_wrong_shape(self, name):
        mod, params, xs, _ = setup(name)
        G = mod.CELL.n_blocks
        with pytest.raises(ValueError, match=r"params\['W_h'\] must have shape .* = \(5, %d\), got \(5, 7\)" % (G * H)):
            mod.forward(xs, {**params, "W_h": np.zeros((H, 7))})
        with pytest.raises(ValueError, match=r"params\['b'\] must have shape"):
            mod.forward(xs, {**params, "b": np.zeros(G * H + 1)})

    @pytest.mark.parametrize("dtype", [np.int64, object, np.float16, np.complex128])
    def test_non_float_dtypes_are_rejected_not_coerced(self, name, dtype):
        mod, params, xs, _ = setup(name)
        with pytest.raises(TypeError, match=r"xs must have dtype float32 or float64, got dtype"):
            mod.forward(xs.astype(dtype), params)
        with pytest.raises(TypeError, match=r"params\['W_x'\] must have dtype float32 or float64"):
            mod.forward(xs, {**params, "W_x": params["W_x"].astype(dtype)})

    def test_lists_are_rejected(self, name):
        mod, params, xs, _ = setup(name)
        with pytest.raises(TypeError, match="xs must be a numpy.ndarray"):
            mod.forward(xs.tolist(), params)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_nan_and_inf_are_rejected(self, name, bad):
        mod, params, xs, state0 = setup(name)
        xs = xs.copy()
        xs[1, 2, 3] = bad
        with pytest.raises(ValueError, match="xs contains 1 NaN or inf"):
            mod.forward(xs, params)
        p = {**params, "W_h": params["W_h"].copy()}
        p["W_h"][0, 0] = bad
        with pytest.raises(ValueError, match=r"params\['W_h'\] contains 1 NaN or inf"):
            mod.forward(xs[:, :2], p)

    def test_mixed_dtypes_are_rejected(self, name):
        mod, params, xs, _ = setup(name)
        with pytest.raises(TypeError, match="xs has dtype float32 but params has dtype float64"):
            mod.forward(xs.astype(np.float32), params)

    def test_step_forward_checks_x_and_state(self, name):
        mod, params, xs, state0 = setup(name)
        with pytest.raises(ValueError, match=r"x must have shape \(N, D\) = \(\?, 4\), got \(2, 3, 4\)"):
            mod.step_forward(xs, state0, params)
        with pytest.raises(ValueError, match=r"state\[h\] must have shape \(N, H\)"):
            mod.step_forward(xs[:, 0], tuple(s[:1] for s in state0), params)

    def test_backward_checks_dhs_cache_and_dstate(self, name):
        mod, params, xs, state0 = setup(name)
        hs, sT, cache = mod.forward(xs, params, state0)
        with pytest.raises(ValueError, match=r"dhs must have shape \(N, T, H\) = \(2, 3, 5\), got \(2, 2, 5\)"):
            mod.backward(hs[:, :2], cache, params)
        with pytest.raises(TypeError, match="cache must be the SeqCache"):
            mod.backward(hs, cache.steps[0], params)
        with pytest.raises(TypeError, match="dstate_T must be a tuple"):
            mod.backward(hs, cache, params, dstate_T=np.zeros((N, H)))
        other = lstm if mod is not lstm else rnn
        _, _, other_cache = other.forward(xs, other.init_params(D, H, np.random.default_rng(1)))
        with pytest.raises(ValueError, match=f"cache was made by lstmlib.{other.CELL.name}.forward"):
            mod.backward(hs, other_cache, params)

    def test_backward_checks_dhs_dtype_and_dstate_T_shape_and_dtype(self, name):
        mod, params, xs, state0 = setup(name)
        hs, sT, cache = mod.forward(xs, params, state0)
        with pytest.raises(TypeError, match="dhs has dtype float32 but params has dtype float64"):
            mod.backward(hs.astype(np.float32), cache, params)
        bad_shape = tuple(np.zeros((N, H + 1)) for _ in mod.CELL.state_names)
        with pytest.raises(ValueError, match=r"dstate_T\[h\] must have shape \(N, H\) = \(2, 5\), got \(2, 6\)"):
            mod.backward(hs, cache, params, dstate_T=bad_shape)
        bad_dtype = tuple(np.zeros((N, H), dtype=np.float32) for _ in mod.CELL.state_names)
        with pytest.raises(TypeError, match=r"dstate_T\[h\] has dtype float32 but params has dtype float64"):
            mod.backward(hs, cache, params, dstate_T=bad_dtype)

    def test_step_backward_checks_dstate(self, name):
        mod, params, xs, state0 = setup(name)
        _, cache = mod.step_forward(xs[:, 0], state0, params)
        names = mod.CELL.state_names
        with pytest.raises(ValueError, match=r"dstate\[h\] must have shape \(N, H\) = \(2, 5\), got \(2, 6\)"):
            mod.step_backward(tuple(np.zeros((N, H + 1)) for _ in names), cache, params)
        with pytest.raises(TypeError, match=rf"dstate must be a tuple \({', '.join(names)},\) for the {name} cell"):
            mod.step_backward(np.zeros((N, H)), cache, params)
        dh = np.zeros((N, H))
        dh[0, 0] = np.nan
        with pytest.raises(ValueError, match=r"dstate\[h\] contains 1 NaN or inf"):
            mod.step_backward((dh,) + tuple(np.zeros((N, H)) for _ in names[1:]), cache, params)

    def test_step_backward_rejects_a_foreign_cache(self, name):
        mod, params, xs, state0 = setup(name)
        other = lstm if mod is not lstm else rnn
        _, other_cache = other.step_forward(xs[:, 0], tuple(np.zeros((N, H)) for _ in other.CELL.state_names),
                                            other.init_params(D, H, np.random.default_rng(1)))
        with pytest.raises(TypeError, match=f"cache must be a step cache made by lstmlib.{name}.step_forward"):
            mod.step_backward(tuple(np.zeros((N, H)) for _ in mod.CELL.state_names), other_cache, params)

    def test_init_params_rejects_bad_sizes_rng_and_dtype(self, name):
        mod = MODS[name]
        with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
            mod.init_params(D, 0, np.random.default_rng(0))
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            mod.init_params(D, H, 0)
        with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
            mod.init_params(D, H, np.random.default_rng(0), dtype=np.int32)


def test_zero_length_sequence_is_rejected():
    mod, params, xs, _ = setup("lstm")
    with pytest.raises(ValueError, match="at least one time step"):
        mod.forward(xs[:, :0], params)


@pytest.mark.parametrize("name", MODS)
def test_from_torch_checks_shapes(name):
    mod = MODS[name]
    G = mod.CELL.n_blocks
    w_ih, w_hh, b = np.zeros((G * H, D)), np.zeros((G * H, H)), np.zeros(G * H)
    with pytest.raises(ValueError, match=r"weight_hh must have shape"):
        mod.from_torch(w_ih, w_hh.T.copy() if G > 1 else np.zeros((H, H + 1)), b, b)
    with pytest.raises(ValueError, match=r"weight_ih must have shape"):
        mod.from_torch(w_ih[:-1], w_hh, b, b)
    with pytest.raises(ValueError, match=r"bias_hh must have shape"):
        mod.from_torch(w_ih, w_hh, b, b[:-1])
    with pytest.raises(TypeError, match=r"bias_ih has dtype float32 but weight_ih has dtype float64"):
        mod.from_torch(w_ih, w_hh, b.astype(np.float32), b)


def test_gru_to_torch_rejects_reset_before():
    p = gru.init_params(D, H, np.random.default_rng(0), reset_after=False)
    with pytest.raises(ValueError, match="reset_after=False"):
        gru.to_torch(p)


def test_gru_reset_before_params_must_not_carry_b_hn():
    p = gru.init_params(D, H, np.random.default_rng(0), reset_after=False)
    xs = np.zeros((N, T, D))
    gru.forward(xs, p)  # fine without b_hn
    with pytest.raises(ValueError, match=r"must have keys \['W_h', 'W_x', 'b'\].*unexpected \['b_hx'\]"):
        gru.forward(xs, {**p, "b_hx": np.zeros(H)})
    p_after = gru.init_params(D, H, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"b_hn present means reset_after=True.*missing \['b'\]"):
        gru.forward(xs, {k: v for k, v in p_after.items() if k != "b"})


def test_linear_backward_checks_dy():
    y, cache = layers.linear_forward(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"dy must have shape \(\.\.\., O\) = \(2, 3\), got \(2, 4\)"):
        layers.linear_backward(np.zeros((2, 4)), cache)
    with pytest.raises(TypeError, match="dy must have dtype float32 or float64, got dtype int64"):
        layers.linear_backward(np.zeros((2, 3), dtype=np.int64), cache)


def test_loss_inputs_are_checked():
    with pytest.raises(TypeError, match="targets must be an integer ndarray"):
        layers.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\)"):
        layers.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\]"):
        layers.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="target must have the shape of pred"):
        layers.mse_loss(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match=r"h must have shape \(\.\.\., H\) = \(\.\.\., 3\)"):
        layers.linear_forward(np.zeros((2, 4)), np.zeros((3, 1)), np.zeros(1))
