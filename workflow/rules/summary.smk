# Across families: our headline numbers beside the papers', and the cross-condition matrix.
from qpi.summary import in_distribution_set

if SIMULATE:  # a simulated study: `data: user` runs DL-SRQPI on the sample sheet alone
    TARGETS += [
        "results/tables/summary.csv",
        "results/tables/summary.html",
        "results/tables/summary.md",
        "results/tables/cross_condition.csv",
        "results/figures/cross_condition.png",
    ]


rule summary_table:
    """One row per family and method: our headline metrics, the papers' beside them, where conditions differ."""
    input:
        srqpi="results/tables/srqpi_benchmark.csv",
        mcnn="results/tables/mcnn_transfer.csv",
        despeckle="results/tables/despeckle_correlation.csv",
        despeckle_per_image="results/tables/despeckle_per_image.csv",
        contrans="results/tables/contrans_per_image.csv",
    output:
        table="results/tables/summary.csv",
        html=report("results/tables/summary.html", caption="../report/summary.rst", category="Summary"),
        markdown="results/tables/summary.md",
    params:
        scale=config["scale"],
        mcnn_test_set=in_distribution_set(MCNN["datasets"], MCNN["test_sets"]),
        contrans_setting=[CONTRANS["baselines"]["specimen"], CONTRANS["baselines"]["objective"]],
    log:
        "results/logs/tables/summary.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/summary_table.py"


rule cross_condition_table:
    """Every family's train-condition × test-condition scores in one tidy table."""
    input:
        srqpi="results/tables/srqpi_cross.csv",
        mcnn="results/tables/mcnn_transfer.csv",
        despeckle="results/tables/despeckle_cross.csv",
        contrans="results/tables/contrans_cross_na.csv",
    output:
        table="results/tables/cross_condition.csv",
    log:
        "results/logs/tables/cross_condition.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/cross_condition_table.py"


rule cross_condition_figure:
    """SSIM heat maps (train × test condition), one panel per family and model."""
    input:
        table="results/tables/cross_condition.csv",
    output:
        figure=report(
            "results/figures/cross_condition.png", caption="../report/cross_condition.rst", category="Summary"
        ),
    log:
        "results/logs/figures/cross_condition.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/cross_condition_figure.py"
