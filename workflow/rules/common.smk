# Shared helpers: which stacks exist (simulated + user sample sheet), their splits and paths.

import re
import sys

from qpi.io import read_sample_sheet, sheet_overrides, StackError
from qpi.training.patches import split_fields
from qpi.core.plan import parse_stack_name, simulated_stacks, stack_seed
from qpi.core.seeds import field_seed
from qpi.core import paths, plan
from qpi.families import srqpi
from qpi.families.srqpi import planes_um, sweep_values

SIMULATE = config["data"] == "simulated"  # "user": the sample sheet's stacks only, no virtual microscope


def planning_error(message):
    """A problem found while planning: one line on the terminal, exit status 1, nothing run."""
    sys.exit(f"error: {message}")


def user_sheet():
    """Rows of config/stacks.tsv (validated against its schema), keyed by stack name."""
    try:
        rows = read_sample_sheet(config["stacks"]) if config.get("stacks") else []
    except StackError as err:
        planning_error(err)
    for row in rows:
        validate(row, "../../config/schemas/stacks.schema.yaml")
    if not SIMULATE and not rows:
        planning_error(f"{config.get('stacks') or 'the sample sheet'}: lists no stacks, and `data: user` simulates "
                       "none; add a row per stack (see README, 'Your own data').")
    return {row["name"]: row for row in rows}


USER = user_sheet()
SIMULATED = simulated_stacks(config["simulate"]["fields"]) if SIMULATE else []
STACKS = SIMULATED + sorted(USER)
try:
    SPLIT = split_fields(
        STACKS,
        val=config["srqpi"]["split"]["val"],
        test=config["srqpi"]["split"]["test"],
        seed=config["seed"],
    )
except ValueError as err:
    where = f"{config.get('stacks')} lists {len(USER)}" + (f", simulate.fields gives {len(SIMULATED)}" if SIMULATE else "")
    planning_error(f"DL-SRQPI: {err} ({where}).")


MODEL_NAME = "[A-Za-z0-9]+"  # a network's config key: a part of its paths ({model}_s{seed})


wildcard_constraints:
    stack="|".join(map(re.escape, STACKS)),
    condition="[A-Za-z0-9.+-]+",
    model=MODEL_NAME,
    seed=r"\d+",


def stacks_in(split):
    return [s for s in STACKS if SPLIT[s] == split]


def raw_path(wildcards):
    """User stacks come from their sheet path (one file, or one per plane); simulated ones from the
    virtual microscope."""
    if wildcards.stack in USER:
        path = USER[wildcards.stack]["path"]
        return [path] if isinstance(path, str) else path
    return [paths.fill(paths.STACK["raw"], stack=wildcards.stack)]


def stack_overrides(wildcards):
    """Metadata given in the sample sheet; it overrides what the TIFF says."""
    return sheet_overrides(USER[wildcards.stack]) if wildcards.stack in USER else {}


def tie_planes(stack):
    """Planes of a stack's TIE: a user stack's own (its sheet's tie_planes_um, else every plane it
    has); a simulated stack's from config `tie.planes_um`."""
    if stack in USER:
        return USER[stack].get("tie_planes_um")
    return config["tie"]["planes_um"]


def srqpi_baseline_planes(stack):
    """LR planes of the TIE baselines: srqpi.baseline_planes_um for simulated stacks, a user stack's own TIE planes."""
    return tie_planes(stack) if stack in USER else SRQPI["baseline_planes_um"]


# Each family's rule file appends the figures and tables it contributes to `rule all`.
TARGETS = []


def check_architectures():
    """Every network the config names is a registered model: one line at planning time naming the key
    and the known names, instead of a failure when its training job starts."""
    from qpi import models  # the names only: no torch while planning

    for family in ("srqpi", "mcnn", "despeckle", "contrans"):
        for key in config[family]["models"]:
            if not re.fullmatch(MODEL_NAME, key):  # a name the `model` wildcard refuses plans nothing, silently
                planning_error(f"{family}.models.{key}: a network's name becomes part of its file paths and may "
                               f"hold only letters and digits; rename it, e.g. to {re.sub('[^A-Za-z0-9]', '', key)!r}.")
        named = {f"{family}.models.{key}.arch": spec["arch"] for key, spec in config[family]["models"].items()}
        discriminator = config[family].get("train", {}).get("discriminator") or {}
        if "arch" in discriminator:
            named[f"{family}.train.discriminator.arch"] = discriminator["arch"]
        for where, arch in named.items():
            if arch not in models.available():
                planning_error(f"{where}: unknown model {arch!r}; known models: {', '.join(models.available())}.")


check_architectures()


def srqpi_label(stack):
    """Training label: the simulation's exact phase (as the paper's simulated study), or the TIE
    phase (as its experiments, and always for user stacks, which have no exact phase)."""
    if SRQPI["label"] == "exact" and stack in SIMULATED:
        return paths.fill(paths.STACK["truth_phase"], stack=stack)
    return paths.fill(paths.STACK["tie"], stack=stack)


def truth_paths(stacks):
    """Exact phase of simulated stacks ('' for user stacks, which have none)."""
    return [paths.fill(paths.STACK["truth_phase"], stack=s) if s in SIMULATED else "" for s in stacks]


SRQPI = config["srqpi"]


# --- DL-SRQPI sweeps ------------------------------------------------------------------------------
SWEEPS = SRQPI["sweeps"]


def srqpi_corrected(condition, stack):
    """The corrected stack a condition's inputs are cut from: the shared one, or its own re-imaging."""
    if not srqpi.condition_reimaged(SRQPI, condition, config["microscope"]["coherence"]):
        return paths.fill(paths.STACK["corrected"], stack=stack)
    if stack in USER:
        raise ValueError(
            f"srqpi condition {condition!r} sets its own coherence, which only simulated stacks can be imaged "
            f"at; user stack {stack!r} cannot: drop the condition's `coherence` or the stack"
        )
    return paths.fill(paths.SRQPI["corrected"], condition=condition, stack=stack)


def srqpi_cross_scores(networks):
    """Scores of the sweep networks trained on `networks` (each once), every seed."""
    return expand(paths.SRQPI["cross"], condition=list(dict.fromkeys(networks)), model=SWEEPS["model"], seed=SWEEPS["seeds"])


def despeckle_as(condition, splits):
    """The DespeckleNet condition whose data `condition` uses on `splits` (qpi.families.despeckle.shared)."""
    return despeckle.shared(DESPECKLE_CONDITIONS, condition, splits)


def speckle_data(condition, split):
    """The speckle images `condition` uses on `split`: its own, or those of the condition it shares them with."""
    return paths.fill(paths.DESPECKLE["speckle"], condition=despeckle_as(condition, [split]), split=split)


def specimen_data(split):
    """The DespeckleNet specimens (targets) of one split."""
    return paths.fill(paths.DESPECKLE["specimens"], split=split)


def despeckle_trained_on(condition):
    """The DespeckleNet condition whose networks serve `condition`: a scatter level's sweep networks
    (its own, or the pooled ones), else those trained on the data `condition` shares."""
    if condition in DESPECKLE_LEVELS:
        return despeckle.level_training(DESPECKLE, DESPECKLE_CONDITIONS, condition)
    return despeckle_as(condition, ["train", "val"])


def despeckle_evals(conditions, output="scores", seeds=None):
    """Evaluation `output`s (scores, predictions) of the DespeckleNet networks trained for `conditions`:
    one per training data and seed."""
    trains = list(dict.fromkeys(despeckle_trained_on(c) for c in conditions))
    return expand(paths.DESPECKLE[output], condition=trains, seed=seeds or DESPECKLE["seeds"])
