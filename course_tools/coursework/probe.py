"""pytest plugin loaded into the nbval run that the checker starts (maybe in a sandbox); not for direct use.

nbval decides pass or fail for every cell, exactly as ``pytest --nbval`` does. This plugin only
records what happened, per cell, into the JSON file named by ``$CW_PROBE_OUT``: the outcome,
nbval's message, the new outputs of a failed cell and, for "Cell outputs differ", the first
difference found the way nbval's ``compare_outputs`` looks for it (same sanitizing, same keys
skipped, same order), so the checker can show it labelled as reference and yours.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections import defaultdict

import pytest

_records: dict[int, dict] = {}
_collect_errors: list[str] = []
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


MAX_TEXT = 20000  # characters kept of any one output string (a run may print a gigabyte)


def _clip(obj):
    if isinstance(obj, str):
        return obj if len(obj) <= MAX_TEXT else obj[:MAX_TEXT] + "…[truncated]"
    if isinstance(obj, list):
        return [_clip(x) for x in obj[:200]]
    if isinstance(obj, dict):
        return {k: _clip(v) for k, v in obj.items()}
    return obj


def _jsonable(obj):
    return _clip(json.loads(json.dumps(_clip(obj), default=str)))


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if hasattr(item, "cell_num") and hasattr(item, "cell"):
            # nbval coalesces the stored streams in place while it runs; keep a pristine copy
            item._cw_reference = copy.deepcopy(item.cell.get("outputs", []))


def pytest_collectreport(report):
    if report.failed:
        _collect_errors.append(_ANSI.sub("", str(report.longrepr)))


def _flatten(outputs, skip, sanitize):
    flat = defaultdict(list)
    for out in outputs:
        for key in out.keys():
            if key in skip:
                continue
            if key == "data":
                for dkey in out[key].keys():
                    if dkey not in skip:
                        flat[dkey].append(sanitize(out[key][dkey]))
            else:
                flat[key].append(sanitize(out[key]))
    return flat


def first_difference(item) -> dict | None:
    """Mirror of nbval's IPyNbCell.compare_outputs that returns the first mismatch found."""
    from nbval.plugin import coalesce_streams, transform_streams_for_comparison

    skip = item.parent.skip_compare
    test = transform_streams_for_comparison(item.test_outputs or [])
    ref = transform_streams_for_comparison(coalesce_streams(copy.deepcopy(item._cw_reference)))
    test_flat = _flatten(test, skip, item.sanitize)
    ref_flat = _flatten(ref, skip, item.sanitize)
    missing = [k for k in ref_flat if k not in test_flat]
    if missing:
        k = missing[0]
        return {"kind": "missing", "key": k, "reference": ref_flat[k], "yours": []}
    unexpected = [k for k in test_flat if k not in ref_flat]
    if unexpected:
        k = unexpected[0]
        return {"kind": "unexpected", "key": k, "reference": [], "yours": test_flat[k]}
    for k, ref_values in ref_flat.items():
        test_values = test_flat[k]
        if len(ref_values) != len(test_values):
            return {"kind": "count", "key": k, "reference": ref_values, "yours": test_values}
        for r, t in zip(ref_values, test_values):
            if r != t:
                return {"kind": "value", "key": k, "reference": [r], "yours": [t]}
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    num = getattr(item, "cell_num", None)
    if num is None:
        return
    rec = _records.setdefault(num, {"cell_num": num, "outcome": "passed", "message": ""})
    if rep.when == "setup":
        if rep.failed:
            rec.update(outcome="failed", message=_ANSI.sub("", str(call.excinfo.value)) if call.excinfo else "")
        return
    if rep.when != "call":
        return
    if getattr(rep, "wasxfail", None) is not None and rep.skipped:
        rec["outcome"] = "xfailed"
    else:
        rec["outcome"] = rep.outcome
    if call.excinfo is not None:
        rec["message"] = _clip(_ANSI.sub("", str(call.excinfo.value)).strip())
        rec["exception_type"] = call.excinfo.type.__name__
    if rep.failed or rec["outcome"] == "xfailed":
        try:
            rec["kernel_alive"] = bool(item.parent.kernel.is_alive())
        except Exception:
            rec["kernel_alive"] = False
        outputs = getattr(item, "test_outputs", None) or []
        rec["outputs"] = _jsonable(outputs)
        if rec["message"].startswith("Cell outputs differ"):
            try:
                rec["diff"] = _jsonable(first_difference(item))
            except Exception as exc:  # never let reporting change the verdict
                rec["diff_error"] = repr(exc)
            rec["nbval_report"] = _clip(_ANSI.sub("", "\n".join(getattr(item, "comparison_traceback", []) or [])))


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("CW_PROBE_OUT")
    if not path:
        return
    data = {
        "records": [_records[k] for k in sorted(_records)],
        "collect_errors": _collect_errors,
        "exitstatus": int(exitstatus),
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
