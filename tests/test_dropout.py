"""Dropout between layers: layers.dropout_*, models.char_lm_loss_dropout."""

import numpy as np
import pytest

from lstmlib import gradcheck, gru, layers, lstm, models, optim, rnn


def test_mask_is_inverted_dropout_and_follows_the_rng():
    m = layers.dropout_mask((200, 300), 0.3, np.random.default_rng(0))
    assert set(np.unique(m)) == {0.0, 1.0 / 0.7}
    assert abs((m == 0).mean() - 0.3) < 0.01
    assert abs(m.mean() - 1.0) < 0.02  # the expected value of a unit is kept
    assert np.array_equal(m, layers.dropout_mask((200, 300), 0.3, np.random.default_rng(0)))
    assert not np.array_equal(m, layers.dropout_mask((200, 300), 0.3, np.random.default_rng(1)))
    assert np.all(layers.dropout_mask((3, 4), 0.0, np.random.default_rng(0)) == 1.0)
    assert layers.dropout_mask((2,), 0.5, np.random.default_rng(0), dtype=np.float32).dtype == np.float32


def test_mask_bad_arguments():
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\)"):
        layers.dropout_mask((2, 2), 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="p must be"):
        layers.dropout_mask((2, 2), -0.1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        layers.dropout_mask((2, 2), 0.5, 0)
    with pytest.raises(ValueError, match="mask must have shape"):
        layers.dropout_forward(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="dy must have shape"):
        layers.dropout_backward(np.ones((2, 3)), np.ones((3, 2)))


def _setup(cell=lstm, n_layers=2, p=0.4, seed=3):
    rng = np.random.default_rng(seed)
    model = models.init_char_lm(cell, 6, 4, n_layers, rng)
    x, y = rng.integers(0, 6, (2, 5)), rng.integers(0, 6, (2, 5))
    masks = models.char_lm_dropout_masks(model, x.shape, p, rng)
    return model, x, y, masks, rng


@pytest.mark.parametrize("cell", [lstm, gru, rnn])
def test_gradient_check_with_a_fixed_mask(cell):
    model, x, y, masks, rng = _setup(cell)
    assert all((m == 0).any() for m in masks)  # some units really are dropped
    _, grads, _ = models.char_lm_loss_dropout(cell, model, x, y, masks=masks)
    flat_g = dict(optim.leaves(grads))
    for path, arr in optim.leaves(model):
        def f(W, path=path):
            tree = models_copy_with(model, path, W)
            return models.char_lm_loss_dropout(cell, tree, x, y, masks=masks)[0]

        num = gradcheck.numeric_gradient(f, arr)
        assert gradcheck.relative_error(flat_g[path], num) <= 1e-7, path


def models_copy_with(model, path, W):
    """A copy of model with the leaf at ``path`` (optim.leaves name) replaced by W."""
    import copy

    tree = copy.deepcopy(model)
    from lstmlib.checkpoint import _parse

    node = tree
    tokens = _parse(path)
    for tok in tokens[:-1]:
        node = node[tok]
    node[tokens[-1]] = W
    return tree


def test_gradient_check_through_carried_states():
    model, x, y, masks, rng = _setup(lstm, n_layers=3)
    states0 = [(rng.standard_normal((2, 4)), rng.standard_normal((2, 4))) for _ in range(3)]
    _, grads, states_T = models.char_lm_loss_dropout(lstm, model, x, y, states0, masks=masks)
    W = model["layers"][0]["W_h"]

    def f(W):
        layer0 = {**model["layers"][0], "W_h": W}
        return models.char_lm_loss_dropout(lstm, {**model, "layers": [layer0, *model["layers"][1:]]}, x, y, states0, masks=masks)[0]

    assert gradcheck.relative_error(grads["layers"][0]["W_h"], gradcheck.numeric_gradient(f, W)) <= 1e-7
    # the carried states are not masked: layer l's state is its forward state on its (masked) input
    hs = models.one_hot(x, 6)
    for params, s0, mask, (h, c) in zip(model["layers"], states0, masks, states_T):
        hs, (h_ref, c_ref), _ = lstm.forward(hs, params, s0)
        hs = hs * mask
        assert np.array_equal(h, h_ref) and np.array_equal(c, c_ref)


def test_mask_of_ones_is_the_plain_loss_and_dropout_changes_it():
    model, x, y, masks, _ = _setup()
    ones = [np.ones_like(m) for m in masks]
    l0, g0, _ = models.char_lm_loss(lstm, model, x, y)
    l1, g1, _ = models.char_lm_loss_dropout(lstm, model, x, y, masks=ones)
    assert l0 == l1
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(optim.leaves(g0), optim.leaves(g1)))
    l2, _, _ = models.char_lm_loss_dropout(lstm, model, x, y, masks=masks)
    assert l2 != l0


def test_every_layer_output_is_masked_including_the_top():
    model, x, y, masks, _ = _setup()
    zero_top = [masks[0], np.zeros_like(masks[1])]
    _, grads, _ = models.char_lm_loss_dropout(lstm, model, x, y, masks=zero_top)
    # the read-out sees only zeros: no gradient reaches W_y or any layer
    assert np.all(grads["W_y"] == 0)
    assert all(np.all(g == 0) for layer in grads["layers"] for g in layer.values())
    zero_first = [np.zeros_like(masks[0]), masks[1]]
    _, grads, _ = models.char_lm_loss_dropout(lstm, model, x, y, masks=zero_first)
    assert all(np.all(g == 0) for g in grads["layers"][0].values())
    assert np.any(grads["layers"][1]["W_h"] != 0)


def test_evaluation_uses_no_dropout():
    model, x, _, _, _ = _setup()
    ids = np.concatenate([x[0], x[1]])
    a = models.char_lm_eval(lstm, model, ids)
    assert a == models.char_lm_eval(lstm, model, ids)  # deterministic: no mask is drawn
    assert models.char_lm_nll(lstm, model, ids) == pytest.approx(a * (ids.size - 1), rel=1e-15)


def test_masks_argument_is_checked():
    model, x, y, masks, _ = _setup()
    with pytest.raises(ValueError, match="masks must be a list of 2 arrays"):
        models.char_lm_loss_dropout(lstm, model, x, y, masks=masks[:1])
    with pytest.raises(ValueError, match="mask must have shape"):
        models.char_lm_loss_dropout(lstm, model, x, y, masks=[m[:, :2] for m in masks])
    with pytest.raises(ValueError, match="states0 must be None or a list of 2"):
        models.char_lm_loss_dropout(lstm, model, x, y, [None], masks=masks)
