"""The mutation script's bookkeeping (benchmarks/mutation.py): what --survivors resumes from, and when it refuses."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mutation.py"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_survivors_resume_only_from_an_unchanged_source(mutation, tmp_path):
    modules = mutation.AREAS["store"][0]
    with pytest.raises(SystemExit, match=r"no earlier run of 'store'"):
        mutation._previous("store", modules, tmp_path)
    outcomes = {modules[0]: {"a": 1, "b": 0, "c": None}}
    stored = {"sources": mutation._source_hashes(modules), "outcomes": outcomes}
    (tmp_path / "store.outcomes.json").write_text(json.dumps(stored))
    assert mutation._previous("store", modules, tmp_path) == outcomes
    stored["sources"][modules[0]] = "0" * 40  # the module changed since that run
    (tmp_path / "store.outcomes.json").write_text(json.dumps(stored))
    with pytest.raises(SystemExit, match=r"changed since the last run of 'store'; run the area in full"):
        mutation._previous("store", modules, tmp_path)
