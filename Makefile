# Two entry points, both from a fresh machine with Python 3.11 and pip:
#   make demo   - create .venv, install tierlink, run `tierlink demo` on the embedded default
#   make test   - create .venv, install tierlink with test extras, run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export RAY_USAGE_STATS_ENABLED := 0
export CMAKE_BUILD_PARALLEL_LEVEL := 2

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

demo: install
	$(BIN)/tierlink demo

test: install-test
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
