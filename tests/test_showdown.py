"""lstmlib.showdown as lesson 09 uses it: run metadata (label, seed, parameter count, wall time),
fair data streams across cells, early stopping at a threshold, and the summary table.

The LSTM-specific tests (and lesson 08's claim) are in test_showdown_lstm.py, the GRU's in
test_showdown_gru.py.
"""

import numpy as np
import pytest

from lstmlib import analysis, gru, lstm, models, rnn, showdown


def test_run_keeps_lesson_08_fields_first_and_defaults_the_new_ones():
    assert showdown.Run._fields[:5] == ("model", "history", "test_mse", "solved_step", "steps")
    assert showdown.Run._fields[5:] == ("label", "seed", "seconds")
    run = showdown.Run({"w": np.zeros((2, 3))}, {}, 0.5, None, 10)
    assert (run.label, run.seed, run.seconds, run.n_params) == ("", None, None, 6)


def test_adding_run_records_label_seed_params_and_time():
    kw = dict(T=6, hidden_size=5, seed=3, n_steps=20, lr=0.01, eval_every=5, n_test=16, progress=False)
    a = showdown.adding_run(lstm, **kw)
    b = showdown.adding_run(lstm, **kw)
    assert a.history["loss"] == b.history["loss"] and a.history["eval"] == b.history["eval"]
    assert a.label == "lstm" and a.seed == 3
    # cell 4 * (D*H + H*H + H) with D=2, H=5, plus the read-out H*1 + 1
    assert a.n_params == 4 * (2 * 5 + 5 * 5 + 5) + 5 + 1
    assert a.n_params == analysis.count_params(models.init_regressor(lstm, 2, 5, 1, np.random.default_rng(0)))
    assert a.steps == a.history["steps"] == 20 and a.history["eval_step"] == [5, 10, 15, 20]
    assert a.test_mse == a.history["eval"][-1]
    assert a.seconds >= 0
    assert set(a.model) == {"cell", "W_y", "b_y"} and a.model["W_y"].dtype == np.float32
    _, (xs, y) = showdown.adding_task(6, 3, n_test=16)  # the returned model is the trained one
    assert showdown.regressor_mse(lstm, a.model, xs, y) == pytest.approx(a.test_mse, rel=1e-6)


def test_label_and_cell_kwargs_pass_through():
    kw = dict(T=4, hidden_size=3, seed=0, n_steps=2, lr=0.01, eval_every=1, n_test=4, progress=False)
    cho = showdown.adding_run(gru, reset_after=False, label="gru-cho", dtype=np.float64, **kw)
    assert cho.label == "gru-cho" and "b_hn" not in cho.model["cell"] and cho.model["W_y"].dtype == np.float64
    assert cho.n_params == 3 * (2 * 3 + 3 * 3 + 3) + 3 + 1  # no b_hn
    default = showdown.adding_run(gru, **kw)
    assert default.label == "gru"
    assert default.n_params == 3 * (2 * 3 + 3 * 3 + 3) + 3 + 3 + 1  # with b_hn (H more)


def test_same_seed_gives_every_cell_the_same_batches_and_test_set(monkeypatch):
    seen = []
    real = showdown.data.adding_problem

    def recording(n, T, rng, dtype=np.float64):
        xs, y = real(n, T, rng, dtype=dtype)
        seen.append((n, xs, y))
        return xs, y

    monkeypatch.setattr(showdown.data, "adding_problem", recording)
    kw = dict(T=5, hidden_size=3, n_steps=3, lr=1e-3, eval_every=10, n_test=8, batch_size=4, progress=False)
    streams = []
    for cell, seed in ((rnn, 1), (gru, 1), (rnn, 2)):
        seen.clear()
        showdown.adding_run(cell, seed=seed, **kw)
        streams.append(seen[:])
    (n_test, *_), *batches = streams[0]  # first call: the test set, then one batch per step
    assert n_test == 8 and len(batches) == 3 and all(b[0] == 4 for b in batches)
    assert all(np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]) for a, b in zip(streams[0], streams[1]))
    assert not np.array_equal(streams[0][0][1], streams[2][0][1])  # another seed: another test set
    assert not np.array_equal(streams[0][1][1], streams[2][1][1])  # and other batches


def test_solved_step_is_the_first_evaluation_strictly_below_the_threshold():
    kw = dict(T=5, hidden_size=4, seed=1, n_steps=60, lr=0.05, eval_every=5, progress=False, dtype=np.float64)
    full = showdown.adding_run(gru, threshold=None, **kw)
    evals, eval_steps = full.history["eval"], full.history["eval_step"]
    assert len(set(evals)) == len(evals) == 12
    for value in evals:  # each recorded value as the threshold: stop at the first one below it
        expected = next((s for s, e in zip(eval_steps, evals) if e < value), None)
        run = showdown.adding_run(gru, threshold=value, **kw)
        assert run.solved_step == expected
        assert run.steps == (expected if expected is not None else 60)
        assert run.history["eval"] == evals[: len(run.history["eval"])]  # the same run, cut short


def test_unreachable_threshold_trains_the_whole_budget():
    run = showdown.adding_run(gru, 5, 4, seed=0, n_steps=12, lr=0.01, eval_every=5, n_test=32, threshold=1e-12, progress=False)
    assert run.solved_step is None and run.steps == 12 and run.history["eval_step"] == [5, 10, 12]


@pytest.mark.parametrize("threshold", [0.0, -0.5])
def test_bad_threshold_rejected(threshold):
    with pytest.raises(ValueError, match="threshold"):
        showdown.adding_run(rnn, 4, 3, seed=0, n_steps=2, threshold=threshold, progress=False)


def _fake_run(label, seed, solved, mse, steps=100, size=10, seconds=0.5):
    return showdown.Run({"w": np.zeros(size)}, {}, mse, solved, steps, label, seed, seconds)


def test_summarize():
    runs = [_fake_run("a", 0, 50, 0.005), _fake_run("a", 1, None, 0.02), _fake_run("a", 2, 150, 0.009),
            _fake_run("b", 0, None, 0.1, steps=200, size=7)]
    table = showdown.summarize(runs)
    assert list(table) == ["a", "b"]  # in order of first appearance
    assert table["a"]["solved"] == 2 and table["a"]["runs"] == 3 and table["a"]["n_params"] == 10
    assert table["a"]["steps"] == (50, 100.0, 150)
    assert table["a"]["test_mse"] == (0.005, 0.009, 0.02)
    assert table["a"]["sec_per_step"] == pytest.approx(0.005)
    assert table["b"]["steps"] is None and table["b"]["n_params"] == 7
    assert table["b"]["sec_per_step"] == pytest.approx(0.0025)


def test_summarize_without_wall_times_and_of_real_runs():
    untimed = showdown.Run({"w": np.zeros(3)}, {}, 0.1, None, 5)  # what a bare fit_regressor returns
    assert showdown.summarize([untimed])[""]["sec_per_step"] is None
    kw = dict(T=4, hidden_size=3, n_steps=4, eval_every=2, n_test=8, progress=False)
    runs = [showdown.adding_run(cell, seed=s, **kw) for cell in (rnn, gru) for s in (0, 1)]
    table = showdown.summarize(runs)
    assert list(table) == ["rnn", "gru"] and all(row["runs"] == 2 for row in table.values())
    assert table["gru"]["n_params"] == runs[2].n_params and table["rnn"]["sec_per_step"] > 0


def test_summarize_refuses_one_label_for_models_of_different_size():
    kw = dict(T=4, hidden_size=3, seed=0, n_steps=2, eval_every=1, n_test=4, progress=False)
    both = [showdown.adding_run(gru, **kw), showdown.adding_run(gru, reset_after=False, **kw)]
    with pytest.raises(ValueError, match="own label"):
        showdown.summarize(both)
    both[1] = both[1]._replace(label="gru(G3b)")
    assert list(showdown.summarize(both)) == ["gru", "gru(G3b)"]
