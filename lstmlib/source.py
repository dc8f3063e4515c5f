"""Show the real source of a library function in a notebook, so text and library never drift."""

from __future__ import annotations

import inspect


def show_source(obj, *, start: str | None = None, stop: str | None = None):
    """Return an ``IPython.display.Code`` of ``obj``'s source (a function, class or module).

    ``start``/``stop`` cut the listing: keep lines from the first one containing ``start`` up to
    (not including) the first later one containing ``stop`` — e.g. only one branch of a function.
    """
    from IPython.display import Code

    src = inspect.getsource(obj)
    if start is not None or stop is not None:
        lines = src.splitlines(keepends=True)
        i = 0
        if start is not None:
            matches = [k for k, line in enumerate(lines) if start in line]
            if not matches:
                raise ValueError(f"start={start!r} does not occur in the source of {obj.__qualname__ if hasattr(obj, '__qualname__') else obj}")
            i = matches[0]
        j = len(lines)
        if stop is not None:
            later = [k for k in range(i + 1, len(lines)) if stop in lines[k]]
            if not later:
                raise ValueError(f"stop={stop!r} does not occur after start in the source")
            j = later[0]
        src = "".join(lines[i:j])
    return Code(src, language="python")
