"""Naitzat et al.'s geometry of nine rings / nine spheres, and what the Betti recipe reads on it."""

import numpy as np
import pytest
import torch

import toposcope as ts
from toposcope.datasets import naitzat as nz
from toposcope.experiments import geometry, mlp


def test_naitzat_rings_layout_and_scaling():
    s = ts.nine_rings(geometry="naitzat")
    X, y = s.train.tensors
    assert X.shape == (16_000, 3) and len(s.test) == 2_000 and X.dtype == torch.float32
    full = torch.cat([X, s.test.tensors[0]])
    assert torch.allclose(full.abs().max(dim=0).values, torch.ones(3))  # max-abs scaled per coordinate
    assert abs((y == 0).float().mean().item() - 0.5) < 0.02


def test_naitzat_rings_xy_bands_follow_the_class_table():
    # Without noise, each group lists its xy band (two circles) first, then its xz band.
    X, y = nz.rings_points(36 * 50, 0.0, np.random.default_rng(0), scale=False)
    groups = nz.ring_groups(len(X))
    for g, centre in enumerate(nz.CENTRES):
        xy, xz = X[groups == g][:100], X[groups == g][100:]
        expected = int(tuple(centre.astype(int)) in nz.XY_IS_CLASS_1)
        assert set(y[groups == g][:100]) == {expected} and set(y[groups == g][100:]) == {1 - expected}
        assert np.allclose(xy[:, 2], centre[2]) and np.allclose(xz[:, 1], centre[1])
        radii = np.linalg.norm(xy[:, :2] - (centre[:2] + np.array([2.2, 0.0])), axis=1)
        assert set(np.round(radii, 6)) == {2.2, 2.5}
        assert set(np.round(np.linalg.norm(xz[:, [0, 2]] - centre[[0, 2]], axis=1), 6)) == {2.2, 2.5}


def test_naitzat_spheres_layout():
    s = ts.nine_spheres(geometry="naitzat")
    X, y = s.train.tensors
    full = torch.cat([X, s.test.tensors[0]])
    assert torch.allclose(full.abs().max(dim=0).values, torch.ones(3))
    assert abs((y == 0).float().mean().item() - 0.4) < 0.02  # two of the five spheres of a group


@pytest.mark.parametrize("make", [ts.nine_rings, ts.nine_spheres])
def test_naitzat_seeded(make):
    a, b, c = (make(900, 90, geometry="naitzat", seed=s) for s in (1, 1, 2))
    assert torch.equal(a.train.tensors[0], b.train.tensors[0])
    assert not torch.equal(a.train.tensors[0], c.train.tensors[0])


def test_geometry_argument_errors():
    with pytest.raises(ValueError, match="geometry"):
        ts.nine_rings(geometry="paper")
    with pytest.raises(ValueError, match="radius only applies"):
        ts.nine_rings(geometry="naitzat", radius=2.0)
    with pytest.raises(ValueError, match="radii, spacing only apply"):
        ts.nine_spheres(geometry="naitzat", radii=(1, 2, 3), spacing=2.0)
    with pytest.raises(ValueError, match="noise"):
        ts.nine_rings(geometry="naitzat", noise=-0.1)


def test_noise_free_naitzat_rings_read_nine_loops_and_paper_noise_joins_the_bands():
    table = geometry.readings("rings", "naitzat", noises=(0.0, 0.7), ks=(8, 14, 30), sizes=(None,), n_points=8000)
    clean = table[table.noise == 0.0]
    assert clean[clean.k == 14].matches.all()  # both classes (9, 9)
    noisy = table[table.noise == 0.7]
    assert all(b[0] <= 3 for b in noisy.betti)  # at no k do the nine bands stay apart
    assert not noisy.matches.any()


def test_band_gaps_explain_the_joining():
    quiet, paper = geometry.band_gaps(0.0), geometry.band_gaps(0.7)  # the paper's 16,000 points
    assert not quiet.joined.any() and paper.joined.all()
    assert (paper.gap_noisy < quiet.gap_clean / 5).all()
    with pytest.raises(ValueError, match="noise"):
        geometry.band_gaps(-1.0)


def test_naitzat_spheres_read_their_shells_on_the_full_cloud_only():
    table = geometry.readings("spheres", "naitzat", ks=(14,), sizes=(None, 1000), n_points=9000)
    full, draw = table[table.sampling == "all"], table[table.sampling == "random"]
    assert full.matches.all()
    assert not draw[draw.label == 1].matches.any()  # 1,000 points are too few for 27 spheres


def test_readings_round_trip(tmp_path):
    table = geometry.readings("rings", "clean", ks=(14,), sizes=(None,), n_points=2000)
    path = tmp_path / "r.csv"
    table.to_csv(path, index=False)
    back = geometry.load_readings(path)
    assert list(back.betti) == list(table.betti) and back.noise.isna().all()
    with pytest.raises(ValueError, match="data set"):
        geometry.readings("tori")


def test_naitzat_profile_targets():
    groups = list(mlp.training_groups(mlp.PROFILES["naitzat"], ["convergence"]))
    assert {g.dataset: g.target for g in groups} == {"rings_naitzat": 0.95, "spheres_naitzat": 0.99}
    assert max(len(g.seeds) for g in groups if "relu" in g.layouts and "topo_sine_mid" in g.layouts) >= 25
    assert {g.epochs for g in groups if g.dataset == "spheres_naitzat"} == {100}


def test_committed_readings_back_what_chapter_1_says():
    from pathlib import Path

    table = geometry.load_readings(Path(__file__).resolve().parents[1] / "data/results/geometry_readings.csv")
    rings = table[(table.dataset == "rings") & (table.geometry == "naitzat") & (table.sampling == "all")]
    assert {b[0] for b in rings[rings.noise == 0.7].betti} <= {2, 3, 4}  # no k reads nine bands
    assert rings[(rings.noise == 0.0) & (rings.k == 30)].matches.all()
    clean = table[(table.dataset == "rings") & (table.geometry == "clean") & (table.k == 14)]
    assert clean.matches.all()  # whole class and the 1,000-point draws
    spheres = table[table.dataset == "spheres"]
    draws = spheres[(spheres.label == 1) & (spheres.sampling != "all") & (spheres.k == 14)]
    assert all(b[0] <= 2 for b in draws.betti)  # class 1 from 1,000 points: one or two components
    assert spheres[(spheres.sampling == "all") & (spheres.k == 30)].matches.all()
