# Shared helpers: which stacks exist (simulated + user sample sheet), their splits and paths.

from qpi.io import read_sample_sheet
from qpi.patches import split_fields


def simulated_stacks():
    """Names `<kind>_<index>` of the virtual microscope's fields of view."""
    return [
        f"{kind}_{i:03d}"
        for kind, count in config["simulate"]["fields"].items()
        for i in range(count)
    ]


def user_sheet():
    """Rows of config/stacks.tsv (validated against its schema), keyed by stack name."""
    rows = read_sample_sheet(config["stacks"]) if config.get("stacks") else []
    for row in rows:
        validate(row, "../../config/schemas/stacks.schema.yaml")
    return {row["name"]: row for row in rows}


USER = user_sheet()
SIMULATED = simulated_stacks()
STACKS = SIMULATED + sorted(USER)
SPLIT = split_fields(
    STACKS,
    val=config["srqpi"]["split"]["val"],
    test=config["srqpi"]["split"]["test"],
    seed=config["seed"],
)


wildcard_constraints:
    stack="|".join(STACKS),
    condition="[A-Za-z0-9.+-]+",
    model="[A-Za-z0-9]+",
    seed=r"\d+",


def stacks_in(split):
    return [s for s in STACKS if SPLIT[s] == split]


def raw_path(wildcards):
    """User stacks come from their sheet path; simulated ones from the virtual microscope."""
    if wildcards.stack in USER:
        return USER[wildcards.stack]["path"]
    return f"results/raw/{wildcards.stack}.tif"


def stack_overrides(wildcards):
    """Metadata given in the sample sheet; it overrides what the TIFF says."""
    row = USER.get(wildcards.stack, {})
    keys = ("wavelength_um", "pixel_um", "z_um", "na", "coherence", "magnification", "medium_index")
    return {k: row[k] for k in keys if row.get(k) is not None}


# Each family's rule file appends the figures and tables it contributes to `rule all`.
TARGETS = []


def srqpi_label(stack):
    """Training label: the simulation's exact phase (as the paper's simulated study), or the TIE
    phase (as its experiments, and always for user stacks, which have no exact phase)."""
    if SRQPI["label"] == "exact" and stack in SIMULATED:
        return f"results/truth/{stack}_phase.tif"
    return f"results/tie/{stack}.tif"


def truth_paths(stacks):
    """Exact phase of simulated stacks ('' for user stacks, which have none)."""
    return [f"results/truth/{s}_phase.tif" if s in SIMULATED else "" for s in stacks]


SRQPI = config["srqpi"]


def srqpi_models():
    return list(SRQPI["models"])


def srqpi_methods():
    """Every method of the benchmark: trained networks (one per seed) and the TIE baselines."""
    nets = [f"{m}_s{s}" for m in srqpi_models() for s in SRQPI["seeds"]]
    return nets + [f"tie-{m}" for m in SRQPI["baselines"]]
