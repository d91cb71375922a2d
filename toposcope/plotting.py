"""Plots: Betti-number tables recorded by :class:`toposcope.BettiTracker`, and barcodes."""

from __future__ import annotations

import pandas as pd

__all__ = [
    "book_style",
    "frames_html",
    "live_explorer",
    "plot_barcode",
    "plot_barcodes",
    "plot_betti_epochs",
    "plot_betti_grid",
    "plot_betti_profile",
]

BOOK_STYLE = {"figure.dpi": 90, "axes.spines.top": False, "axes.spines.right": False, "font.size": 11,
              "legend.fontsize": 10, "xtick.labelsize": 10, "ytick.labelsize": 10, "axes.titlesize": 11}  # fmt: skip
"""The book's matplotlib settings.  The smallest text (legends, ticks) is 10 pt, which at 90 dpi is
12.5 image pixels; the site test checks that no figure is shown so much narrower than it was
drawn that this text falls below 7 screen pixels at a 1280-px window."""


def book_style() -> None:
    """The book's look (every chapter calls it once): matplotlib at modest resolution, no top/right spines;
    pandas tables that show every cell's whole text (the page wraps it; a cell cut short hides what it says)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(BOOK_STYLE)
    pd.set_option("display.max_colwidth", None)


def panels(columns: int, width: float, height: float, *, rows: int = 1, **kwargs):
    """``plt.subplots(rows, columns, squeeze=False, **kwargs)`` with panels ``width`` x ``height`` inches each."""
    import matplotlib.pyplot as plt

    return plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False, **kwargs)


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 3.5))
    return ax


def _check(frame: pd.DataFrame) -> None:
    missing = {"epoch", "layer", "layer_index", "class", "dim", "betti"} - set(frame.columns)
    if missing:
        raise ValueError(f"not a Betti table: missing columns {sorted(missing)}")
    if frame.empty:
        raise ValueError("the Betti table is empty: profile something first")


def plot_betti_profile(frame: pd.DataFrame, epoch: int | None = None, ax=None, title: str | None = None):
    """Betti number against layer, one line per (dimension, class).

    Parameters
    ----------
    frame : DataFrame
        Rows from :meth:`BettiTracker.profile` or :attr:`BettiTracker.frame`.
    epoch : int, optional
        Which epoch to show; default the last recorded one.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _check(frame)
    if frame["epoch"].notna().any():
        epoch = frame["epoch"].max() if epoch is None else epoch
        frame = frame[frame["epoch"] == epoch]
        if frame.empty:
            raise ValueError(f"no rows for epoch {epoch}")
    ax = _axes(ax)
    styles = ["-", "--", ":", "-."]
    for (dim, cls), g in frame.groupby(["dim", "class"], sort=True):
        g = g.sort_values("layer_index")
        ax.plot(g["layer_index"], g["betti"], styles[int(dim) % 4], marker="o", label=f"b{dim}, class {cls}")
    layers = frame.drop_duplicates("layer_index").sort_values("layer_index")
    ax.set_xticks(layers["layer_index"], layers["layer"], rotation=45, ha="right")
    ax.set_ylabel("Betti number")
    ax.set_title(title or ("Betti numbers across layers" + (f" (epoch {epoch})" if epoch is not None else "")))
    ax.legend(ncol=2)
    return ax


def plot_betti_epochs(frame: pd.DataFrame, layer: str, ax=None, title: str | None = None):
    """Betti numbers of one layer against epoch, one line per (dimension, class).

    Returns
    -------
    matplotlib Axes
    """
    _check(frame)
    sub = frame[frame["layer"] == layer]
    if sub.empty:
        raise ValueError(f"no rows for layer {layer!r}; layers are {sorted(frame['layer'].unique())}")
    ax = _axes(ax)
    for (dim, cls), g in sub.groupby(["dim", "class"], sort=True):
        g = g.sort_values("epoch")
        ax.plot(g["epoch"], g["betti"], marker="o", label=f"b{dim}, class {cls}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Betti number")
    ax.set_title(title or f"Betti numbers of {layer} during training")
    ax.legend(ncol=2)
    return ax


def plot_barcode(dgms, ax=None, title: str | None = None, max_bars: int = 60):
    """Draw persistence diagrams as a barcode: one horizontal bar per class, per dimension.

    Parameters
    ----------
    dgms : list of (m, 2) arrays
        ``dgms[d]`` holds (birth, death) pairs, as returned by
        :func:`toposcope.persistence` or ``ripser``.  Infinite deaths are drawn to
        the right edge with an arrow.
    ax : matplotlib Axes, optional
    max_bars : int, default 60
        Longest bars kept per dimension (short bars are noise and clutter).

    Returns
    -------
    matplotlib Axes
    """
    import numpy as np

    ax = _axes(ax)
    finite = [d[np.isfinite(d[:, 1]), 1] for d in dgms if len(d)]
    right = max((f.max() for f in finite if len(f)), default=1.0) * 1.1 or 1.0
    row = 0
    for dim, d in enumerate(dgms):
        if not len(d):
            continue
        d = d[np.argsort(-(np.minimum(d[:, 1], right) - d[:, 0]))][:max_bars]
        for birth, death in d:
            end = right if np.isinf(death) else death
            ax.plot([birth, end], [row, row], color=f"C{dim}", lw=2)
            if np.isinf(death):
                ax.annotate("", xy=(right, row), xytext=(right * 0.97, row), arrowprops={"arrowstyle": "->"})
            row += 1
        ax.plot([], [], color=f"C{dim}", lw=2, label=f"H{dim} ({len(d)} longest)")
        row += 1
    ax.set_yticks([])
    ax.set_xlabel("scale")
    ax.set_xlim(0, right * 1.02)
    ax.set_title(title or "Barcode")
    ax.legend(loc="lower right")
    return ax


def plot_barcodes(clouds: dict, tau: float = 3.0, max_bars: int = 30):
    """Barcodes (H0, H1) of several clouds side by side, each in units of its own nearest-neighbour spacing.

    The spacing is :func:`toposcope.nn_scale`, the unit of :func:`toposcope.long_bars`;
    a dotted line marks ``tau`` spacings, the length from which a bar counts as long.
    Read a cloud beside its null (:func:`toposcope.gaussian_null`) this way.

    Parameters
    ----------
    clouds : dict
        Title -> (n, d) array or tensor.
    tau : float, default 3.0
    max_bars : int, default 30
        Longest bars drawn per dimension.

    Returns
    -------
    matplotlib Figure
    """

    from .readings import nn_scale
    from .topology import persistence

    if not clouds:
        raise ValueError("need at least one cloud to draw")
    fig, axes = panels(len(clouds), 5.2, 3.4)
    for ax, (title, cloud) in zip(axes[0], clouds.items(), strict=True):
        unit = nn_scale(cloud)
        plot_barcode([d / unit for d in persistence(cloud, maxdim=1)], ax=ax, title=title, max_bars=max_bars)
        ax.axvline(tau, color="k", ls=":", lw=1)
        ax.set_xlabel("scale (nearest-neighbour spacings)")
    fig.tight_layout()
    return fig


def plot_betti_grid(tables: dict[str, pd.DataFrame], dims: tuple[int, ...] = (0, 1)):
    """Betti numbers over ``k`` (columns) and sample size (rows), one heat map per table and dimension.

    Parameters
    ----------
    tables : dict
        Title -> :func:`toposcope.betti_sensitivity` table (``k, n, dim, betti``),
        for example a layer's cloud and its Gaussian null (:func:`toposcope.gaussian_null`).
    dims : tuple of int
        The dimensions to show, one column of panels each.

    Returns
    -------
    matplotlib Figure
    """
    import numpy as np

    if not tables:
        raise ValueError("need at least one table to draw")
    fig, axes = panels(len(dims), 5.4, 3.2, rows=len(tables))
    for row, (title, table) in zip(axes, tables.items(), strict=True):
        missing = {"k", "n", "dim", "betti"} - set(table.columns)
        if missing:
            raise ValueError(f"not a betti_sensitivity table: missing columns {sorted(missing)}")
        for ax, dim in zip(row, dims, strict=True):
            grid = table[table.dim == dim].pivot_table(index="n", columns="k", values="betti")
            ax.imshow(grid.values, cmap="viridis", aspect="auto")
            middle = (np.nanmax(grid.values) + np.nanmin(grid.values)) / 2
            for (i, j), value in np.ndenumerate(grid.values):
                ax.text(j, i, int(value), ha="center", va="center", color="k" if value > middle else "w")
            ax.set_xticks(range(len(grid.columns)), grid.columns)
            ax.set_yticks(range(len(grid.index)), grid.index)
            ax.set_xlabel("k (neighbours per point)")
            ax.set_ylabel("points drawn (N)")
            ax.set_title(f"b{dim}: {title}")
    fig.tight_layout()
    return fig


def _value_grid(items) -> dict[str, list]:
    """``{parameter: values}`` of an explorer, checked: at least one parameter, at least 2 values each."""
    grid = {key: list(values) for key, values in items}
    if not grid:
        raise ValueError("need at least one parameter to slide over")
    for key, options in grid.items():
        if len(options) < 2:
            raise ValueError(f"need at least 2 values of {key!r} to slide over; got {options}")
    return grid


def frames_html(draw, name, values=None, fixed: dict | None = None, *, dpi: int = 80) -> str:
    """An explorer that needs no kernel: one figure per setting of its sliders, swapped as they move.

    Every frame is drawn now (``draw(**setting, **fixed)`` must return a matplotlib
    figure, which is closed after), stored as a PNG in the returned HTML, and shown
    by a few lines of JavaScript when a slider moves, so the explorer works on a
    static page.  Display it with ``IPython.display.HTML``.

    Parameters
    ----------
    draw : callable
        Keyword arguments -> ``matplotlib.figure.Figure``.
    name : str or dict
        The parameter one slider moves (its values in ``values``), or
        ``{parameter: values}`` for one slider each: every combination is drawn.
    values : sequence, optional
        The values of ``name`` when it is a string, in slider order (at least 2).
    fixed : dict, optional
        The other arguments of ``draw``.
    dpi : int, default 80

    Returns
    -------
    str
        A ``<div class="toposcope-frames">`` with the sliders, the image and the script.
    """
    import base64
    import html
    import io
    import itertools
    import json
    import uuid

    import matplotlib.pyplot as plt

    grid = _value_grid(name.items() if isinstance(name, dict) else [(name, values or [])])
    frames = []
    for setting in itertools.product(*grid.values()):
        fig = draw(**dict(zip(grid, setting, strict=True)), **(fixed or {}))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        frames.append(base64.b64encode(buffer.getvalue()).decode())
    uid = f"frames-{uuid.uuid4().hex[:12]}"
    labels = [[str(v) for v in options] for options in grid.values()]
    sliders = " ".join(
        f'<label>{html.escape(key)}: <input type="range" min="0" max="{len(options) - 1}" step="1" value="0">'
        f" <output>{html.escape(names[0])}</output></label>"
        for (key, options), names in zip(grid.items(), labels, strict=True)
    )
    return (
        f'<div class="toposcope-frames" id="{uid}">{sliders} <small>(precomputed: works without a kernel)</small>'
        f'<br><img alt="{html.escape(", ".join(grid))} explorer" style="max-width:100%" '
        f'src="data:image/png;base64,{frames[0]}">'
        f"<script>(function(){{var f={json.dumps(frames)},l={json.dumps(labels)};"
        f'var r=document.getElementById("{uid}"),s=r.querySelectorAll("input"),i=r.querySelector("img"),'
        f'o=r.querySelectorAll("output");function u(){{var k=0;for(var j=0;j<s.length;j++){{'
        f"k=k*l[j].length+Number(s[j].value);o[j].textContent=l[j][s[j].value];}}"
        f'i.src="data:image/png;base64,"+f[k];}}s.forEach(function(e){{e.addEventListener("input",u);}});}})();'
        f"</script></div>"
    )


def live_explorer(draw, grid: dict, fixed: dict | None = None):
    """The live twin of :func:`frames_html`: one ipywidgets control per parameter, over the same values.

    Needs a running kernel (Jupyter, Binder); on a static page use :func:`frames_html`.
    Numbers slide (``SelectionSlider``), text options toggle (``ToggleButtons``).

    Parameters
    ----------
    draw : callable
        Keyword arguments -> ``matplotlib.figure.Figure``.
    grid : dict
        ``{parameter: values}``, at least 2 values each, in control order.
    fixed : dict, optional
        The other arguments of ``draw``.

    Returns
    -------
    ipywidgets.interactive
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    grid = _value_grid(grid.items())

    def show(**setting):
        draw(**setting, **(fixed or {}))
        plt.show()

    def control(key, options):
        kind = widgets.ToggleButtons if all(isinstance(v, str) for v in options) else widgets.SelectionSlider
        return kind(options=options, description=key)

    return widgets.interactive(show, **{key: control(key, options) for key, options in grid.items()})
