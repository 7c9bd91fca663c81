# Transport-of-intensity phase: the ground-truth labels, and how good they are.
if SIMULATE:  # the solvers scored against the exact phase: simulated stacks only
    TARGETS += ["results/tables/tie_accuracy.csv", "results/figures/tie_validation.png"]


rule tie_phase:
    """Ground-truth phase of one corrected stack by the transport-of-intensity equation."""
    input:
        stack="results/corrected/{stack}.tif",
    output:
        phase="results/tie/{stack}.tif",
    params:
        method=config["tie"]["method"],
        planes_um=lambda w: tie_planes(w.stack),
        eps=config["tie"]["eps"],
    log:
        "results/logs/tie/{stack}.log",
    benchmark:
        "results/benchmarks/tie/{stack}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_phase.py"


rule tie_accuracy:
    """Score every TIE solver against the exact phase over Δz × noise, and the pipeline's own labels."""
    input:
        labels=expand("results/tie/{stack}.tif", stack=SIMULATED[: config["tie_validation"]["fields"]]),
        truth=expand("results/truth/{stack}_phase.tif", stack=SIMULATED[: config["tie_validation"]["fields"]]),
    output:
        table="results/tables/tie_accuracy.csv",
    params:
        sweep=config["tie_validation"],
        microscope=config["microscope"],
        tie=config["tie"],
        simulated_z_um=config["simulate"]["z_um"],
        seed=config["seed"],
    log:
        "results/logs/tie_accuracy.log",
    benchmark:
        "results/benchmarks/tie_accuracy.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_accuracy.py"


rule tie_validation_figure:
    """Noise–resolution trade-off of the TIE solvers (RMSE against Δz per noise level)."""
    input:
        table="results/tables/tie_accuracy.csv",
    output:
        figure=report(
            "results/figures/tie_validation.png",
            caption="../report/tie_validation.rst",
            category="TIE ground truth",
        ),
    log:
        "results/logs/figures/tie_validation.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_validation_figure.py"
