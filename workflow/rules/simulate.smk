# The virtual microscope: one raw through-focus stack (uint16 TIFF, like a camera) per field of view.


rule simulate_stack:
    """Image one random specimen through the demo microscope; keep its exact phase as the truth."""
    output:
        raw="results/raw/{kind}_{index}.tif",
        phase="results/truth/{kind}_{index}_phase.tif",
        amplitude="results/truth/{kind}_{index}_amplitude.tif",
    wildcard_constraints:
        kind="|".join(config["simulate"]["fields"]),
        index=r"\d+",
    params:
        microscope=config["microscope"],
        camera=config["camera"],
        z_um=config["simulate"]["z_um"],
        field_px=config["simulate"]["field_px"],
        phantom=lambda w: config["simulate"]["phantoms"].get(w.kind, {}),
        seed=lambda w: field_seed(config["seed"], int(w.index)),
    log:
        "results/logs/simulate/{kind}_{index}.log",
    benchmark:
        "results/benchmarks/simulate/{kind}_{index}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/simulate_stack.py"
