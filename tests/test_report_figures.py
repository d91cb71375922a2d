"""The report's figures draw what the table holds: one line per interval, labels whole, the bounds marked."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from toposcope.claims import figures


def rows() -> pd.DataFrame:
    long = "topo_sine_mid_relu, nine spheres (Naitzat geometry), both learn"
    return pd.DataFrame([
        {"setting": "a", "part": "direction", "verdict": "holds", "estimate": 0.5, "low": 0.4, "high": 0.6,
         "threshold": 1.0},
        {"setting": "a", "part": "magnitude", "verdict": "holds", "estimate": 0.5, "low": 0.4, "high": 0.6,
         "threshold": 2 / 3},
        {"setting": long, "part": "direction", "verdict": "inconclusive", "estimate": 1.1, "low": -np.inf,
         "high": np.inf, "threshold": 1.0},
        {"setting": "b", "part": "mechanism", "verdict": "inconclusive", "estimate": -0.2, "low": -0.6, "high": 0.3,
         "threshold": 0.0},
        {"setting": "c", "part": "dying", "verdict": "holds", "estimate": np.nan, "low": np.nan, "high": np.nan,
         "threshold": np.nan},
    ])  # fmt: skip


def texts(fig) -> list[str]:
    """Every piece of text a figure shows: titles, axis labels, tick labels, legend entries, annotations."""
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_text())]


def assert_nothing_cut(fig) -> None:
    cut = [t for t in texts(fig) if t.rstrip().endswith(("...", "\u2026"))]
    assert not cut, f"labels cut short: {cut}"


def test_panels_merge_parts_sharing_an_interval_and_keep_labels_whole():
    panels = figures.forest_panels(rows())
    assert set(panels) == {"ratio", "correlation"}  # the dying row has no estimate
    ratio = panels["ratio"]
    assert len(ratio) == 2 and ratio.marks.iloc[0] == (2 / 3, 1.0)
    assert " ".join(ratio.label.iloc[0].split()) == "a (direction holds; magnitude holds)"
    words = " ".join(ratio.label.iloc[1].split())
    assert words.startswith("topo_sine_mid_relu, nine spheres (Naitzat geometry), both learn (direction")
    assert all(len(line) <= figures.LABEL_WIDTH for line in ratio.label.iloc[1].split("\n"))


def test_forest_draws_one_interval_per_row_the_bounds_and_arrows():
    fig = figures.plot_forest(rows(), title="claim")
    assert_nothing_cut(fig)
    ratio_ax, correlation_ax = fig.axes
    assert [t.get_text() for t in ratio_ax.get_yticklabels()] == list(figures.forest_panels(rows())["ratio"].label)
    vertical = {line.get_xdata()[0] for line in ratio_ax.get_lines() if len(set(line.get_xdata())) == 1
                and len(line.get_xdata()) == 2 and line.get_ydata()[0] == 0 and line.get_ydata()[1] == 1}  # fmt: skip
    assert {1.0, 2 / 3} <= vertical
    assert len(ratio_ax.texts) == 2  # the unbounded interval ends in an arrow at each side
    assert "..." not in " ".join(t.get_text() for ax in fig.axes for t in ax.get_yticklabels())
    assert correlation_ax.get_xlim()[0] < -0.6 and correlation_ax.get_xlim()[1] > 0.3
    assert figures.plot_forest(rows().iloc[4:]) is None  # nothing with an estimate: no figure


def test_horizon_plot_draws_each_curve_and_both_bounds():
    curve = pd.DataFrame({"horizon": [10.0, 20, 30], "ratio": [1.0, 0.8, 0.6], "low": [1.0, 0.6, 0.4],
                          "high": [1.0, 1.0, 0.9]})  # fmt: skip
    ax = figures.plot_horizon({"a / relu": curve, "b / relu": curve.assign(ratio=1.0)})
    drawn = {line.get_label(): line for line in ax.get_lines()}
    assert list(drawn["a / relu (95% band)"].get_ydata()) == [1.0, 0.8, 0.6]
    assert "b / relu (95% band)" in drawn and "claimed ratio 0.67" in drawn
    assert len(ax.collections) == 2  # one band per curve


def test_reading_figures_draw_every_layout_and_the_null():
    import matplotlib

    matplotlib.use("Agg")
    from toposcope.claims import cnn_figures as figures

    rows = []
    for layout in ("relu", "topo_sine_mid"):
        for seed in range(3):
            for epoch in (0, 3):
                for layer in ("input", "act3"):
                    for n in (250, 500):
                        for cls in ("all", "0-6"):
                            rows.append({"activation": layout, "seed": seed, "epoch": epoch, "layer": layer,
                                         "reading": "cross_share", "class": cls, "n": n, "value": 0.2 + 0.01 * seed,
                                         "null": 0.9})  # fmt: skip
                            rows.append({"activation": layout, "seed": seed, "epoch": epoch, "layer": layer,
                                         "reading": "merge_scale", "class": cls, "n": n,
                                         "value": (2 if cls == "all" else 1.5) + 0.1 * seed, "null": 1.0})  # fmt: skip
                    for c in range(2):
                        for d in (0, 1):
                            for n in (50, 100):
                                rows.append({"activation": layout, "seed": seed, "epoch": epoch, "layer": layer,
                                             "reading": f"long_h{d}", "class": c, "n": n, "value": 1 - d,
                                             "null": 1 - d})  # fmt: skip
    frame = pd.DataFrame(rows)
    bands = figures.reading_bands(frame, "cross_share")
    assert np.allclose(bands["mean"], 0.21) and (bands.seeds == 3).all() and (bands.null == 0.9).all()
    merge = figures.reading_bands(frame, "merge_scale").groupby("class")["mean"].unique()
    assert np.allclose(merge["all"], 2.1) and np.allclose(merge["0-6"], 1.6)  # groups of classes kept apart
    fig = figures.plot_separation(frame, ["input", "act3"], {"act3": "dense"}, {"all": "all"}, reading="merge_scale")
    assert fig.axes[0].get_ylabel() == "merge scale (within-class spacings)"
    assert fig.axes[0].get_ylim()[1] > 2.1  # no fixed top: the panel reaches its highest value
    drawn = [line.get_ydata() for line in fig.axes[0].get_lines() if line.get_linestyle() == "-"]
    assert any(np.allclose(y, [2.1, 2.1]) for y in drawn)
    with pytest.raises(ValueError, match="reading must be one of"):
        figures.plot_separation(frame, ["input"], {}, reading="long_h0")
    fig = figures.plot_separation(frame, ["input", "act3"], {"act3": "dense"}, {"all": "all", "0-6": "pair"})
    assert len(fig.axes) == 2 and [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["input", "dense"]
    assert_nothing_cut(fig)
    assert "sine in conv1, conv2, 500 a class" in " ".join(texts(fig)).replace("\n", " ")  # wrapped, whole
    fig = figures.plot_long_bars(frame, ["input", "act3"], {})
    assert len(fig.axes) == 2
    assert {"ReLU, 100 a class", "dashes: 50 a class"} <= set(fig.axes[0].get_legend_handles_labels()[1])
    assert_nothing_cut(fig)


def test_frames_html_draws_every_setting_of_every_slider():
    import json
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pytest

    import toposcope as ts

    drawn = []

    def draw(k, hops, colour):
        drawn.append((k, hops, colour))
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.set_title(f"{k} {hops}")
        return fig

    page = ts.frames_html(draw, {"k": [3, 8, 14], "hops": [1, 2]}, fixed={"colour": "k"})
    assert drawn == [(k, h, "k") for k in (3, 8, 14) for h in (1, 2)]  # row-major, as the script indexes them
    assert page.count('type="range"') == 2 and 'max="2"' in page and 'max="1"' in page
    frames = json.loads(re.search(r"var f=(\[.*?\]),l=", page).group(1))
    assert len(frames) == 6 and len(set(frames)) == 6
    one = ts.frames_html(draw, "k", [3, 8], {"hops": 1, "colour": "k"})
    assert one.count('type="range"') == 1
    with pytest.raises(ValueError, match="at least 2 values of 'hops'"):
        ts.frames_html(draw, {"k": [3, 8], "hops": [1]})
