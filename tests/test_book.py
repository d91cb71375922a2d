"""The book's sources and its runner."""

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from toposcope._book import ChapterError, chapters, execute_chapter, main

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters(ROOT)
KERNELS = KernelSpecManager().find_kernel_specs()
KERNEL = "toposcope" if "toposcope" in KERNELS else "python3"


def _cells(path: Path):
    return json.loads((ROOT / path).read_text())["cells"]


def test_toc_lists_every_notebook():
    on_disk = {p.relative_to(ROOT) for p in (ROOT / "book").glob("*.ipynb")}
    assert on_disk == set(CHAPTERS)
    assert len(CHAPTERS) >= 2


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_stored_without_outputs(chapter):
    for cell in _cells(chapter):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{chapter} holds outputs"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_parameters_cell_and_profiles(chapter):
    cells = _cells(chapter)
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1, f"{chapter}: needs exactly one cell tagged 'parameters'"
    namespace = {}
    exec("".join(tagged[0]["source"]), namespace)
    assert namespace["profile"] == "smoke"
    source = "".join("".join(c["source"]) for c in cells)
    assert '"smoke"' in source and '"full"' in source, f"{chapter}: both profiles must set sizes"
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# "), "chapter needs a title"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_widget_cells_are_tagged(chapter):
    for cell in _cells(chapter):
        source = "".join(cell["source"])
        live = ("widgets.interact", "interact(", "live_explorer(")
        if cell["cell_type"] == "code" and any(word in source for word in live):
            assert "widget" in cell["metadata"].get("tags", []), "widget cells need the short 'widget' timeout"


def _notebook(tmp_path: Path, *cells: tuple[str, list[str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('profile = "smoke"', metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path


def test_runner_injects_profile(tmp_path):
    path = _notebook(tmp_path, ("assert profile == 'full'", []))
    seconds, attempts = execute_chapter(path, tmp_path / "out.ipynb", profile="full", kernel=KERNEL)
    assert attempts == 1 and seconds > 0
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    injected = [c for c in out.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]  # plumbing, not shown


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_setup_cell_is_folded(chapter):
    cells = _cells(chapter)
    after = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])) + 1
    setup = next(c for c in cells[after:] if c["cell_type"] == "code")
    assert "import" in "".join(setup["source"]) and "hide-input" in setup["metadata"].get("tags", [])


def _lines(cell) -> int:
    return sum(1 for line in "".join(cell["source"]).splitlines() if line.strip())


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_chapter_reads_as_prose_first(chapter):
    """No chapter holds more code lines than prose lines (non-blank, every cell counted, hidden ones too)."""
    cells = _cells(chapter)
    code = sum(_lines(c) for c in cells if c["cell_type"] == "code")
    prose = sum(_lines(c) for c in cells if c["cell_type"] == "markdown")
    assert code <= prose, f"{chapter}: {code} code lines against {prose} of prose; move figure code to the library"


DRAWING = re.compile(r"^(\w+\.)?plot_\w+\(|^plt\.show\(\)$|^\)$|^\s")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_cells_that_only_draw_are_folded(chapter):
    for cell in _cells(chapter):
        lines = [line for line in "".join(cell["source"]).splitlines() if line.strip()]
        if cell["cell_type"] == "code" and lines and all(DRAWING.match(line) for line in lines):
            assert "hide-input" in cell["metadata"].get("tags", []), f"{chapter}: fold the drawing cell {lines}"


def test_runner_names_the_failing_cell(tmp_path):
    path = _notebook(tmp_path, ("x = 1", []), ("raise ValueError('broken chapter')", []))
    with pytest.raises(ChapterError, match=r"chapter\.ipynb: cell 3 .*ValueError: broken chapter"):
        execute_chapter(path, tmp_path / "out.ipynb", kernel=KERNEL)


def test_runner_retries_a_stalled_widget_cell_once_then_fails(tmp_path, capsys):
    path = _notebook(tmp_path, ("import time; time.sleep(30)", ["widget"]))
    with pytest.raises(ChapterError, match=r"cell 2 \(`import time; time.sleep\(30\)`\) timed out twice"):
        execute_chapter(path, tmp_path / "out.ipynb", kernel=KERNEL, widget_timeout=2)
    assert "executing the chapter once more" in capsys.readouterr().out


def test_runner_does_not_retry_an_ordinary_hanging_cell(tmp_path, capsys):
    path = _notebook(tmp_path, ("import time; time.sleep(30)", []))
    start = time.perf_counter()
    with pytest.raises(ChapterError, match=r"cell 2 .* timed out$"):
        execute_chapter(path, tmp_path / "out.ipynb", kernel=KERNEL, timeout=2)
    assert time.perf_counter() - start < 25 and "once more" not in capsys.readouterr().out


def test_runner_stops_a_chapter_over_its_budget(tmp_path):
    path = _notebook(tmp_path, ("import time; time.sleep(1)", []), ("time.sleep(60)", []))
    start = time.perf_counter()
    with pytest.raises(ChapterError, match=r"over its budget of 10 s, in cell 3 \(`time.sleep\(60\)`\)"):
        execute_chapter(path, tmp_path / "out.ipynb", kernel=KERNEL, budget=10)
    assert time.perf_counter() - start < 30


def test_runner_reports_a_dead_kernel_and_a_corrupt_notebook(tmp_path):
    path = _notebook(tmp_path, ("import os; os._exit(1)", []))
    with pytest.raises(ChapterError, match=r"kernel died in cell 2"):
        execute_chapter(path, tmp_path / "out.ipynb", kernel=KERNEL)
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(ChapterError, match=r"broken\.ipynb: not a readable notebook"):
        execute_chapter(broken, tmp_path / "out.ipynb", kernel=KERNEL)


def test_run_only_keeps_the_other_executed_chapters(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/a\nchapters:\n  - file: book/b\n")
    for name in ("a", "b"):
        _notebook(tmp_path, ("x = 1", [])).rename(tmp_path / "book" / f"{name}.ipynb")
    assert main(["run", "--kernel", KERNEL]) == 0
    executed_a = tmp_path / "_build" / "source" / "book" / "a.ipynb"
    stamp = executed_a.stat().st_mtime_ns
    assert main(["run", "--only", "book/b", "--kernel", KERNEL]) == 0
    assert executed_a.stat().st_mtime_ns == stamp  # left in place, not deleted or re-executed
    assert main(["run", "--repeat", "0", "--kernel", KERNEL]) == 2
    assert "--repeat must be at least 1" in capsys.readouterr().err


def test_runner_rejects_unknown_chapter(capsys):
    assert main(["run", "--only", "book/nope", "--kernel", KERNEL]) == 2
    assert "not chapters of _toc.yml" in capsys.readouterr().err
