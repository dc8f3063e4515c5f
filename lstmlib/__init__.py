"""lstmlib: RNN, LSTM and GRU cells with backpropagation through time, in NumPy.

The course's notebooks are built on it. Cells are plain functions over dicts of named arrays:
``lstmlib.rnn``, ``lstmlib.lstm`` and ``lstmlib.gru`` each provide ``init_params``,
``step_forward``, ``step_backward``, ``forward``, ``backward``, ``from_torch`` and ``to_torch``;
the single time loop they share is in ``lstmlib.recurrent``.
"""

from . import activations, analysis, data, gradcheck, gru, layers, lstm, models, optim, recurrent, rnn

__version__ = "0.1.0"

__all__ = ["activations", "analysis", "data", "gradcheck", "gru", "layers", "lstm", "models", "optim", "recurrent", "rnn"]
