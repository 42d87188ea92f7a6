"""Sliders that re-run a simulation or a measurement and redraw its plot.

    explore(plot_fn, skew=(0.6, 1.4, 0.1, 1.0), cache_keys=(10, 500, 10, 100), policy=["lru", "lfu"])

``plot_fn(**values)`` must draw (or return) a matplotlib figure. A tuple is (min, max, step, start);
a list is a dropdown. In the built book the widget shows its first state; move the sliders in
JupyterLab (``make lab``) or on Binder, where a kernel re-runs ``plot_fn``.
"""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display


def _control(name: str, spec):
    label = name.replace("_", " ")
    style = {"description_width": "initial"}
    if isinstance(spec, list):
        return W.Dropdown(options=spec, value=spec[0], description=label, style=style)
    lo, hi, step, start = spec
    cls = W.IntSlider if all(isinstance(v, int) for v in spec) else W.FloatSlider
    return cls(min=lo, max=hi, step=step, value=start, description=label, continuous_update=False, style=style)


def explore(plot_fn, **specs) -> W.VBox:
    controls = {name: _control(name, spec) for name, spec in specs.items()}

    def draw(**values):
        fig = plot_fn(**values)
        if fig is not None:
            display(fig)
            plt.close(fig)

    out = W.interactive_output(draw, controls)
    box = W.VBox([W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")), out])
    display(box)
    return box
