# Transport-of-intensity phase: the ground-truth labels, and how good they are.
if SIMULATE:  # the solvers scored against the exact phase: simulated stacks only
    TARGETS += [paths.table("tie_accuracy"), paths.figure("tie_validation")]
# the labels' own quality: every user stack's; on the virtual microscope, the validation fields' (with their truth)
TIE_QUALITY_STACKS = sorted(USER) + (SIMULATED[: config["tie_validation"]["fields"]] if SIMULATE else [])
TARGETS += [paths.table("tie_quality")]


rule tie_phase:
    """Ground-truth phase of one corrected stack by the transport-of-intensity equation."""
    input:
        stack=paths.STACK["corrected"],
    output:
        phase=paths.STACK["tie"],
        quality=paths.STACK["tie_quality"],
    params:
        method=config["tie"]["method"],
        planes_um=lambda w: tie_planes(w.stack),
        eps=config["tie"]["eps"],
    log:
        paths.log("tie/{stack}"),
    benchmark:
        paths.benchmark("tie/{stack}")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_phase.py"


rule tie_accuracy:
    """Score every TIE solver against the exact phase over Δz × noise, and the pipeline's own labels."""
    input:
        labels=expand(paths.STACK["tie"], stack=SIMULATED[: config["tie_validation"]["fields"]]),
        truth=expand(paths.STACK["truth_phase"], stack=SIMULATED[: config["tie_validation"]["fields"]]),
    output:
        table=paths.table("tie_accuracy"),
    params:
        sweep=config["tie_validation"],
        microscope=config["microscope"],
        tie=config["tie"],
        simulated_z_um=config["simulate"]["z_um"],
        seed=config["seed"],
    log:
        paths.log("tie_accuracy"),
    benchmark:
        paths.benchmark("tie_accuracy")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_accuracy.py"


rule tie_validation_figure:
    """Noise–resolution trade-off of the TIE solvers (RMSE against Δz per noise level)."""
    input:
        table=paths.table("tie_accuracy"),
    output:
        figure=report(
            paths.figure("tie_validation"),
            caption="../report/tie_validation.rst",
            category="TIE ground truth",
        ),
    log:
        paths.log("figures/tie_validation"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_validation_figure.py"


rule tie_quality_table:
    """Each TIE label's own quality (ε̃, noise, boundary uncertainty), beside its true error where simulated."""
    input:
        quality=expand(paths.STACK["tie_quality"], stack=TIE_QUALITY_STACKS),
        labels=expand(paths.STACK["tie"], stack=TIE_QUALITY_STACKS),
        truths=[t for t in truth_paths(TIE_QUALITY_STACKS) if t],
    output:
        table=paths.table("tie_quality"),
        markdown=paths.table("tie_quality", "md"),
        html=report(paths.table("tie_quality", "html"), caption="../report/tie_quality.rst", category="TIE ground truth"),
    params:
        stacks=TIE_QUALITY_STACKS,
        truths=truth_paths(TIE_QUALITY_STACKS),
    log:
        paths.log("tables/tie_quality"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/tie_quality_table.py"
