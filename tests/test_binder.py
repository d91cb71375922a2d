"""The Binder environment (.binder/, repo2docker layout) agrees with the root pins."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / ".binder"
# Test, lint and cluster tools and what only they pull in: on Binder, readers run chapters, not the suite.
NOT_ON_BINDER = {
    "pytest", "ruff", "selenium", "import-linter", "hypothesis", "iniconfig", "pluggy", "trio", "trio-websocket",
    "outcome", "wsproto", "sniffio", "pysocks", "websocket-client", "h11", "grimp", "sortedcontainers", "ray",
    "msgpack", "protobuf", "mutmut", "coverage", "libcst", "setproctitle", "textual",
}  # fmt: skip


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_binder_pins_are_the_root_pins_with_cpu_torch():
    root, binder = _pins(ROOT / "requirements.txt"), _pins(BINDER / "requirements.txt")
    assert binder.pop("torch") == root.pop("torch") + "+cpu"
    expected = {name: version for name, version in root.items() if name not in NOT_ON_BINDER}
    assert binder == expected
    text = (BINDER / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text and "-e ." in text


def test_binder_python_matches_the_package():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert runtime == "python-3.11" and requires == ">=3.11"


def test_binder_fetches_fashion_mnist_where_the_chapters_look():
    post, start = (BINDER / "postBuild").read_text(), (BINDER / "start").read_text()
    folder = re.search(r"download_fashion_mnist\('([^']+)'\)", post).group(1)
    data = re.search(r'TOPOSCOPE_DATA="([^"]+)"', start).group(1)
    assert folder == f"{data}/fashion-mnist"  # fashion_mnist() reads $TOPOSCOPE_DATA/fashion-mnist
    for script in ("postBuild", "start"):
        assert (BINDER / script).stat().st_mode & 0o111, f"{script} must be executable"


def test_make_installs_cpu_torch_first_and_no_cuda_package_is_installed():
    """The install `make` runs asks PyTorch's CPU index for torch alone; what got installed has no CUDA wheels."""
    from importlib.metadata import distributions, version

    makefile = (ROOT / "Makefile").read_text()
    cpu = makefile.index('--extra-index-url $(TORCH_INDEX) "torch==$(TORCH_VERSION)+cpu"')
    assert cpu < makefile.index("-r requirements.txt")
    assert "TORCH_INDEX   := https://download.pytorch.org/whl/cpu" in makefile
    assert _pins(ROOT / "requirements.txt")["torch"] + "+cpu" == version("torch")
    names = {d.metadata["Name"].lower() for d in distributions()}
    assert not {n for n in names if n.startswith("nvidia-") or n == "triton"}
