"""The grid backends: local and Ray give the same results file; a run is never made twice."""

import json

import pytest

from toposcope.experiments import ResultStore, mlp
from toposcope.experiments.backends import Cell, run_cells

TIMING = {"group_seconds", "seconds"}


def _double(todo):
    return [{"twice": 2 * p["x"]} for p in todo]


def _records(path):
    out = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        key = json.dumps(record["params"], sort_keys=True)
        out[key] = {k: v for k, v in record["result"].items() if k not in TIMING}
    return out


def test_local_backend_makes_each_run_once(tmp_path):
    store = ResultStore(tmp_path / "r.jsonl")
    cells = [Cell([{"x": 1}, {"x": 2}], _double), Cell([{"x": 2}, {"x": 3}], _double)]
    assert run_cells(store, cells) == 3
    assert run_cells(store, cells) == 0  # resumed: nothing left to do
    assert sorted(r["twice"] for r in store.frame().to_dict("records")) == [2, 4, 6]


def test_bad_backend_and_broken_cell(tmp_path):
    store = ResultStore(tmp_path / "r.jsonl")
    with pytest.raises(ValueError, match="backend"):
        run_cells(store, [], backend="dask")
    with pytest.raises(RuntimeError, match="returned 0 results for 1 runs"):
        run_cells(store, [Cell([{"x": 1}], lambda todo: [])])
    assert len(store) == 0


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    import sys

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_backend_gives_the_local_results_file(tmp_path, monkeypatch, local_ray):
    tiny = dict(mlp.PROFILES["smoke"], sizes={"rings": (600, 200)}, seeds=[0, 1], epochs=2,
                activations=["relu", "topo_sine_mid"], convergence_extra=None)  # fmt: skip
    monkeypatch.setitem(mlp.PROFILES, "smoke", tiny)
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    mlp.run("smoke", local, device="cpu", progress=False, experiments=("convergence",))
    mlp.run("smoke", remote, device="cpu", progress=False, experiments=("convergence",), backend="ray")
    assert _records(local) == _records(remote) and len(_records(remote)) == 4
    # resumed on Ray: nothing is made twice
    store = ResultStore(tmp_path / "cells.jsonl")
    cells = [Cell([{"x": 1}, {"x": 2}], _double), Cell([{"x": 2}, {"x": 3}], _double)]
    assert run_cells(store, cells, "ray") == 3 and run_cells(store, cells, "ray") == 0
