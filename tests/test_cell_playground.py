"""Tests for lstmlib.cell_playground: hand-set gates are exactly what the real LSTM computes."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from lstmlib import cell_playground as cp
from lstmlib import lstm


BASE = {"i": 0.2, "f": 0.7, "g": -0.3, "o": 0.6}


def test_base_values_when_input_is_zero():
    params = cp.gate_params(BASE)
    assert params["W_x"].shape == (1, 4) and params["W_h"].shape == (1, 4) and params["b"].shape == (4,)
    (h, c), cache = lstm.step_forward(np.zeros((1, 1)), (np.zeros((1, 1)), np.zeros((1, 1))), params)
    for gate, value in BASE.items():
        assert getattr(cache, gate)[0, 0] == pytest.approx(value, abs=1e-12)


def test_each_cue_sets_only_its_gates_and_order_is_i_f_g_o():
    params = cp.gate_params(BASE, on=[{"i": 0.9, "g": 0.8}, {"o": 0.05}])
    xs = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    tr = cp.run(params, xs)
    np.testing.assert_allclose(tr.i, [0.9, 0.2, 0.2], atol=1e-12)
    np.testing.assert_allclose(tr.f, [0.7, 0.7, 0.7], atol=1e-12)
    np.testing.assert_allclose(tr.g, [0.8, -0.3, -0.3], atol=1e-12)
    np.testing.assert_allclose(tr.o, [0.6, 0.05, 0.6], atol=1e-12)
    # the bias of each gate sits in that gate's block of the library's (i, f, g, o) order
    assert params["b"][lstm.gate_slice("f", 1)][0] == pytest.approx(np.log(0.7 / 0.3))


def test_trace_matches_equations_L5_L6_and_lstm_forward():
    params = cp.gate_params(BASE, on=[{"i": 0.95, "g": 0.9}])
    x = cp.pulses(6, 2, 3)[:, None]
    tr = cp.run(params, x, c0=0.5, h0=-0.1)
    c_prev = np.concatenate([[0.5], tr.c[:-1]])
    np.testing.assert_allclose(tr.c_prev, c_prev)
    np.testing.assert_allclose(tr.c, tr.f * c_prev + tr.i * tr.g, atol=1e-14)  # (L5)
    np.testing.assert_allclose(tr.c, tr.kept + tr.written, atol=1e-14)
    np.testing.assert_allclose(tr.h, tr.o * np.tanh(tr.c), atol=1e-14)  # (L6)
    hs, (h_T, c_T), _ = lstm.forward(x[None], params, (np.full((1, 1), -0.1), np.full((1, 1), 0.5)))
    np.testing.assert_allclose(tr.h, hs[0, :, 0])
    assert tr.c[-1] == c_T[0, 0]


def test_ends_of_the_range_are_clipped_by_eps():
    tr = cp.run(cp.gate_params({"i": 1.0, "f": 1.0, "g": 1.0, "o": 0.0}), np.zeros((3, 1)))
    np.testing.assert_allclose(tr.f, 1 - cp.EPS, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.g, 1 - cp.EPS, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.o, cp.EPS, rtol=0, atol=1e-12)
    assert np.all(tr.f < 1.0) and np.all(tr.o > 0.0)
    # a perfect-memory faucet: three writes of ~1 add up to ~3 (c is not bounded by 1)
    assert tr.c[-1] == pytest.approx(3.0, abs=1e-5)
    assert np.all(np.abs(tr.h) < 1e-5)


@pytest.mark.parametrize(
    "base, on, match",
    [
        ({"i": 0.5, "f": 0.5, "g": 0.5}, (), "all four gates"),
        ({**BASE, "f": 1.5}, (), r"\[0, 1\]"),
        ({**BASE, "g": -1.2}, (), r"\[-1, 1\]"),
        ({**BASE, "o": float("nan")}, (), "finite"),
        (BASE, [{"z": 0.5}], "keys among"),
        (BASE, [{"i": True}], "finite number"),
    ],
)
def test_bad_gate_values_are_rejected(base, on, match):
    with pytest.raises(ValueError, match=match):
        cp.gate_params(base, on)


def test_pulses_and_run_validate_their_input():
    np.testing.assert_array_equal(cp.pulses(4, 1, 4), [1, 0, 0, 1])
    with pytest.raises(ValueError, match="1..4"):
        cp.pulses(4, 0)
    with pytest.raises(ValueError, match=r"\(T, D\)"):
        cp.run(cp.gate_params(BASE), np.zeros(3))


def test_plots_return_figures():
    params = cp.gate_params(BASE, on=[{"i": 0.9}, {"o": 1.0}])
    xs = np.stack([cp.pulses(8, 2), cp.pulses(8, 6)], axis=1)
    tr = cp.run(params, xs)
    for fig in (cp.plot_write(tr, title="쓰기", cue_labels=("쓰기", "읽기")), cp.plot_cell(tr, title="셀")):
        assert isinstance(fig, Figure)
        assert len(fig.axes) == 2
        assert fig.axes[0].get_title()
    # the plotted data are the trace's values, under the labels the lessons read
    top, bottom = cp.plot_cell(tr, title="셀").axes
    lines = {ln.get_label(): ln.get_ydata() for ln in top.lines + bottom.lines}
    for label, values in (("망각 $f_t$", tr.f), ("입력 $i_t$", tr.i), ("후보 $g_t$", tr.g), ("출력 $o_t$", tr.o),
                          ("셀 상태 $c_t$", tr.c), ("은닉 상태 $h_t$", tr.h)):
        np.testing.assert_array_equal(lines[label], values)
    top, bottom = cp.plot_write(tr, title="쓰기").axes
    bars = {c.get_label(): [r.get_height() for r in c] for c in bottom.containers}
    np.testing.assert_allclose(bars["쓰는 양 $i_t \\odot g_t$"], tr.i * tr.g)
    np.testing.assert_allclose(bars["새 셀 상태 $c_t$"], tr.c)
    np.testing.assert_allclose(bars["이전 셀 상태 $c_{t-1}$"], tr.c_prev)


def test_a_schedule_sets_every_gate_at_every_step_through_the_real_lstm():
    rng = np.random.default_rng(3)
    T = 7
    sched = {"i": rng.uniform(0.01, 0.99, T), "f": rng.uniform(0.01, 0.99, T), "g": rng.uniform(-0.99, 0.99, T),
             "o": rng.uniform(0.01, 0.99, T)}
    params, xs = cp.schedule_params(sched)
    assert params["W_x"].shape == (T, 4) and xs.shape == (T, T) and not params["W_h"].any()
    tr = cp.run_schedule(sched, c0=0.4)
    for gate in lstm.GATES:
        np.testing.assert_allclose(getattr(tr, gate), sched[gate], atol=1e-12)
    c, cs = 0.4, []
    for t in range(T):  # (L5) by hand
        c = sched["f"][t] * c + sched["i"][t] * sched["g"][t]
        cs.append(c)
    np.testing.assert_allclose(tr.c, cs, atol=1e-12)
    np.testing.assert_allclose(tr.h, sched["o"] * np.tanh(cs), atol=1e-12)  # (L6)


def test_schedule_helper_and_presets_show_what_lesson_07_says():
    s = cp.schedule(5, {2: {"i": 1.0, "g": 0.9}, 4: {"f": 0.0}})
    np.testing.assert_array_equal(s["i"], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(s["f"], [1, 1, 1, 0, 1])
    traces = {name: cp.run_schedule(sched) for name, sched in cp.PRESETS.items()}
    plus_minus = traces["+0.9 쓰고 t=6에 −0.9 쓰기"]
    assert abs(plus_minus.c[4] - 0.9) < 1e-5 and abs(plus_minus.c[5]) < 1e-5  # written, then cancelled
    forget = traces["t=2에 쓰고 t=7에 잊기"]
    assert abs(forget.c[5] - 0.9) < 1e-5 and np.all(np.abs(forget.c[6:]) < 1e-5)
    hidden = traces["쓰기 → 숨기기 → 읽기"]
    assert np.all(np.abs(np.delete(hidden.h, 5)) < 1e-5) and hidden.h[5] == pytest.approx(np.tanh(0.9), abs=1e-5)


@pytest.mark.parametrize("sched, match", [
    ({"i": [0.5], "f": [0.5], "g": [0.5]}, "all four gates"),
    ({"i": [0.5, 0.5], "f": [0.5], "g": [0.5], "o": [0.5]}, "same length"),
    ({"i": [1.5], "f": [0.5], "g": [0.5], "o": [0.5]}, r"\[0, 1\]"),
])
def test_bad_schedules_are_rejected(sched, match):
    with pytest.raises(ValueError, match=match):
        cp.schedule_params(sched)
    with pytest.raises(ValueError, match="1..3"):
        cp.schedule(3, {4: {"i": 1.0}})


def test_schedule_panel_redraws_once_per_edit_and_once_per_preset():
    panel = cp.schedule_panel()
    assert panel.redraws == 1 and panel.image.value[:4] == b"\x89PNG"
    first = next(iter(cp.PRESETS))
    for gate in lstm.GATES:
        np.testing.assert_array_equal(panel.values()[gate], cp.PRESETS[first][gate])
    panel.cells["g"][1].value = -0.5
    assert panel.redraws == 2 and panel.values()["g"][1] == -0.5
    assert panel.trace().c[1] == pytest.approx(-0.5, abs=1e-5)
    panel.preset.value = "t=2에 쓰고 t=7에 잊기"
    assert panel.redraws == 3  # the whole grid filled, one drawing
    np.testing.assert_array_equal(panel.values()["f"], cp.PRESETS["t=2에 쓰고 t=7에 잊기"]["f"])
    panel.cells["i"][0].value = 7.0  # typed out of range: the box clips it to the gate's range
    assert panel.values()["i"][0] == 1.0
    assert repr(panel) == "SchedulePanel(T=10, 예시='t=2에 쓰고 t=7에 잊기')"
    fig = cp.plot_schedule(panel.trace(), title="t")
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert [label[0] for label in labels] == list("①②③④⑤")  # the five steps of lesson 07, in order
