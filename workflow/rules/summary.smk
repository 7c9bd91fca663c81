# Across families: our headline numbers beside the papers', and the cross-condition matrix.
from qpi import families

FAMILIES = [f for f in families.every() if f.name in FAMILIES_RUN]  # those that run here, in summary order

TARGETS += [paths.table("summary"), paths.table("summary", "html"), paths.table("summary", "md")]
TRUSTED = [f.name for f in FAMILIES if f.trust_cases is not None]  # families whose trust signs are calibrated
if SIMULATE:  # the sweeps' cross-condition matrices: simulated conditions; the trust signs against the exact phase
    TARGETS += [paths.table("cross_condition"), paths.figure("cross_condition")]
    if TRUSTED:
        TARGETS += [paths.table("trust"), paths.table("trust", "html"), paths.figure("trust")]


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


rule trust_table:
    """Per family: how well the uncertainty, the consistency residual and the OOD score track the real error."""
    input:
        images=expand(paths.TRUST["images"], family=TRUSTED),
    output:
        table=paths.table("trust"),
        html=report(paths.table("trust", "html"), caption="../report/trust.rst", category="Trust"),
    log:
        paths.log("tables/trust"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/trust_table.py"


rule trust_figure:
    """Per family, error beside uncertainty and consistency residual for held-out images; reliability curves."""
    input:
        images=expand(paths.TRUST["images"], family=TRUSTED),
        maps=expand(paths.TRUST["maps"], family=TRUSTED),
    output:
        figure=report(paths.figure("trust"), caption="../report/trust.rst", category="Trust"),
    log:
        paths.log("figures/trust"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/trust_figure.py"
