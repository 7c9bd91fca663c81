"""Every file the pipeline writes, named once (as brieflow's targets/*.smk output dictionaries).

The rule files wire these templates and spell no `results/…` path of their own
(tests/test_paths.py holds them to it); tests and tools read the same names. Templates carry
Snakemake wildcards in braces: {stack}, {condition}, {model}, {seed}, …. `fill` sets some of them
and leaves the others for Snakemake; `expand` (Snakemake's) multiplies them out.

A training run's directory is RUN, `{model}_s{seed}`; `run_name` spells one.
"""

from __future__ import annotations

import re
import string

RESULTS = "results"
RUN = "{model}_s{seed}"


def run_name(model: str, seed: int | str) -> str:
    """The directory (and evaluation file stem) of one model trained with one seed."""
    return RUN.format(model=model, seed=seed)


def fill(template: str, **values) -> str:
    """`template` with the named wildcards set and every other wildcard left for Snakemake."""
    unknown = set(values) - wildcards(template)
    if unknown:
        raise KeyError(f"{template} has no wildcard {', '.join(sorted(unknown))}")
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), template)


def wildcards(template: str) -> set[str]:
    """Names of the wildcards in `template`."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def log(*parts: str) -> str:
    """The log of one job: results/logs/<parts joined by />.log."""
    return f"{RESULTS}/logs/{'/'.join(parts)}.log"


def benchmark(*parts: str) -> str:
    """The benchmark (time, memory) of one job: results/benchmarks/<parts joined by />.tsv."""
    return f"{RESULTS}/benchmarks/{'/'.join(parts)}.tsv"


def table(name: str, ext: str = "csv") -> str:
    return f"{RESULTS}/tables/{name}.{ext}"


def figure(name: str) -> str:
    return f"{RESULTS}/figures/{name}.png"


def _run(root: str, *files: str) -> dict[str, str]:
    """The files a training run writes under `root`/RUN, keyed by their stem."""
    return {name.split(".")[0]: f"{root}/{RUN}/{name}" for name in files}


# Stacks: the raw ones (simulated, or the user's sheet paths), the exact phase of simulated ones,
# and what every stack becomes on its way to a TIE label.
STACK = {
    "raw": f"{RESULTS}/raw/{{stack}}.tif",
    "truth_phase": f"{RESULTS}/truth/{{stack}}_phase.tif",
    "truth_amplitude": f"{RESULTS}/truth/{{stack}}_amplitude.tif",
    "ingested": f"{RESULTS}/ingest/{{stack}}.tif",
    "corrected": f"{RESULTS}/corrected/{{stack}}.tif",
    "tie": f"{RESULTS}/tie/{{stack}}.tif",
    "tie_quality": f"{RESULTS}/tie/{{stack}}_quality.json",  # what the label's own data say of it
    "measured": f"{RESULTS}/measured/{{stack}}.tif",  # a user stack's measured phase (sheet: phase_path)
}

_SR = f"{RESULTS}/srqpi/{{condition}}"
SRQPI = {
    "corrected": f"{_SR}/corrected/{{stack}}.tif",  # a condition re-imaged at its own coherence
    "truth_phase": f"{_SR}/truth/{{stack}}_phase.tif",
    "lr": f"{_SR}/lr/{{stack}}.tif",
    "lr_pair": f"{_SR}/lr_pair/{{stack}}.tif",
    "dataset": f"{_SR}/dataset.npz",
    "dataset_provenance": f"{_SR}/dataset.json",
    "scores": f"{_SR}/eval/{{method}}.csv",  # method: a run name, or tie-<solver>
    "predictions": f"{_SR}/eval/{{method}}.npz",
    "cross": f"{_SR}/cross/{RUN}.csv",
    "microlens_stack": f"{RESULTS}/srqpi/microlens/stack.tif",
    "microlens_truth": f"{RESULTS}/srqpi/microlens/truth_phase.tif",
    "microlens_heights": f"{RESULTS}/srqpi/microlens/heights.npz",
}
SRQPI_RUN = _run(f"{_SR}/models", "best.pt", "steps.csv", "epochs.csv")
SRQPI_SWEEP_RUN = _run(f"{_SR}/sweep", "best.pt", "steps.csv", "epochs.csv")

_MC = f"{RESULTS}/mcnn"
MCNN = {
    "data": f"{_MC}/data/{{dataset}}.npz",
    "data_provenance": f"{_MC}/data/{{dataset}}.json",
    "scores": f"{_MC}/{{condition}}/eval/{{method}}.csv",  # method: a run name, or tie
    "predictions": f"{_MC}/{{condition}}/eval/{{method}}.npz",
    "microscope": f"{_MC}/data/microscope.json",  # data: user — the microscope and planes the stacks share
}
MCNN_RUN = _run(f"{_MC}/{{condition}}/models", "best.pt", "steps.csv", "epochs.csv")

_DS = f"{RESULTS}/despeckle"
DESPECKLE = {
    "specimens": f"{_DS}/specimens/{{split}}.npz",
    "specimens_provenance": f"{_DS}/specimens/{{split}}.json",
    "speckle": f"{_DS}/{{condition}}/speckle/{{split}}.npz",
    "speckle_provenance": f"{_DS}/{{condition}}/speckle/{{split}}.json",
    "user_specimens": f"{_DS}/{{condition}}/specimens/{{split}}.npz",  # a sheet's diffuser: its fields' targets
    "user_specimens_provenance": f"{_DS}/{{condition}}/specimens/{{split}}.json",
    "scores": f"{_DS}/{{condition}}/eval/s{{seed}}.csv",  # every network of a condition's data, one seed
    "predictions": f"{_DS}/{{condition}}/eval/s{{seed}}.npz",
}
DESPECKLE_RUN = _run(f"{_DS}/{{condition}}/models", "best.pt", "steps.csv", "epochs.csv")

_CT = f"{RESULTS}/contrans"
CONTRANS = {
    "data": f"{_CT}/data/{{specimen}}/{{part}}.npz",
    "data_provenance": f"{_CT}/data/{{specimen}}/{{part}}.json",
    "scores": f"{_CT}/{{specimen}}/{{objective}}/eval/{RUN}.csv",
    "predictions": f"{_CT}/{{specimen}}/{{objective}}/eval/{RUN}.npz",
    "user_data": f"{_CT}/data/user/{{objective}}/{{part}}.npz",  # a sheet objective's low-NA tiles: train_a, test
    "user_grids": f"{_CT}/data/user/grids.json",  # the sheet's objectives and the label's HR grid
}
CONTRANS_RUN = _run(f"{_CT}/{{specimen}}/{{objective}}/models", "generator.pt", "steps.csv")

# The trust signs' calibration (qpi.trust.calibration): per family, one row per held-out image and the maps
# of a few of them.
TRUST = {"images": f"{RESULTS}/{{family}}/trust/images.csv", "maps": f"{RESULTS}/{{family}}/trust/maps.npz"}

# The evaluation CSV that scores one training run, per family (DespeckleNet's holds every network
# trained on its condition with its seed).
RUN_SCORES = {"srqpi": fill(SRQPI["scores"], method=RUN), "mcnn": fill(MCNN["scores"], method=RUN),
              "despeckle": DESPECKLE["scores"], "contrans": CONTRANS["scores"]}

def _prefixed(prefix: str, files: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}_{key}": template for key, template in files.items()}


# every template above, by family: what tests/test_paths.py checks
TEMPLATES = {
    "stack": STACK,
    "srqpi": {**SRQPI, **_prefixed("run", SRQPI_RUN), **_prefixed("sweep", SRQPI_SWEEP_RUN)},
    "mcnn": {**MCNN, **_prefixed("run", MCNN_RUN)},
    "despeckle": {**DESPECKLE, **_prefixed("run", DESPECKLE_RUN)},
    "contrans": {**CONTRANS, **_prefixed("run", CONTRANS_RUN)},
}
