# The virtual microscope: one raw through-focus stack (uint16 TIFF, like a camera) per field of view.


rule simulate_stack:
    """Image one random specimen through the demo microscope; keep its exact phase as the truth."""
    output:
        raw=paths.fill(paths.STACK["raw"], stack="{kind}_{index}"),
        phase=paths.fill(paths.STACK["truth_phase"], stack="{kind}_{index}"),
        amplitude=paths.fill(paths.STACK["truth_amplitude"], stack="{kind}_{index}"),
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
        paths.log("simulate/{kind}_{index}"),
    benchmark:
        paths.benchmark("simulate/{kind}_{index}")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/simulate_stack.py"
