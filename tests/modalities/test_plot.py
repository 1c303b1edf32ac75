"""The png plotter draws fitness over time with a marker per kind of individual."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from harness import registry
from harness.errors import DataError
from modalities.plot import COLORS, render

SPEC = {
    "format": "insitu.plot", "version": 1, "title": "evolution of chat",
    "x_label": "evaluation", "y_label": "heldout_bpb (lower is better)",
    "points": [
        {"x": 1, "y": 3.0, "kind": "seed"}, {"x": 2, "y": 2.5, "kind": "mutation"},
        {"x": 3, "y": 2.2, "kind": "merge", "champion": True},
        {"x": 4, "y": 2.9, "kind": "merge_refused"},
    ],
    "lines": [{"name": "best so far", "points": [[1, 3.0], [2, 2.5], [3, 2.2], [4, 2.2]]}],
    "kinds": {"merge_refused": "refused merge"},
}


def test_the_registered_png_plotter_writes_a_png(tmp_path):
    """The plotter found through the registry writes a PNG of the requested size."""
    out = registry.plotters.get("png")(tmp_path / "fit.png", SPEC)
    img = Image.open(io.BytesIO(out.read_bytes()))
    assert img.format == "PNG" and img.size == (960, 560)


def test_merges_are_marked_in_red():
    """A merge draws red crosses: the merge colour is present in the picture."""
    img = render(SPEC, 480, 320)
    assert COLORS["merge"] in {c for _, c in img.getcolors(maxcolors=1 << 16)}


def test_an_empty_spec_draws_a_note_and_a_bad_one_is_refused():
    """No points still gives a picture; something that is not a plot spec raises DataError."""
    assert render({**SPEC, "points": [], "lines": []}).size == (960, 560)
    with pytest.raises(DataError, match="plot spec"):
        render({"points": []})


def test_labels_keep_the_spaces_between_words():
    """The labels' font sets a space at least 3 px wide ("best so far", not "bestsofar")."""
    from modalities.plot import plot_font

    font = plot_font()
    assert font.getlength("best so far") - font.getlength("bestsofar") >= 2 * 3
