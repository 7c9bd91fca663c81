# Shared helpers, the same for every family: which stacks exist (simulated + user sample sheet) and
# their paths, the wildcards, and the check of every network name. A family's own planning is in its
# package (qpi.families.<family>), called from its rule file.

import re
import sys

from qpi import families
from qpi.core import paths, plan
from qpi.core.plan import simulated_stacks
from qpi.core.seeds import field_seed
from qpi.io import read_sample_sheet, sheet_overrides, StackError
from qpi.report import cards  # each training job's model card reaches its script as a param

SIMULATE = config["data"] == "simulated"  # "user": the sample sheet's stacks only, no virtual microscope


def planning_error(message):
    """A problem found while planning: one line on the terminal, exit status 1, nothing run."""
    sys.exit(f"error: {message}")


def user_sheet():
    """Rows of config/stacks.tsv (validated against its schema), keyed by name: stacks, speckle and low-NA images."""
    try:
        rows = read_sample_sheet(config["stacks"]) if config.get("stacks") else []
    except StackError as err:
        planning_error(err)
    for row in rows:
        validate(row, "../../config/schemas/stacks.schema.yaml")
    if not SIMULATE and not any(row["kind"] == "stack" for row in rows):
        planning_error(f"{config.get('stacks') or 'the sample sheet'}: lists no stacks, and `data: user` simulates "
                       "none; add a row per stack (see README, 'Your own data').")
    return {row["name"]: row for row in rows}


SHEET = user_sheet()
USER = {name: row for name, row in SHEET.items() if row["kind"] == "stack"}  # the user's through-focus stacks
USER_IMAGES = {name: row for name, row in SHEET.items() if row["kind"] != "stack"}  # speckle and low-NA images
USER_FIELDS = {row["field"]: name for name, row in USER.items()}  # each field's stack
SIMULATED = simulated_stacks(config["simulate"]["fields"]) if SIMULATE else []
STACKS = SIMULATED + sorted(USER)

MODEL_NAME = "[A-Za-z0-9]+"  # a network's config key: a part of its paths ({model}_s{seed})


wildcard_constraints:
    stack="|".join(map(re.escape, STACKS)),
    condition="[A-Za-z0-9.+-]+",
    model=MODEL_NAME,
    seed=r"\d+",


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


# Each family's rule file appends the figures and tables it contributes to `rule all`, and its name to
# FAMILIES_RUN when it runs in this study (the summary's families).
TARGETS = []
FAMILIES_RUN = []


def check_architectures():
    """Every network the config names is a registered model: one line at planning time naming the key
    and the known names, instead of a failure when its training job starts."""
    from qpi import models  # the names only: no torch while planning

    for family in (f for f in families.names() if f in config):
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


def truth_paths(stacks):
    """Exact phase of simulated stacks ('' for user stacks, which have none)."""
    return [paths.fill(paths.STACK["truth_phase"], stack=s) if s in SIMULATED else "" for s in stacks]


def skipped(family, why):
    """One line on the terminal, once per run, for a family that runs on nothing in this study."""
    if workflow.is_main_process:
        print(f"{families.get(family).title}: skipped ({why}).", file=sys.stderr)
