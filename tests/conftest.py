"""Shared test helpers: the evenly sampled shapes live in toposcope.shapes."""

import matplotlib

matplotlib.use("Agg")
