"""Lesson 05's hand-built forget gate: one row of W_xf (the delimiter's) resets the cell state at
that character and nowhere else, through the library's LSTM (gate block "f", one-hot input)."""

import numpy as np

from lstmlib import activations, lstm, recurrent


def _subject_cell(vocab, b_f):
    p = {"W_x": np.zeros((len(vocab), 4)), "W_h": np.zeros((1, 4)), "b": np.zeros(4)}
    p["b"][lstm.gate_slice("i", 1)] = 30.0
    p["b"][lstm.gate_slice("f", 1)] = b_f
    p["W_x"][vocab.index("a"), lstm.gate_slice("g", 1)] = 20.0  # writes +1 at 'a'
    p["W_x"][vocab.index("b"), lstm.gate_slice("g", 1)] = -20.0  # writes -1 at 'b'
    return p


def _run(text, vocab, p):
    xs = np.eye(len(vocab))[[vocab.index(ch) for ch in text]][None]
    _, _, cache = lstm.forward(xs, p)
    return recurrent.gather(cache, "f")[0, :, 0], recurrent.gather(cache, "c")[0, :, 0]


def test_delimiter_row_resets_only_at_the_delimiter():
    text = "axx.bxx.axx"
    vocab = sorted(set(text))
    keep = _subject_cell(vocab, 8.0)
    reset = _subject_cell(vocab, 8.0)
    reset["W_x"][vocab.index("."), lstm.gate_slice("f", 1)] = -16.0
    f_keep, c_keep = _run(text, vocab, keep)
    f_reset, c_reset = _run(text, vocab, reset)
    dots = np.array([ch == "." for ch in text])
    np.testing.assert_allclose(f_reset[dots], activations.sigmoid(-8.0))
    np.testing.assert_allclose(f_reset[~dots], activations.sigmoid(8.0))
    np.testing.assert_allclose(f_keep, activations.sigmoid(8.0))  # W_xf = 0: the same f everywhere
    assert np.all(np.abs(c_reset[dots]) < 1e-2)  # memory erased at every '.'
    assert np.all(c_reset[4:7] < -0.99) and np.all(c_reset[8:] > 0.99)  # each sentence holds its own subject
    assert np.all(np.abs(c_keep[4:7]) < 0.01)  # without the reset, +1 and -1 mix to 0
