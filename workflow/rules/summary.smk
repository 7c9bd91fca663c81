# Across families: our headline numbers beside the papers', and the cross-condition matrix.
from qpi import families

FAMILIES = [f for f in families.every() if f.name in FAMILIES_RUN]  # those that run here, in summary order

TARGETS += [paths.table("summary"), paths.table("summary", "html"), paths.table("summary", "md")]
if SIMULATE:  # the sweeps' cross-condition matrices: simulated conditions
    TARGETS += [paths.table("cross_condition"), paths.figure("cross_condition")]


rule summary_table:
    """One row per family and method: our headline metrics, the papers' beside them, where conditions differ."""
    input:
        unpack(lambda w: {t: paths.table(t) for family in FAMILIES for t in family.summary_tables}),
    output:
        table=paths.table("summary"),
        html=report(paths.table("summary", "html"), caption="../report/summary.rst", category="Summary"),
        markdown=paths.table("summary", "md"),
    params:
        scale=config["scale"],
        headlines={family.name: family.summary_params(config) for family in FAMILIES},
        papers={family.name: family.paper(config) for family in FAMILIES},
    log:
        paths.log("tables/summary"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/summary_table.py"


rule cross_condition_table:
    """Every family's train-condition × test-condition scores in one tidy table."""
    input:
        unpack(lambda w: {family.name: paths.table(family.cross_table) for family in FAMILIES}),
    output:
        table=paths.table("cross_condition"),
    log:
        paths.log("tables/cross_condition"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/cross_condition_table.py"


rule cross_condition_figure:
    """SSIM heat maps (train × test condition), one panel per family and model."""
    input:
        table=paths.table("cross_condition"),
    output:
        figure=report(
            paths.figure("cross_condition"), caption="../report/cross_condition.rst", category="Summary"
        ),
    log:
        paths.log("figures/cross_condition"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/cross_condition_figure.py"
