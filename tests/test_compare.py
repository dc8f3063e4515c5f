"""Tests of lstmlib.compare: early stopping, fair seeding, the summary table."""

import numpy as np
import pytest

from lstmlib import analysis, compare, gru, lstm, models, rnn


def _history(steps, values):
    return {"eval_step": list(steps), "eval": list(values)}


def test_solved_at_returns_first_step_below_threshold():
    h = _history([25, 50, 75, 100], [0.2, 0.011, 0.009, 0.001])
    assert compare.solved_at(h, 0.01) == 75
    assert compare.solved_at(h, 0.5) == 25
    assert compare.solved_at(h, 0.001) is None  # strictly below
    assert compare.solved_at(_history([], []), 0.01) is None


def test_adding_run_is_deterministic_and_counts_params():
    kw = dict(T=6, hidden_size=5, seed=3, n_steps=20, lr=0.01, eval_every=5, n_test=16)
    a = compare.adding_run(lstm, **kw)
    b = compare.adding_run(lstm, **kw)
    assert a.history["loss"] == b.history["loss"] and a.history["eval"] == b.history["eval"]
    assert a.label == "lstm" and a.seed == 3
    # cell 4 * (D*H + H*H + H) with D=2, H=5, plus the read-out H*1 + 1
    assert a.n_params == 4 * (2 * 5 + 5 * 5 + 5) + 5 + 1
    model = models.init_regressor(lstm, 2, 5, 1, np.random.default_rng(0))
    assert a.n_params == analysis.count_params(model)
    assert a.history["steps"] == 20 and a.history["eval_step"] == [5, 10, 15, 20]
    assert a.final_mse == a.history["eval"][-1]
    assert a.seconds >= 0
    assert set(a.model) == {"cell", "W_y", "b_y"} and a.model["W_y"].dtype == np.float32
    xs, y = compare.data.adding_problem(16, 6, np.random.default_rng(2015), dtype=np.float32)
    pred = models.regressor_predict(lstm, a.model, xs)  # the returned model is the trained one
    assert float(np.mean((pred - y) ** 2)) == pytest.approx(a.final_mse, rel=1e-6)


def test_same_seed_gives_every_cell_the_same_batches(monkeypatch):
    seen = []
    real = compare.data.adding_problem

    def recording(n, T, rng, dtype=np.float64):
        xs, y = real(n, T, rng, dtype=dtype)
        seen.append((n, xs, y))
        return xs, y

    monkeypatch.setattr(compare.data, "adding_problem", recording)
    kw = dict(T=5, hidden_size=3, n_steps=3, lr=1e-3, eval_every=10, n_test=8, batch_size=4)
    streams = []
    for cell, seed in ((rnn, 1), (gru, 1), (rnn, 2)):
        seen.clear()
        compare.adding_run(cell, seed=seed, **kw)
        streams.append(seen[:])
    (n_test, *_), *batches = streams[0]  # first call: the test set, then one batch per step
    assert n_test == 8 and len(batches) == 3 and all(b[0] == 4 for b in batches)
    same = all(np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]) for a, b in zip(streams[0], streams[1]))
    assert same  # same seed, different cell: identical test set and batches
    assert np.array_equal(streams[0][0][1], streams[2][0][1])  # the test set never depends on seed
    assert not np.array_equal(streams[0][1][1], streams[2][1][1])  # another seed: other batches


def test_early_stopping_at_threshold():
    # a threshold above the baseline MSE (1/6) is met at the first evaluation
    r = compare.adding_run(gru, T=5, hidden_size=4, seed=0, n_steps=50, lr=0.01, eval_every=5, n_test=32, threshold=10.0)
    assert r.solved_at == 5 and r.history["steps"] == 5
    # an unreachable threshold trains for the whole budget
    r = compare.adding_run(gru, T=5, hidden_size=4, seed=0, n_steps=12, lr=0.01, eval_every=5, n_test=32, threshold=1e-12)
    assert r.solved_at is None and r.history["steps"] == 12 and r.history["eval_step"] == [5, 10, 12]


def test_cell_kwargs_and_dtype_pass_through():
    r = compare.adding_run(gru, T=4, hidden_size=3, seed=0, n_steps=2, lr=0.01, eval_every=1, n_test=4,
                           reset_after=False, label="gru-cho", dtype=np.float64)
    assert r.label == "gru-cho"
    assert r.n_params == 3 * (2 * 3 + 3 * 3 + 3) + 3 + 1  # no b_hn
    r = compare.adding_run(gru, T=4, hidden_size=3, seed=0, n_steps=2, lr=0.01, eval_every=1, n_test=4)
    assert r.n_params == 3 * (2 * 3 + 3 * 3 + 3) + 3 + 3 + 1  # with b_hn (H more)


def test_bad_threshold_rejected():
    with pytest.raises(ValueError, match="threshold"):
        compare.adding_run(rnn, T=4, hidden_size=3, seed=0, n_steps=2, lr=0.01, threshold=0.0)


def test_summarize():
    def run(label, seed, solved, mse, steps=100):
        return compare.Run(label, seed, 10, {"steps": steps}, solved, mse, 0.5, {})

    runs = [run("a", 0, 50, 0.005), run("a", 1, None, 0.02), run("a", 2, 150, 0.009), run("b", 0, None, 0.1, 200)]
    table = compare.summarize(runs)
    assert list(table) == ["a", "b"]
    assert table["a"]["solved"] == 2 and table["a"]["runs"] == 3
    assert table["a"]["steps"] == (50, 100.0, 150)
    assert table["a"]["final_mse"] == (0.005, 0.009, 0.02)
    assert table["a"]["sec_per_step"] == pytest.approx(0.005)
    assert table["b"]["steps"] is None and table["b"]["sec_per_step"] == pytest.approx(0.0025)
