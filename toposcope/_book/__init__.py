"""The book's build tool: execute the chapters once with papermill, then build the HTML from the executed copies.

Not part of the library: nothing in ``toposcope`` imports it (an import-linter
contract in ``pyproject.toml`` checks that).  Usage (from the repository root)::

    python -m toposcope._book run [--profile smoke|full] [--only book/01_topology] [--repeat N]
    python -m toposcope._book build

``run`` executes every ``.ipynb`` chapter listed in ``_toc.yml`` with papermill,
injecting ``profile`` into the cell tagged ``parameters``, with the chapter's own
folder as working directory.  The executed notebooks go to ``_build/source/``
(a copy of the book's sources); the sources stay without outputs.  It stops at
the first failing chapter, names the chapter and the cell, and exits non-zero.

``build`` runs Jupyter Book on ``_build/source`` with execution off and warnings as
errors; the site lands in ``_build/html``.

Cells tagged ``widget`` get a short timeout (``--widget-timeout``), and a chapter
that times out is executed once more before the run fails: an interactive widget
may never stall the run for the full cell timeout.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

__all__ = ["ChapterError", "build", "chapters", "execute_chapter", "main", "run"]

BUILD = Path("_build")
STAGE = BUILD / "source"
KERNEL = "toposcope"
_COPY_IGNORE = shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", "_build")


class ChapterError(RuntimeError):
    """A chapter failed to execute."""


def _toc_files(entries: list) -> Iterator[str]:
    for entry in entries or []:
        if "file" in entry:
            yield entry["file"]
        for key in ("chapters", "sections", "parts"):
            yield from _toc_files(entry.get(key, []))


def chapters(root: Path | None = None) -> list[Path]:
    """The ``.ipynb`` chapters of ``_toc.yml``, in book order, relative to ``root`` (default: the working folder)."""
    root = Path.cwd() if root is None else Path(root)
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"], *_toc_files(toc.get("chapters", []) + toc.get("parts", []))]
    found = []
    for name in files:
        candidates = [root / (name + suffix) for suffix in ("", ".ipynb", ".md")]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise FileNotFoundError(f"_toc.yml lists {name!r}, which is not in the repository")
        if path.suffix == ".ipynb":
            found.append(path.relative_to(root))
    return found


def _kernel_available(name: str) -> bool:
    from jupyter_client.kernelspec import KernelSpecManager

    return name in KernelSpecManager().find_kernel_specs()


BUDGETS = {"smoke": 600, "full": 6 * 3600}
"""Wall-clock seconds one chapter may take, per profile (every cell's timeout is capped by what is left)."""


def _read_chapter(chapter: Path):
    """The chapter as a notebook, or a :class:`ChapterError` saying why it cannot be read."""
    import nbformat

    try:
        return nbformat.read(str(chapter), as_version=4)
    except Exception as err:  # NotJSONError, validation errors, missing file
        raise ChapterError(f"{chapter}: not a readable notebook ({type(err).__name__}: {str(err)[:200]})") from None


def _describe(source_nb, cell) -> str:
    """'cell N (`first line`)': the cell's 1-based number in the source notebook (no injected cells)."""
    text = "".join(cell.get("source", "")) if cell is not None else ""
    index = next((i for i, c in enumerate(source_nb.cells) if "".join(c.source) == text), None)
    first = text.strip().splitlines()[0][:60] if text.strip() else ""
    return f"cell {index + 1} (`{first}`)" if index is not None else "a cell"


def execute_chapter(
    chapter: Path,
    output: Path,
    profile: str = "smoke",
    kernel: str = KERNEL,
    timeout: int = 600,
    widget_timeout: int = 60,
    retries: int = 1,
    budget: float | None = None,
) -> tuple[float, int]:
    """Execute one chapter with papermill; return (seconds, attempts).

    Parameters
    ----------
    chapter, output : Path
        The source notebook and where the executed copy goes.
    profile : str
        Injected into the cell tagged ``parameters``.
    kernel : str
    timeout, widget_timeout : int
        Seconds per cell, and per cell tagged ``widget``.
    retries : int, default 1
        Times the chapter is executed again after a *widget* cell stalled (a known
        flake of widget rendering); any other timeout fails at once.
    budget : float, optional
        Seconds for the whole chapter; default ``BUDGETS[profile]``.

    Raises
    ------
    ChapterError
        Naming the chapter, the failing cell (numbered as in the source notebook,
        with its first line) and the error; also for an unreadable notebook and a
        kernel that died.
    """
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    source_nb = _read_chapter(chapter)
    budget = BUDGETS.get(profile, BUDGETS["full"]) if budget is None else budget
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    current: dict = {"cell": None}

    def cell_timeout(cell) -> int:
        current["cell"] = cell
        limit = widget_timeout if "widget" in cell.get("metadata", {}).get("tags", []) else timeout
        return max(1, int(min(limit, budget - (time.perf_counter() - started))))

    for attempt in range(1, retries + 2):
        start = time.perf_counter()
        try:
            pm.execute_notebook(str(chapter), str(output), parameters={"profile": profile}, kernel_name=kernel,
                                cwd=str(chapter.parent), progress_bar=False, timeout_func=cell_timeout)  # fmt: skip
            _hide_injected(output)
            return time.perf_counter() - start, attempt
        except PapermillExecutionError as err:
            cell = _failed_cell(output)
            raise ChapterError(f"{chapter}: {_describe(source_nb, cell)} raised {err.ename}: {err.evalue}") from None
        except TimeoutError:  # nbclient's CellTimeoutError
            where = _describe(source_nb, current["cell"])
            if time.perf_counter() - started >= budget - 1:
                raise ChapterError(f"{chapter}: over its budget of {budget:.0f} s, in {where}") from None
            is_widget = "widget" in (current["cell"] or {}).get("metadata", {}).get("tags", [])
            if not is_widget or attempt > retries:
                raise ChapterError(f"{chapter}: {where} timed out" + (" twice" if is_widget else "")) from None
            print(f"  {chapter}: the widget {where} stalled -- executing the chapter once more", flush=True)
        except DeadKernelError:
            where = _describe(source_nb, current["cell"])
            raise ChapterError(f"{chapter}: the kernel died in {where} (out of memory?)") from None
        except Exception as err:  # a missing kernel, a broken environment: still one clear line
            raise ChapterError(f"{chapter}: {type(err).__name__}: {str(err)[:300]}") from None
    raise AssertionError("unreachable")


def _hide_injected(output: Path) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell``: plumbing, not part of the chapter."""
    import nbformat

    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, output)


def _failed_cell(output: Path):
    """The cell that raised, in the executed copy papermill wrote (None if it cannot be read)."""
    try:
        cells = _read_chapter(output).cells
    except ChapterError:
        return None
    failed = (c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    return next(failed, None)


def _stage(clean: bool) -> None:
    """Copy the book's sources, except the notebooks (executed into place), to ``_build/source``.

    ``clean`` first removes the stage, executed notebooks included.
    """
    if clean and STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(name, STAGE / name)
    shutil.copytree("book", STAGE / "book", ignore=_COPY_IGNORE, dirs_exist_ok=True)


def run(
    *,
    profile: str = "smoke",
    only: list[str] | None = None,
    kernel: str = KERNEL,
    timeout: int = 600,
    widget_timeout: int = 60,
    repeat: int = 1,
) -> int:
    """Execute the chapters of ``_toc.yml`` into ``_build/source``; return a process exit code.

    Parameters
    ----------
    profile : {"smoke", "full"}
        Injected into every chapter's ``parameters`` cell.
    only : list of str, optional
        Chapters to execute (paths as in ``_toc.yml``); the executed copies of the
        other chapters are kept.  Default: all, into a clean stage.
    kernel : str
        Jupyter kernel name.
    timeout, widget_timeout : int
        Seconds per cell, and per cell tagged ``widget``.
    repeat : int, default 1
        Execute each chapter this many times (timing studies).

    Returns
    -------
    int
        0 on success, 1 when a chapter failed (its name and cell printed on stderr),
        2 on a usage error.
    """
    if repeat < 1:
        print(f"error: --repeat must be at least 1; got {repeat}", file=sys.stderr)
        return 2
    if not _kernel_available(kernel):
        print(
            f"error: no Jupyter kernel named {kernel!r}. Install it into this environment with\n"
            f"  python -m ipykernel install --sys-prefix --name {kernel}\n(make setup does this).",
            file=sys.stderr,
        )
        return 2
    todo = chapters()
    if only:
        wanted = {Path(o).with_suffix(".ipynb") for o in only}
        unknown = wanted - set(todo)
        if unknown:
            print(f"error: not chapters of _toc.yml: {sorted(map(str, unknown))}", file=sys.stderr)
            return 2
        todo = [c for c in todo if c in wanted]
    _stage(clean=not only)
    total = time.perf_counter()
    timings = []
    for chapter in todo:
        for i in range(repeat):
            label = f"{chapter}" + (f" [{i + 1}/{repeat}]" if repeat > 1 else "")
            print(f"executing {label} (profile={profile}) ...", flush=True)
            try:
                seconds, attempts = execute_chapter(chapter, STAGE / chapter, profile, kernel, timeout, widget_timeout)
            except ChapterError as err:
                print(f"FAILED: {err}", file=sys.stderr)
                return 1
            timings.append((label, seconds, attempts))
            print(f"  done in {seconds:.1f} s" + (f" (after {attempts} attempts)" if attempts > 1 else ""), flush=True)
    print(f"\n{'chapter':<40} {'seconds':>8} {'attempts':>8}")
    for label, seconds, attempts in timings:
        print(f"{label:<40} {seconds:>8.1f} {attempts:>8}")
    print(f"all chapters: {time.perf_counter() - total:.1f} s; executed notebooks in {STAGE}/")
    return 0


def build() -> int:
    """Build the HTML from ``_build/source`` with Jupyter Book (warnings as errors); return its exit code."""
    if not STAGE.is_dir() or not any(STAGE.rglob("*.ipynb")):
        print("error: nothing executed yet: run `python -m toposcope._book run` first", file=sys.stderr)
        return 2
    _stage(clean=False)  # pick up edited prose and assets without executing again
    jupyter_book = str(Path(sys.executable).with_name("jupyter-book"))
    cmd = [jupyter_book, "build", str(STAGE), "--path-output", ".", "-W", "--keep-going"]
    print(" ".join(cmd), flush=True)
    rc = subprocess.call(cmd)
    if rc == 0:
        print(f"\nsite built: open {(BUILD / 'html' / 'index.html').resolve()}")
    return rc


def main(argv: list[str] | None = None) -> int:
    """The command line: ``run`` or ``build`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m toposcope._book", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute the chapters with papermill")
    p_run.add_argument("--profile", choices=("smoke", "full"), default="smoke")
    p_run.add_argument("--only", nargs="+", help="chapters to execute (paths as in _toc.yml)")
    p_run.add_argument("--kernel", default=KERNEL)
    p_run.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    p_run.add_argument("--widget-timeout", type=int, default=60, help="seconds per cell tagged 'widget'")
    p_run.add_argument("--repeat", type=int, default=1, help="execute each chapter this many times")
    sub.add_parser("build", help="build the HTML from the executed chapters")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(profile=args.profile, only=args.only, kernel=args.kernel, timeout=args.timeout,
                   widget_timeout=args.widget_timeout, repeat=args.repeat)
    return build()
