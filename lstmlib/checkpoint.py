"""Save and load a model — a nested dict/list of arrays — as one ``.npz`` file, without pickle.

A lesson trains a model for a long time once (a script), stores it, and later loads the very
same weights in a notebook. ``np.load(..., allow_pickle=False)`` can read everything written
here, because every entry is a plain numeric or unicode array:

=========================  ==============================================================
key in the ``.npz``        content
=========================  ==============================================================
``format``                 ``"lstmlib-checkpoint/1"`` (0-d unicode array)
``model/<path>``           one array per leaf; ``<path>`` is :func:`lstmlib.optim.leaves`'
                           name, e.g. ``model/layers[1].W_h`` or ``model/W_y``
``vocab`` (optional)       the vocabulary's characters, in id order (``<U1`` array)
``meta``                   a JSON object (0-d unicode array): hyper-parameters, notes
``arrays/<name>`` (opt.)   extra numeric arrays, e.g. loss histories
=========================  ==============================================================

Dict keys in a model must be identifiers (``W_x``, ``layers``) so that a path reads back
unambiguously; lists are rebuilt from their ``[k]`` indices. Loading validates the format and
raises a ``ValueError`` that says what is wrong with the file.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .data import Vocab
from .optim import leaves

FORMAT = "lstmlib-checkpoint/1"

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*\Z")


class Checkpoint(NamedTuple):
    """What :func:`load` returns."""

    model: dict  # nested dict/list of arrays, as saved
    vocab: Vocab | None  # None if the checkpoint has no vocabulary
    meta: dict  # the JSON metadata
    arrays: dict  # extra arrays {name: ndarray}


# ------------------------------------------------------------------------------ flatten / unflatten


def _check_keys(tree, where: str = "model") -> None:
    if isinstance(tree, dict):
        for k, v in tree.items():
            if not isinstance(k, str) or not _KEY.match(k):
                raise ValueError(f"{where} has key {k!r}: checkpoint keys must be identifiers like 'W_x' or 'layers'")
            _check_keys(v, f"{where}.{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            _check_keys(v, f"{where}[{i}]")


def flatten(model) -> dict:
    """``{path: array}`` for every array of a nested model, e.g. ``{"layers[0].W_x": ..., "W_y": ...}``."""
    if not isinstance(model, dict):
        raise TypeError(f"model must be a dict (of arrays, dicts and lists), got {type(model).__name__}")
    _check_keys(model)
    flat = {}
    for path, arr in leaves(model):  # raises TypeError on anything but arrays, dicts and lists
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"model.{path} has dtype {arr.dtype}; checkpoints hold numeric arrays only")
        flat[path] = arr
    return flat


def _parse(path: str) -> list:
    tokens, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None or (pos == 0 and path.startswith(".")) or (pos > 0 and m.group(1) and path[pos] != "."):
            raise ValueError(f"cannot read the model path {path!r} in the checkpoint")
        tokens.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not tokens or not isinstance(tokens[0], str):
        raise ValueError(f"cannot read the model path {path!r} in the checkpoint")
    return tokens


def _build(node, where: str):
    """Turn the ``{int: ...}`` placeholders made by :func:`unflatten` into lists."""
    if isinstance(node, np.ndarray):
        return node
    if all(isinstance(k, int) for k in node):
        idx = sorted(node)
        if idx != list(range(len(idx))):
            raise ValueError(f"the checkpoint's list {where} has indices {idx}, expected 0..{len(idx) - 1}")
        return [_build(node[i], f"{where}[{i}]") for i in idx]
    if any(isinstance(k, int) for k in node):
        raise ValueError(f"the checkpoint mixes list indices and dict keys under {where}")
    return {k: _build(v, f"{where}.{k}") for k, v in node.items()}


def unflatten(flat: dict) -> dict:
    """Inverse of :func:`flatten`."""
    root: dict = {}
    for path, arr in flat.items():
        tokens = _parse(path)
        node = root
        for tok, nxt in zip(tokens[:-1], tokens[1:]):
            child = node.setdefault(tok, {})
            if isinstance(child, np.ndarray):
                raise ValueError(f"the checkpoint has both an array and a sub-tree at {path!r}")
            node = child
        if tokens[-1] in node:
            raise ValueError(f"the checkpoint has two entries for {path!r}")
        node[tokens[-1]] = arr
    return _build(root, "model")


def _cast(model, dtype):
    if dtype is None:
        return model
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a float dtype such as float32 or float64, got {dt}")
    flat = {k: (a.astype(dt) if a.dtype.kind == "f" else a) for k, a in flatten(model).items()}
    return unflatten(flat)


# ------------------------------------------------------------------------------------- save / load


def save(path, model: dict, *, vocab: Vocab | None = None, meta: dict | None = None, arrays: dict | None = None, dtype=None) -> Path:
    """Write ``model`` (and optionally its vocabulary, JSON ``meta`` and extra ``arrays``) to ``path``.

    ``path`` must end in ``.npz``. ``dtype`` (e.g. ``np.float32``) converts the float leaves of
    the model to keep the file small; the model passed in is not changed. Returns the path.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path must end in .npz (np.savez would append it silently), got {str(path)!r}")
    entries = {"format": np.array(FORMAT)}
    for key, arr in flatten(_cast(model, dtype)).items():
        entries["model/" + key] = arr
    if vocab is not None:
        if not isinstance(vocab, Vocab):
            raise TypeError(f"vocab must be an lstmlib.data.Vocab, got {type(vocab).__name__}")
        if any(not isinstance(c, str) or len(c) != 1 for c in vocab.chars) or len(set(vocab.chars)) != len(vocab.chars):
            raise ValueError("vocab must hold distinct single characters")
        entries["vocab"] = np.array(vocab.chars, dtype="<U1")
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict (stored as JSON), got {type(meta).__name__}")
    try:
        entries["meta"] = np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True))
    except (TypeError, ValueError) as e:
        raise TypeError(f"meta must be JSON-serialisable (str, int, float, bool, None, lists, dicts): {e}") from None
    for name, arr in (arrays or {}).items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"array name {name!r} must be identifiers joined by '/', e.g. 'history/loss'")
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub":
            raise TypeError(f"arrays[{name!r}] must be a numeric ndarray, got {getattr(arr, 'dtype', type(arr).__name__)}")
        entries["arrays/" + name] = arr
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **entries)
    return path


def load(path, *, dtype=None) -> Checkpoint:
    """Read a checkpoint written by :func:`save` (never unpickles anything).

    ``dtype`` (e.g. ``np.float64``) converts the model's float leaves after loading — useful
    when the file stores float32 but the lesson computes in float64.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{str(path)!r} is not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            files = {k: z[k] for k in z.files}
    except ValueError as e:  # e.g. an object array that would need pickle
        raise ValueError(f"{str(path)!r} is not a valid lstmlib checkpoint: {e}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{str(path)!r} is not a readable .npz file: {e}") from None
    fmt = files.get("format")
    if fmt is None or fmt.shape != () or str(fmt) != FORMAT:
        raise ValueError(f"{str(path)!r} is not an lstmlib checkpoint (expected format {FORMAT!r}, found {None if fmt is None else str(fmt)!r})")
    unknown = sorted(k for k in files if k not in ("format", "vocab", "meta") and not k.startswith(("model/", "arrays/")))
    if unknown:
        raise ValueError(f"{str(path)!r} has unexpected entries {unknown}")
    flat = {k[len("model/"):]: a for k, a in files.items() if k.startswith("model/")}
    if not flat:
        raise ValueError(f"{str(path)!r} holds no model arrays")
    model = _cast(unflatten(flat), dtype)
    vocab = None
    if "vocab" in files:
        chars = files["vocab"]
        if chars.dtype.kind != "U" or chars.ndim != 1 or any(len(c) != 1 for c in chars.tolist()) or len(set(chars.tolist())) != chars.size:
            raise ValueError(f"{str(path)!r} has a malformed vocabulary (expected distinct single characters)")
        vocab = Vocab(tuple(chars.tolist()))
    meta_arr = files.get("meta")
    if meta_arr is None or meta_arr.dtype.kind != "U" or meta_arr.shape != ():
        raise ValueError(f"{str(path)!r} has no JSON metadata")
    try:
        meta = json.loads(str(meta_arr))
    except json.JSONDecodeError as e:
        raise ValueError(f"{str(path)!r} has metadata that is not JSON: {e}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{str(path)!r} has metadata that is not a JSON object")
    arrays = {k[len("arrays/"):]: a for k, a in files.items() if k.startswith("arrays/")}
    return Checkpoint(model, vocab, meta, arrays)
