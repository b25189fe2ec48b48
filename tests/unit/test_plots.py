"""Every plot from a small real checkpoint: the data drawn, and valid PNG and SVG files."""

from __future__ import annotations

import math
import struct
import sys
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("matplotlib")

from matplotlib.collections import LineCollection, PathCollection  # noqa: E402

from propulate import plots  # noqa: E402
from propulate.population import Status  # noqa: E402
from propulate.results import read_checkpoint  # noqa: E402

from .results_data import EPOCHS, EVALUATIONS, LIMITS, make_islands, make_run  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def data(run_dir):
    return read_checkpoint(run_dir)


@pytest.fixture(scope="module")
def records(data):
    return data.records


def plot_axes(figure):
    return [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]


def points(ax):
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_png(path):
    import matplotlib.image

    width, height = png_size(path)
    assert width > 300 and height > 200
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 0.01  # not a blank canvas


def svg_points(path):
    """Parse the SVG; return how many scatter markers it places in the plots (not the legend)."""
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    count = 0
    for axes in root.iter(SVG + "g"):
        if not axes.get("id", "").startswith("axes_"):
            continue
        for group in axes.findall(SVG + "g"):  # the legend is a sibling group, not inside
            if group.get("id", "").startswith("PathCollection"):
                count += sum(1 for _ in group.iter(SVG + "use"))
    return count


def test_history_draws_every_evaluation(records, tmp_path):
    figure = plots.plot_history(records)
    (ax,) = plot_axes(figure)
    assert points(ax) == EVALUATIONS
    failed = [c for c in ax.collections if c.get_label().startswith("failed")]
    assert len(failed) == 1 and len(failed[0].get_offsets()) == 1
    # The running best ends at the best loss.
    best_line = next(line for line in ax.get_lines() if line.get_label() == "best so far")
    assert best_line.get_ydata()[-1] == min(r["loss"] for r in records)
    assert list(best_line.get_ydata()) == sorted(best_line.get_ydata(), reverse=True)
    png = plots.save_figure(figure, tmp_path / "history.png")
    check_png(png)
    svg = plots.save_figure(figure, tmp_path / "history.svg")
    assert svg_points(svg) == EVALUATIONS  # one marker per evaluation


def test_history_per_island_with_pruned_and_failed(tmp_path):
    data = read_checkpoint(make_islands(tmp_path / "ck"))
    figure = plots.plot_history(data)
    (ax,) = plot_axes(figure)
    assert points(ax) == 7
    labels = [c.get_label() for c in ax.collections]
    assert {"island 0", "island 1", "pruned (island 0)", "failed (1, loss inf)"} <= set(labels)
    line_labels = {line.get_label() for line in ax.get_lines()}
    assert {"best on island 0", "best on island 1", "best so far (all islands)"} <= line_labels


def test_parallel_coordinates_one_line_per_success(data, records, tmp_path):
    figure = plots.plot_parallel_coordinates(data)
    (ax,) = plot_axes(figure)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    ok = [r for r in records if r["status"] == Status.OK]
    segments = lines.get_segments()
    assert len(segments) == len(ok)
    assert all(len(s) == len(LIMITS) + 1 for s in segments)  # one vertex per parameter + loss
    assert all(0 <= y <= 1 for s in segments for _, y in s)
    # The best line is drawn last (on top) and sits at the bottom of the loss axis.
    assert segments[-1][-1][1] == pytest.approx(0.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == [*LIMITS, "loss"]


def test_slices_one_panel_per_parameter(data, records, tmp_path):
    figure = plots.plot_slices(data)
    axes = plot_axes(figure)
    assert [ax.get_xlabel() for ax in axes] == ["x", "lr (log)", "n", "act"]
    ok = [r for r in records if r["status"] == Status.OK]
    for ax in axes:
        first = ax.collections[0]
        assert len(first.get_offsets()) == len(ok)
        assert points(ax) == len(ok) + 1  # and the best as a star
    assert axes[1].get_xscale() == "log"
    assert all(float(t).is_integer() for t in axes[2].get_xticks())  # n is an int
    assert [t.get_text() for t in axes[3].get_xticklabels()] == ["relu", "tanh"]
    assert svg_points(plots.save_figure(figure, tmp_path / "slices.svg")) == 4 * (len(ok) + 1)


def test_importance_one_bar_per_parameter(records, tmp_path):
    figure = plots.plot_importance(records)
    (ax,) = plot_axes(figure)
    assert len(ax.patches) == len(LIMITS)
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == sorted(LIMITS)
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths)  # most important on top


def test_learning_curves_one_line_per_curve(records, tmp_path):
    figure = plots.plot_learning_curves(records)
    (ax,) = plot_axes(figure)
    segments = [
        s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()
    ]
    with_curves = [r for r in records if r["curve"]]
    assert len(segments) == len(with_curves) == EVALUATIONS - 1
    assert all(list(s[:, 0]) == list(range(1, EPOCHS + 1)) for s in segments)


def test_learning_curves_without_curves_explain_why(tmp_path):
    with pytest.raises(ValueError, match="no learning curves"):
        plots.plot_learning_curves(make_islands(tmp_path / "ck"))


def test_plot_all_writes_every_plot_in_both_formats(run_dir, tmp_path):
    written, skipped = plots.plot_all(run_dir, tmp_path / "out", formats=("png", "svg"))
    assert skipped == {}
    assert set(written) == set(plots.PLOTS)
    for name, files in written.items():
        assert [f.name for f in files] == [f"{name}.png", f"{name}.svg"]
        check_png(files[0])
        ET.parse(files[1])


def test_plot_all_skips_what_the_results_cannot_show(tmp_path):
    written, skipped = plots.plot_all(
        make_islands(tmp_path / "ck"),
        tmp_path / "out",
        kinds=["history", "importance", "learning_curves"],
    )
    assert set(written) == {"history"}
    assert set(skipped) == {"learning_curves", "importance"}
    assert "at least 10" in skipped["importance"]
    assert "did not yield intermediate losses" in skipped["learning_curves"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["history.png"]


def test_bad_formats_and_kinds_are_rejected(run_dir, tmp_path):
    with pytest.raises(ValueError, match="choose one or more of"):
        plots.plot_all(run_dir, tmp_path, formats=("jpg",))
    with pytest.raises(ValueError, match="unknown plot"):
        plots.plot_all(run_dir, tmp_path, kinds=("contour",))


def test_a_wide_loss_range_gets_a_log_axis(records):
    scaled = [dict(r, loss=r["loss"] * 10 ** (3 * i / len(records))) for i, r in enumerate(records)]
    assert plot_axes(plots.plot_history(scaled))[0].get_yscale() == "log"
    assert plot_axes(plots.plot_history(records))[0].get_yscale() == "linear"


def test_without_matplotlib_the_message_says_what_to_install(records, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'propulate\[plots\]'"):
        plots.plot_history(records)


def test_records_without_a_search_space_still_plot(records):
    # Plain records (no search space): bounds from the values, a log scale guessed for lr
    # because its values span three decades.
    plain = []
    for i, r in enumerate(records):
        params = dict(r["params"], lr=10 ** (-4 + 3 * i / (len(records) - 1)))
        plain.append(dict(r, params=params))
    axes = plot_axes(plots.plot_slices(plain))
    assert [ax.get_xlabel() for ax in axes] == ["x", "lr (log)", "n", "act"]
    ok = sum(math.isfinite(r["loss"]) for r in records)
    assert len(axes[0].collections[0].get_offsets()) == ok
