"""Slider widgets that redraw a matplotlib figure — the lessons' gate "faucets".

The pattern (see the project's ECOSYSTEM notes) is chosen so that a notebook passes strict
nbval, shows its saved state in static HTML and slides, and does not flicker:

* ``draw(**values)`` builds a :class:`matplotlib.figure.Figure` *without pyplot*;
* the figure is rendered to PNG bytes and shown in an :class:`ipywidgets.Image`;
* each slider's ``observe`` callback re-renders and replaces the image's bytes.

Nothing is printed and no Output widget is used, so the callback never adds outputs to the
cell. A later cell — slide-skip, source and output collapsed, printing nothing — calls
``panel.self_check(f=0.5)``: it moves the sliders so headless runs exercise the callback and
raises if a redraw did not happen (``panel.values()`` and ``panel.redraws`` remain for tests).
"""

from __future__ import annotations

from typing import Callable

import ipywidgets as W
import numpy as np

from .plotting import figure_to_png


def slider(description: str, min: float, max: float, value: float, step: float = 0.01, *, readout_format: str = ".2f") -> W.FloatSlider:
    """A validated ``FloatSlider``: rejects ``min >= max``, ``step <= 0``, a step wider than the
    range and a ``value`` outside ``[min, max]`` (ipywidgets would silently clip it)."""
    for name, v in (("min", min), ("max", max), ("value", value), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not np.isfinite(v):
            raise ValueError(f"slider {description!r}: {name} must be a finite number, got {v!r}")
    if not min < max:
        raise ValueError(f"slider {description!r}: min must be < max, got min={min}, max={max}")
    if not 0 < step <= max - min:
        raise ValueError(f"slider {description!r}: step must be in (0, max - min] = (0, {max - min}], got {step}")
    if not min <= value <= max:
        raise ValueError(f"slider {description!r}: value must lie in [min, max] = [{min}, {max}], got {value}")
    return W.FloatSlider(
        value=float(value), min=float(min), max=float(max), step=float(step), description=description,
        continuous_update=False, readout_format=readout_format, style={"description_width": "initial"},
        layout=W.Layout(width="420px"),
    )


class FigurePanel(W.VBox):
    """Sliders above an image of ``draw(**values)``; redraws when any slider moves.

    Attributes: ``sliders`` (dict name -> slider), ``image`` (the ipywidgets.Image),
    ``redraws`` (how many times the figure was drawn, initial draw included; for tests, not
    for printing in a lesson). A lesson's hidden self-check cell calls :meth:`self_check`.
    """

    def __init__(self, draw: Callable, sliders: dict, *, width: int = 900):
        if not callable(draw):
            raise TypeError(f"draw must be callable, got {type(draw).__name__}")
        if not isinstance(sliders, dict) or not sliders:
            raise ValueError("sliders must be a non-empty dict {name: slider}")
        for name, s in sliders.items():
            if not isinstance(s, W.FloatSlider):
                raise TypeError(f"sliders[{name!r}] must be a FloatSlider (use lstmlib.widgets.slider), got {type(s).__name__}")
        self.draw = draw
        self.sliders = dict(sliders)
        self.redraws = 0
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width}px"))
        controls = W.VBox(list(self.sliders.values()))
        super().__init__([controls, self.image])
        self.redraw()
        for s in self.sliders.values():
            s.observe(self._on_change, names="value")

    def values(self) -> dict:
        """Current slider values ``{name: float}``."""
        return {name: s.value for name, s in self.sliders.items()}

    def self_check(self, **values) -> None:
        """Move sliders as a learner would (``panel.self_check(f=0.5, b=1.0)``) and raise
        ``AssertionError`` unless every move redrew the figure with the requested value.

        Prints and returns nothing, so the cell that calls it shows nothing to a learner; a
        headless run (nbclient, nbval) fails loudly if the callback is broken. Each value must
        differ from the slider's current one (otherwise no change event fires) and lie in its
        range (ipywidgets would clip it silently)."""
        if not values:
            raise ValueError("self_check needs at least one slider value, e.g. self_check(f=0.5)")
        for name, value in values.items():
            if name not in self.sliders:
                raise KeyError(f"self_check: no slider named {name!r}; sliders are {sorted(self.sliders)}")
            s = self.sliders[name]
            if not s.min <= value <= s.max:
                raise ValueError(f"self_check: {name}={value} lies outside the slider's range [{s.min}, {s.max}]")
            if value == s.value:
                raise ValueError(f"self_check: {name} is already {value}; pick a different value so the callback runs")
            before, image_before = self.redraws, self.image.value
            s.value = value
            if self.redraws != before + 1:
                raise AssertionError(f"moving slider {name!r} to {value} redrew the figure {self.redraws - before} times, expected 1")
            if abs(s.value - value) > 0.5 * s.step:
                raise AssertionError(f"slider {name!r} holds {s.value} after being set to {value}")
            if not self.image.value or self.image.value == image_before:
                raise AssertionError(f"moving slider {name!r} to {value} did not change the image")

    def redraw(self) -> None:
        fig = self.draw(**self.values())
        self.image.value = figure_to_png(fig)
        self.redraws += 1

    def _on_change(self, change) -> None:
        self.redraw()

    def __repr__(self) -> str:  # stable text/plain for nbval (no bytes, no ids)
        vals = ", ".join(f"{k}={v:.3g}" for k, v in self.values().items())
        return f"FigurePanel({vals})"


def figure_panel(draw: Callable, **sliders) -> FigurePanel:
    """``figure_panel(draw, f=slider("f", 0, 1, 0.9))``: sliders named like ``draw``'s arguments."""
    return FigurePanel(draw, sliders)
