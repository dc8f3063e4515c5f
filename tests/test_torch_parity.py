"""lstmlib equals PyTorch's nn.RNN / nn.LSTM / nn.GRU (float64), when torch is installed.

PyTorch is an optional test dependency (`pip install -e ".[torch]"`); without it these tests skip.
"""

import numpy as np
import pytest

from lstmlib import gru, lstm, rnn

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' to run parity tests")

N, T, D, H = 2, 3, 4, 5
MODULES = {"rnn": (rnn, torch.nn.RNN), "lstm": (lstm, torch.nn.LSTM), "gru": (gru, torch.nn.GRU)}


def torch_weights(module):
    return {k: getattr(module, f"{k}_l0").detach().numpy().copy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


@pytest.mark.parametrize("name", MODULES)
def test_outputs_and_gradients_equal_pytorch(name):
    mod, Torch = MODULES[name]
    torch.manual_seed(0)  # PyTorch's own init; lstmlib reads whatever it produced
    net = Torch(D, H, batch_first=True).double()
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((N, T, D))
    state0 = tuple(rng.standard_normal((N, H)) for _ in mod.CELL.state_names)
    dhs = rng.standard_normal((N, T, H))
    dstate_T = tuple(rng.standard_normal((N, H)) for _ in mod.CELL.state_names)

    params = mod.from_torch(**torch_weights(net))
    hs, sT, cache = mod.forward(xs, params, state0)
    dxs, d0, grads = mod.backward(dhs, cache, params, dstate_T)

    x_t = torch.tensor(xs, requires_grad=True)
    s_t = [torch.tensor(s[None], requires_grad=True) for s in state0]  # (1, N, H): num_layers first
    out, s_out = net(x_t, tuple(s_t) if name == "lstm" else s_t[0])
    s_out = s_out if name == "lstm" else (s_out,)
    loss = (out * torch.tensor(dhs)).sum() + sum((a[0] * torch.tensor(b)).sum() for a, b in zip(s_out, dstate_T))
    loss.backward()

    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-10)
    for a, b in zip(sT, s_out):
        np.testing.assert_allclose(a, b[0].detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dxs, x_t.grad.numpy(), rtol=0, atol=1e-10)
    for a, b in zip(d0, s_t):
        np.testing.assert_allclose(a, b.grad[0].numpy(), rtol=0, atol=1e-10)
    tgrads = mod.from_torch(**{k: getattr(net, f"{k}_l0").grad.numpy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    # from_torch merges the two bias gradients: for RNN/LSTM db = dbias_ih = dbias_hh, so compare
    # against PyTorch's bias_ih gradient directly; weights transpose exactly.
    np.testing.assert_allclose(grads["W_x"], tgrads["W_x"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(grads["W_h"], tgrads["W_h"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(grads["b"], getattr(net, "bias_ih_l0").grad.numpy(), rtol=0, atol=1e-10)
    if name == "gru":
        np.testing.assert_allclose(grads["b_hn"], net.bias_hh_l0.grad.numpy()[2 * H:], rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", MODULES)
def test_to_torch_builds_an_equivalent_module(name):
    mod, Torch = MODULES[name]
    params = mod.init_params(D, H, np.random.default_rng(3))
    net = Torch(D, H, batch_first=True).double()
    with torch.no_grad():
        for k, v in mod.to_torch(params).items():
            getattr(net, f"{k}_l0").copy_(torch.tensor(v))
    xs = np.random.default_rng(4).standard_normal((N, T, D))
    hs, _, _ = mod.forward(xs, params)
    out, _ = net(torch.tensor(xs))
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-10)
