"""Every figure goes to the browser without plotly's template: Streamlit themes the chart itself."""

import json

import numpy as np
import plotly.io as pio

from viz import runs, sequences
from viz.figure import PLAIN, figure


def sent(fig) -> dict:
    """The figure as st.plotly_chart serialises it."""
    return json.loads(pio.to_json(fig, validate=False))


def test_figure_keeps_the_traces_and_layout_it_is_given_and_no_template():
    fig = sent(figure([{"type": "bar", "x": [1, 2], "y": [3, 4]}], {"height": 200}))
    assert fig["data"] == [{"type": "bar", "x": [1, 2], "y": [3, 4]}]
    assert fig["layout"] == {"template": PLAIN, "height": 200}


def test_figures_of_every_page_carry_no_plotly_template():
    figures = [
        runs.distance_figure({"a vs b": {"epochs": [1], "layers": {"layer1.W": [0.5]}}}),
        sequences.embedding_table_figure(np.eye(2, dtype=np.float32), ["a", "b"]),
    ]
    for fig in figures:
        layout = sent(fig)["layout"]
        assert layout["template"] == PLAIN
        # the default template's trace defaults (a colour scale per trace type) are not sent
        assert "colorscale" not in json.dumps(layout)
