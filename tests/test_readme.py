"""The usage example in README.md must run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def examples() -> list[tuple[str, str]]:
    """Each ```python block of the README with the ```text block that states what it prints."""
    found = re.findall(r"```python\n(.*?)```\n\nIt prints.*?\n\n```text\n(.*?)```", README.read_text(), re.S)
    assert len(found) == 2, "every README example states its output in a text block after 'It prints'"
    return found


def agrees(stated: str, printed: str) -> bool:
    """The same lines, words and spacing aside; integers equal, decimals within 0.02 (one more epoch's rounding)."""
    stated_lines, printed_lines = stated.strip().splitlines(), printed.strip().splitlines()
    if len(stated_lines) != len(printed_lines):
        return False
    for a, b in zip(stated_lines, printed_lines, strict=True):
        if NUMBER.sub("#", a).split() != NUMBER.sub("#", b).split():
            return False
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
            whole = not any(c in x + y for c in ".eE")
            if (whole and int(x) != int(y)) or (not whole and abs(float(x) - float(y)) > 0.02):
                return False
    return True


def test_agrees_reads_numbers_with_a_tolerance():
    assert agrees("acc 0.70 [9, 9]", "acc 0.71 [9, 9]")
    assert not agrees("acc 0.70 [9, 9]", "acc 0.75 [9, 9]")
    assert not agrees("acc 0.70 [9, 9]", "acc 0.70 [9, 8]")
    assert not agrees("acc 0.70", "loss 0.70")
    assert not agrees("a\nb", "a")


def run_example(index: int, capsys) -> tuple[str, str]:
    code, stated = examples()[index]
    exec(compile(code, str(README), "exec"), {})
    return stated, capsys.readouterr().out


def test_readme_example_prints_what_it_states(capsys):
    stated, printed = run_example(0, capsys)
    assert agrees(stated, printed), f"README states:\n{stated}\nthe example printed:\n{printed}"


def test_readme_pruning_example_prints_what_it_states(tmp_path, monkeypatch, capsys):
    from toposcope.datasets import DEBIAN_FASHION_MNIST

    if not DEBIAN_FASHION_MNIST.is_dir():
        import pytest

        pytest.skip("needs apt-get install dataset-fashion-mnist")
    monkeypatch.chdir(tmp_path)
    stated, printed = run_example(1, capsys)
    # the latency column is measured, not computed: compare every column but that one
    stated, printed = (re.sub(r"\s+\S+$", "", line) for line in stated.splitlines()), printed.splitlines()
    assert agrees("\n".join(stated), "\n".join(re.sub(r"\s+\S+$", "", line) for line in printed)), printed


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
