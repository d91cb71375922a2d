# Set up a virtual environment and run the project's jobs.
#   make test   - install everything into .venv and run the test suite
#   make book   - install everything, execute every chapter, build the HTML
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROFILE ?= smoke

.PHONY: system setup test book clean

# Debian packages: the real Fashion-MNIST files and Chromium for the browser test of the site.
# Installed when running as root; otherwise say what to install.
system:
	@if dpkg -s dataset-fashion-mnist chromium chromium-driver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist chromium chromium-driver; \
	else echo "note: run 'sudo apt-get install dataset-fashion-mnist chromium chromium-driver' for the tests that need them"; fi

# torch alone (--no-deps) from PyTorch's CPU index (its plain wheel pulls GBs of CUDA packages on Linux), then
# the pinned rest, torch's own dependencies included, from the registry (requirements.txt's torch==X is met by
# X+cpu). The CPU index is not given to the whole file, nor to torch's dependencies: pip would ask it for each.
TORCH_VERSION := $(shell sed -n 's/^torch==//p' requirements.txt)
TORCH_INDEX   := https://download.pytorch.org/whl/cpu

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps --extra-index-url $(TORCH_INDEX) "torch==$(TORCH_VERSION)+cpu"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name toposcope --display-name "toposcope (Python 3)"
	touch $@

setup: system $(BIN)/.installed

test: setup
	$(BIN)/ruff check toposcope tests benchmarks book
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

book: setup
	$(BIN)/python -m toposcope._book run --profile $(PROFILE)
	$(BIN)/python -m toposcope._book build

clean:
	rm -rf _build
