# Raw stacks (simulated or the user's) → validated float32 stacks → brightness-corrected stacks.


rule ingest_stack:
    """Validate a raw stack (one clear error per problem) and store it as float32, sorted by z."""
    input:
        raw=raw_path,
    output:
        stack="results/ingest/{stack}.tif",
    params:
        overrides=stack_overrides,
    log:
        "results/logs/ingest/{stack}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/ingest_stack.py"


rule correct_brightness:
    """Flat-field the smooth illumination and rescale every plane to the global mean (DL-SRQPI)."""
    input:
        stack="results/ingest/{stack}.tif",
    output:
        stack="results/corrected/{stack}.tif",
    params:
        mode=config["correction"]["mode"],
        flatfield_sigma_px=config["correction"]["flatfield_sigma_px"],
    log:
        "results/logs/correct/{stack}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/correct_brightness.py"
