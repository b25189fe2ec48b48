"""Every plot from a small real checkpoint: the data drawn, and valid PNG and SVG files."""

from __future__ import annotations

import math
import struct
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.collections import LineCollection, PathCollection, PolyCollection  # noqa: E402
from matplotlib.contour import QuadContourSet  # noqa: E402

from propulate import plots  # noqa: E402
from propulate.population import Status  # noqa: E402
from propulate.results import parameter_importance, read_checkpoint  # noqa: E402

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
    segments = [path.vertices for path in lines.get_paths()]
    assert len(segments) == len(ok)
    for s in segments:  # a vertex on every axis (parameters and loss), all within 0..1
        on_axes = s[np.isfinite(s[:, 0]) & (s[:, 0] == np.round(s[:, 0]))]
        assert list(on_axes[:, 0]) == list(range(len(LIMITS) + 1))
        assert np.all((s[np.isfinite(s)] >= -1e-9) & (s[np.isfinite(s)] <= len(LIMITS)))
        assert np.all((on_axes[:, 1] >= 0) & (on_axes[:, 1] <= 1))
    # The best line is drawn last (on top) and sits at the bottom of the loss axis.
    assert segments[-1][-1][1] == pytest.approx(0.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == [*LIMITS, "loss"]


def test_parallel_coordinates_tick_labels_sit_on_no_line(data):
    figure = plots.plot_parallel_coordinates(data)
    (ax,) = plot_axes(figure)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    figure.canvas.draw()  # lays the figure out
    boxes = [t.get_window_extent() for t in ax.texts]
    assert len(boxes) > 2 * len(LIMITS)  # the labels of every axis
    crossing = 0
    for line in (path.vertices for path in lines.get_paths()):  # with the nan breaks
        for a, b in zip(line[:-1], line[1:], strict=True):
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                continue  # the break at a gutter
            samples = ax.transData.transform(np.linspace(a, b, 40))
            x, y = samples[:, 0], samples[:, 1]
            for box in boxes:
                inside = (x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)
                crossing += int(inside.any())
    assert crossing == 0


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
        plots.plot_all(run_dir, tmp_path, kinds=("pareto",))


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


def test_importance_shares_sum_to_one(records):
    figure = plots.plot_importance(records)
    (ax,) = plot_axes(figure)
    widths = [p.get_width() for p in ax.patches]
    assert sum(widths) == pytest.approx(1.0)
    raw = parameter_importance(records)
    assert sum(raw.values()) != pytest.approx(1.0)  # the raw estimates overlap
    shares = parameter_importance(records, normalize=True)
    assert sorted(widths) == pytest.approx(sorted(shares.values()))
    assert sum(shares.values()) == pytest.approx(1.0)


def test_importance_title_fits_in_the_figure(records):
    figure = plots.plot_importance(records)
    (ax,) = plot_axes(figure)
    renderer = figure.canvas.get_renderer()
    figure.canvas.draw()
    title = ax.title.get_window_extent(renderer)
    page = figure.bbox
    assert page.x0 <= title.x0 and title.x1 <= page.x1 and title.y1 <= page.y1


def test_history_by_evaluation_number(records):
    figure = plots.plot_history(records, x="evaluations")
    (ax,) = plot_axes(figure)
    xs = sorted(x for c in ax.collections for x in c.get_offsets()[:, 0])
    assert xs[: EVALUATIONS - 1] == list(range(1, EVALUATIONS))  # all but the failed one...
    assert sorted(ax.collections[-1].get_offsets()[:, 0]) != []  # ...which is in the strip
    assert ax.get_xlabel().startswith("evaluation")
    assert all(float(t).is_integer() for t in ax.get_xticks())
    with pytest.raises(ValueError, match="x='steps' must be one of 'time', 'evaluations'"):
        plots.plot_history(records, x="steps")


def test_history_legend_sits_outside_the_axes(records):
    figure = plots.plot_history(records)
    (ax,) = plot_axes(figure)
    assert ax.get_legend() is None and len(figure.legends) == 1
    figure.canvas.draw()
    legend = figure.legends[0].get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # right of the data, hiding none of it


def test_learning_curves_have_whole_steps_and_show_single_values(records):
    records = [dict(r) for r in records]
    records[0]["curve"] = [2.5]  # a run stopped after its first epoch
    figure = plots.plot_learning_curves(records)
    (ax,) = plot_axes(figure)
    (single,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [tuple(p) for p in single.get_offsets()] == [(1.0, 2.5)]
    figure.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_timeline_one_bar_per_evaluation_one_row_per_worker(tmp_path):
    data = read_checkpoint(make_islands(tmp_path / "ck"))
    figure = plots.plot_timeline(data)
    (ax,) = plot_axes(figure)
    bars = {c.get_label(): c for c in ax.collections if isinstance(c, PolyCollection)}
    assert {k: len(c.get_paths()) for k, c in bars.items()} == {"ok": 5, "failed": 1, "pruned": 1}
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "rank 0 (island 0)",
        "rank 1 (island 0)",
        "rank 2 (island 1)",
    ]
    # Rank 0's third evaluation: 1000 s to 1002 s (in minutes, the run spans 1003 s).
    row_0 = [p.vertices for p in bars["ok"].get_paths() if p.vertices[:, 1].max() < 0.5]
    third = max(row_0, key=lambda v: v[:, 0].min())
    assert third[:, 0].min() == pytest.approx(1000 / 60)
    assert third[:, 0].max() == pytest.approx(1002 / 60)
    expected = (1 + 1 + 2 + 1.5 + 1 + 2 + 1) / (3 * 1003)
    assert plots.busy_share(data.records) == pytest.approx(expected)
    assert f"{expected:.0%}" in ax.get_title()


def test_timeline_of_a_real_run(records):
    figure = plots.plot_timeline(records)
    (ax,) = plot_axes(figure)
    bars = sum(len(c.get_paths()) for c in ax.collections if isinstance(c, PolyCollection))
    assert bars == EVALUATIONS
    assert len(ax.get_yticklabels()) == len({r["rank"] for r in records})


def test_ecdf_steps_up_to_the_share_of_successes(tmp_path):
    data = read_checkpoint(make_islands(tmp_path / "ck"))
    figure = plots.plot_ecdf(data)
    (ax,) = plot_axes(figure)
    first = ax.get_lines()[0]
    assert first.get_label() == "all evaluations"
    assert list(first.get_xdata()) == [0.5, 1.0, 2.0, 3.0, 4.0]  # the successful losses
    assert list(first.get_ydata()) == pytest.approx([1 / 7, 2 / 7, 3 / 7, 4 / 7, 5 / 7])
    assert {line.get_label() for line in ax.get_lines()[1:]} == {"island 0", "island 1"}
    assert "1 failed" in ax.get_title() and "1 pruned" in ax.get_title()


def test_contour_one_panel_per_pair(data, records):
    ok = [r for r in records if r["status"] == Status.OK]
    figure = plots.plot_contour(data)
    axes = plot_axes(figure)
    assert len(axes) == 6  # 4 parameters: 4 * 3 / 2 pairs
    assert [ax.get_xlabel() for ax in axes if ax.get_xlabel()] == ["x", "lr (log)", "n"]
    assert [ax.get_ylabel() for ax in axes if ax.get_ylabel()] == ["lr (log)", "n", "act"]
    for ax in axes:
        assert points(ax) == len(ok) + 1  # every success and the best as a star
        assert any(isinstance(c, QuadContourSet) for c in ax.get_children())
    (pair,) = plot_axes(plots.plot_contour(data, params=["act", "x"]))
    assert (pair.get_xlabel(), pair.get_ylabel()) == ("act", "x")
    with pytest.raises(ValueError, match="at least 2 distinct names"):
        plots.plot_contour(data, params=["x", "nope"])


def test_contour_leaves_unexplored_regions_empty():
    from propulate.plots.contour import _smoothed

    # Five points along the left edge, near the bottom: the map is filled there, and empty
    # (masked, drawn white) in the far corner, where the search never looked.
    grid, values = _smoothed(np.zeros(5), np.linspace(0, 0.1, 5), np.linspace(0, 1, 5))
    assert values.shape == (len(grid), len(grid))
    assert not values.mask[0, 0] and values.mask[-1, -1]
    assert 0 <= values.min() and values.max() <= 1
