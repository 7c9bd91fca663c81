# Across families: our headline numbers beside the papers', and the cross-condition matrix.
from qpi.report.summary import in_distribution_set

if SIMULATE:  # a simulated study: `data: user` runs DL-SRQPI on the sample sheet alone
    TARGETS += [
        paths.table("summary"),
        paths.table("summary", "html"),
        paths.table("summary", "md"),
        paths.table("cross_condition"),
        paths.figure("cross_condition"),
    ]


rule summary_table:
    """One row per family and method: our headline metrics, the papers' beside them, where conditions differ."""
    input:
        srqpi=paths.table("srqpi_benchmark"),
        mcnn=paths.table("mcnn_transfer"),
        despeckle=paths.table("despeckle_correlation"),
        despeckle_per_image=paths.table("despeckle_per_image"),
        contrans=paths.table("contrans_per_image"),
    output:
        table=paths.table("summary"),
        html=report(paths.table("summary", "html"), caption="../report/summary.rst", category="Summary"),
        markdown=paths.table("summary", "md"),
    params:
        scale=config["scale"],
        mcnn_test_set=in_distribution_set(MCNN["datasets"], MCNN["test_sets"]),
        contrans_setting=[CONTRANS["baselines"]["specimen"], CONTRANS["baselines"]["objective"]],
    log:
        paths.log("tables/summary"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/summary_table.py"


rule cross_condition_table:
    """Every family's train-condition × test-condition scores in one tidy table."""
    input:
        srqpi=paths.table("srqpi_cross"),
        mcnn=paths.table("mcnn_transfer"),
        despeckle=paths.table("despeckle_cross"),
        contrans=paths.table("contrans_cross_na"),
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
