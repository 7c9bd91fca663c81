# deep-qpi: raw through-focus stacks → phase-retrieval networks → the figures and tables of a paper.
# `snakemake --cores all` runs the embedded demo (config/config.yaml); see README.md.
import sys

from snakemake.utils import min_version, validate

from qpi import families
from qpi.core import runlock
from qpi.report import budget

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "config/schemas/config.schema.yaml")
try:  # config/budget.yaml: each family's followed models at k× their training (else nothing)
    budget.expand(config)
except ValueError as err:
    sys.exit(f"error: {err}")


LOCKS_OF_OTHERS = set()
if workflow.is_main_process and not workflow.dryrun:  # a killed run's locks never wedge the next
    note = runlock.clear_stale()
    if note:
        print(note, file=sys.stderr)
    LOCKS_OF_OTHERS = runlock.held_locks()


onstart:
    runlock.record(LOCKS_OF_OTHERS)


onsuccess:
    runlock.forget()


onerror:
    runlock.forget()


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/tie.smk"
for family in families.names():  # each chosen family's rules, in the registry's order
    if family in config["families"]:
        include: f"workflow/rules/{family}.smk"
    else:
        skipped(family, "not in this run's `families`")
include: "workflow/rules/summary.smk"
include: "workflow/rules/budget.smk"


rule all:
    """Every figure and table of the configured study."""
    input:
        TARGETS,
    default_target: True
