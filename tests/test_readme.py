"""The usage example in README.md must run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "(9, 9)"


def test_readme_pruning_example_runs(tmp_path, monkeypatch, capsys):
    from toposcope.datasets import DEBIAN_FASHION_MNIST

    if not DEBIAN_FASHION_MNIST.is_dir():
        import pytest

        pytest.skip("needs apt-get install dataset-fashion-mnist")
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[1]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "unpruned" in printed and "pruned" in printed


def test_packaging_files_agree_with_pyproject():
    """LICENSE, CITATION.cff and the changelog exist and say what pyproject.toml says."""
    import tomllib

    import yaml

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    assert citation["version"] == project["version"] and citation["license"] == project["license"]
    assert {r["title"] for r in citation["references"]} >= {
        "Topology of Deep Neural Networks",
        "Using Topological Framework for the Design of Activation Function and Model Pruning in Deep Neural Networks",
    }
    assert (root / "LICENSE").read_text().startswith(f"{project['license']} License")
    assert project["license-files"] == ["LICENSE"]
    assert project["version"] in (root / "CHANGELOG.md").read_text()
