# The README's two commands: `make run` (set up + embedded demo) and `make test` (set up + tests).
VENV := .venv
PY := $(VENV)/bin/python
CORES ?= all

.PHONY: setup run smoke test test-claims test-restart test-slurm lint clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/snakemake --cores $(CORES)

smoke: setup
	$(VENV)/bin/snakemake --cores $(CORES) --configfile config/smoke.yaml

test: setup  # one pytest worker per core, each test file on one worker (its pipeline-run fixture runs once)
	$(VENV)/bin/snakemake --lint
	$(PY) -m pytest -q -n auto --dist loadfile

test-claims: setup  # the papers' claims at toy scale and long end-to-end cases (minutes of CPU training each)
	$(PY) -m pytest -m claims -q

test-restart: setup  # snakemake SIGKILLed mid-run, restarted with the same command: the same tables
	$(PY) -m pytest -m restart -q

test-slurm: setup  # root: installs slurm-wlm + munge, runs the smoke training on a one-node SLURM
	$(PY) -m pytest -m slurm -q -rs

lint: setup
	$(VENV)/bin/snakemake --lint

clean:
	rm -rf results .snakemake report.html
