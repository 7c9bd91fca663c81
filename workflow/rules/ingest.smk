# Raw stacks (simulated or the user's) → validated float32 stacks → brightness-corrected stacks.


rule ingest_stack:
    """Validate a raw stack (one clear error per problem) and store it as float32, sorted by z."""
    input:
        raw=raw_path,
    output:
        stack=paths.STACK["ingested"],
    params:
        overrides=stack_overrides,
    log:
        paths.log("ingest/{stack}"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/ingest_stack.py"


rule ingest_phase:
    """A user stack's measured phase (sheet: phase_path), checked to lie on its stack's pixel grid."""
    input:
        phase=lambda w: USER[w.stack]["phase_path"],
        stack=paths.STACK["ingested"],
    output:
        phase=paths.STACK["measured"],
    log:
        paths.log("ingest/{stack}_phase"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/ingest_phase.py"


rule correct_brightness:
    """Flat-field the smooth illumination and rescale every plane to the global mean (DL-SRQPI)."""
    input:
        stack=paths.STACK["ingested"],
    output:
        stack=paths.STACK["corrected"],
    params:
        mode=config["correction"]["mode"],
        flatfield_sigma_px=config["correction"]["flatfield_sigma_px"],
    log:
        paths.log("correct/{stack}"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/correct_brightness.py"
