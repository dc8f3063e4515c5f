"""Integration test of lesson 09's showdown claim, on smaller settings than the lesson.

On the adding problem (Le et al. 2015; predicting the mean gives MSE 1/6) with a short
sequence, fixed seeds and a fixed budget of training steps, a GRU in *either* convention
(reset_after=True as in PyTorch, reset_after=False as in Cho et al. 2014) reaches test
MSE < 0.01, while a vanilla RNN with the same budget stays far above it.

The settings were checked outside the test (lstmlib.showdown's data streams: per seed, the same
training batches and test set for every cell): the GRU reached the threshold after 100-150 steps
for seeds 0-5 (both conventions; the same steps in float64), the RNN ended between 0.14 and 0.18
after the same 300 steps; the budget of 300 steps leaves a margin of 2x or more.

Training alone does not catch every broken GRU backward. Breaking lstmlib.gru's backward on
purpose (outside the repository) showed: a flipped sign of dz, (1 - z) replaced by z in dn, a
missing sigma' of z, or (in one of four runs) a dropped direct path dh * z make the GRU miss
the threshold; but a missing tanh', a zero gradient for the reset gate, a gradient cut to the
direct path, or a zero gradient for W_h still solve this task (the update gate driven by the
input is enough for it). So this file also checks, on the same regressor and loss, that the
backward's directional derivative matches a centred finite difference for every parameter
array (float64): that test failed for every one of the eight breakages.
"""

import numpy as np
import pytest

from lstmlib import data, gru, models, optim, rnn, showdown

SETTINGS = dict(T=20, hidden_size=8, n_steps=300, lr=0.03, batch_size=32, threshold=0.01, eval_every=25)
SEEDS = (0, 1)


@pytest.mark.slow
@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
@pytest.mark.parametrize("seed", SEEDS)
def test_gru_solves_adding_problem_within_budget(seed, reset_after):
    run = showdown.adding_run(gru, seed=seed, reset_after=reset_after, progress=False, **SETTINGS)
    assert run.solved_step is not None, f"GRU (reset_after={reset_after}) ended at test MSE {run.test_mse:.4f}"
    assert run.solved_step <= SETTINGS["n_steps"] and run.test_mse < SETTINGS["threshold"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_rnn_does_not_solve_with_the_same_budget(seed):
    run = showdown.adding_run(rnn, seed=seed, progress=False, **SETTINGS)
    assert run.solved_step is None and run.steps == SETTINGS["n_steps"]
    assert run.test_mse > 10 * SETTINGS["threshold"]  # not just short of it: clearly worse


def _directional_errors(reset_after: bool, seed: int = 0, eps: float = 1e-5) -> dict:
    """For every parameter array of a GRU regressor on the adding loss (float64): the relative
    error between the backward's directional derivative ⟨g, v⟩ along a random v and the
    centred difference (L(θ + εv) − L(θ − εv)) / 2ε of the same loss."""
    rng = np.random.default_rng(seed)
    model = models.init_regressor(gru, 2, SETTINGS["hidden_size"], 1, rng, reset_after=reset_after)
    xs, y = data.adding_problem(16, SETTINGS["T"], rng)
    _, grads = models.regressor_loss(gru, model, xs, y)
    errors = {}
    for (path, p), (_, g) in zip(optim.leaves(model), optim.leaves(grads)):
        v = rng.standard_normal(p.shape)
        p += eps * v
        loss_plus, _ = models.regressor_loss(gru, model, xs, y)
        p -= 2 * eps * v
        loss_minus, _ = models.regressor_loss(gru, model, xs, y)
        p += eps * v
        numeric = (loss_plus - loss_minus) / (2 * eps)
        analytic = float(np.sum(g * v))
        errors[path] = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-12)
    return errors


@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
def test_showdown_gradients_match_finite_differences(reset_after):
    errors = _directional_errors(reset_after)
    assert max(errors.values()) < 1e-7, errors
