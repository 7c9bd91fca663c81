# DL-SRQPI: one aliased, defocused low-res intensity → pixel-super-resolved phase (U-Net, SRCNN, TIE).
TARGETS += [
    "results/tables/srqpi_benchmark.csv",
    "results/tables/srqpi_benchmark.html",
    "results/tables/srqpi_benchmark.md",
    "results/figures/srqpi_benchmark.png",
    "results/figures/srqpi_training_curves.png",
]
if SIMULATE:  # the sweeps re-image specimens and the microlens is simulated
    TARGETS += [
        "results/tables/srqpi_defocus.csv",
        "results/figures/srqpi_defocus.png",
        "results/tables/srqpi_coherence.csv",
        "results/figures/srqpi_coherence.png",
        "results/tables/srqpi_cross.csv",
        "results/tables/srqpi_microlens.csv",
        "results/figures/srqpi_microlens.png",
    ]

rule srqpi_degrade:
    """LR network inputs (one defocused plane, noise, binning) and two-plane LR TIE inputs of every
    stack under one condition (one job: each stack takes a fraction of a second)."""
    input:
        stacks=lambda w: [srqpi_corrected(w.condition, s) for s in STACKS],
    output:
        lr=expand("results/srqpi/{{condition}}/lr/{stack}.tif", stack=STACKS),
        pair=expand("results/srqpi/{{condition}}/lr_pair/{stack}.tif", stack=STACKS),
    params:
        defocus_um=lambda w: SRQPI["conditions"][w.condition]["defocus_um"],
        input_um=[USER.get(s, {}).get("input_um") for s in STACKS],
        pair_um=[srqpi_baseline_planes(s) for s in STACKS],
        binning=SRQPI["binning"],
        noise_sigma=SRQPI["noise_sigma"],
        seeds=[[config["seed"], i] for i in range(len(STACKS))],  # per stack, whatever the condition
    log:
        "results/logs/srqpi/{condition}/degrade.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_degrade.py"


rule srqpi_dataset:
    """Paired LR-intensity / HR-phase patches of the train and val fields (test fields stay whole)."""
    input:
        lr=expand("results/srqpi/{{condition}}/lr/{stack}.tif", stack=STACKS),
        label=[srqpi_label(s) for s in STACKS],
    output:
        data="results/srqpi/{condition}/dataset.npz",
        provenance="results/srqpi/{condition}/dataset.json",
    wildcard_constraints:
        condition="|".join(map(re.escape, SRQPI["conditions"])),
    params:
        stacks=STACKS,
        split=SPLIT,
        binning=SRQPI["binning"],
        patches=SRQPI["patches"],
    log:
        "results/logs/srqpi/{condition}/dataset.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_dataset.py"


rule srqpi_train:
    """Train one network on one condition with one seed; resumes from its last checkpoint."""
    input:
        data="results/srqpi/{condition}/dataset.npz",
    output:
        model="results/srqpi/{condition}/models/{model}_s{seed}/best.pt",
        steps="results/srqpi/{condition}/models/{model}_s{seed}/steps.csv",
        epochs="results/srqpi/{condition}/models/{model}_s{seed}/epochs.csv",
    params:
        arch=lambda w: srqpi.architecture(SRQPI, w.model),
        upscale=SRQPI["binning"],
        train=lambda w: srqpi.model_train(SRQPI, w.model),
        device=config["device"],
        workdir=subpath(output.model, parent=True),
    threads: config["threads"]["train"]
    priority: 2  # the demo's longest trainings: started first, they do not finish alone at the end
    resources:
        gpu=1,
    log:
        "results/logs/srqpi/{condition}/train/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/srqpi/{condition}/train/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_train.py"


rule srqpi_evaluate_model:
    """Full-field tiled inference of a trained network on the held-out fields of view, scored."""
    input:
        model="results/srqpi/{condition}/models/{model}_s{seed}/best.pt",
        lr=lambda w: expand("results/srqpi/{condition}/lr/{stack}.tif", condition=w.condition, stack=stacks_in("test")),
        tie=expand("results/tie/{stack}.tif", stack=stacks_in("test")),
    output:
        scores="results/srqpi/{condition}/eval/{model}_s{seed}.csv",
        predictions="results/srqpi/{condition}/eval/{model}_s{seed}.npz",
    params:
        stacks=stacks_in("test"),
        truth=truth_paths(stacks_in("test")),
        evaluate=SRQPI["evaluate"],
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        "results/logs/srqpi/{condition}/evaluate/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/srqpi/{condition}/evaluate/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_evaluate_model.py"


rule srqpi_evaluate_tie:
    """Classical baseline: TIE on the two-plane LR input, upsampled to the HR grid, scored."""
    input:
        pair=lambda w: expand(
            "results/srqpi/{condition}/lr_pair/{stack}.tif", condition=w.condition, stack=stacks_in("test")
        ),
        tie=expand("results/tie/{stack}.tif", stack=stacks_in("test")),
    output:
        scores="results/srqpi/{condition}/eval/tie-{method}.csv",
        predictions="results/srqpi/{condition}/eval/tie-{method}.npz",
    wildcard_constraints:
        method="fft|dct|aperture|iterative|auto",
    params:
        stacks=stacks_in("test"),
        truth=truth_paths(stacks_in("test")),
        binning=SRQPI["binning"],
        eps=config["tie"]["eps"],
    log:
        "results/logs/srqpi/{condition}/evaluate/tie-{method}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_evaluate_tie.py"


rule srqpi_benchmark_table:
    """SSIM / PSNR / NRMSE / MAE / LPIPS per method (mean ± std over held-out fields)."""
    input:
        scores=lambda w: expand(
            "results/srqpi/{condition}/eval/{method}.csv", condition=SRQPI["train_condition"], method=srqpi.methods(SRQPI)
        ),
    output:
        table="results/tables/srqpi_benchmark.csv",
        html=report(
            "results/tables/srqpi_benchmark.html", caption="../report/srqpi_benchmark.rst", category="DL-SRQPI"
        ),
        markdown="results/tables/srqpi_benchmark.md",
        per_image="results/tables/srqpi_per_image.csv",
    log:
        "results/logs/tables/srqpi_benchmark.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_benchmark_table.py"


rule srqpi_benchmark_figure:
    """Example held-out fields per method and SSIM per method (the paper's Fig. 3)."""
    input:
        per_image="results/tables/srqpi_per_image.csv",
        predictions=expand(
            "results/srqpi/{condition}/eval/{method}.npz", condition=SRQPI["train_condition"], method=srqpi.methods(SRQPI)
        ),
        lr=expand(
            "results/srqpi/{condition}/lr/{stack}.tif", condition=SRQPI["train_condition"], stack=stacks_in("test")
        ),
        tie=expand("results/tie/{stack}.tif", stack=stacks_in("test")),
    output:
        figure=report(
            "results/figures/srqpi_benchmark.png", caption="../report/srqpi_benchmark_figure.rst", category="DL-SRQPI"
        ),
    params:
        methods=srqpi.methods(SRQPI),
        stacks=stacks_in("test"),
        truth=truth_paths(stacks_in("test")),
    log:
        "results/logs/figures/srqpi_benchmark.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_benchmark_figure.py"


rule srqpi_training_curves:
    """Training loss per step and validation SSIM per epoch of every DL-SRQPI network."""
    input:
        steps=expand(
            "results/srqpi/{condition}/models/{model}_s{seed}/steps.csv",
            condition=SRQPI["train_condition"],
            model=list(SRQPI["models"]),
            seed=SRQPI["seeds"],
        ),
        epochs=expand(
            "results/srqpi/{condition}/models/{model}_s{seed}/epochs.csv",
            condition=SRQPI["train_condition"],
            model=list(SRQPI["models"]),
            seed=SRQPI["seeds"],
        ),
    output:
        figure=report(
            "results/figures/srqpi_training_curves.png",
            caption="../report/srqpi_training_curves.rst",
            category="DL-SRQPI",
        ),
    log:
        "results/logs/figures/srqpi_training_curves.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_training_curves.py"


# --- sweeps: defocus and coherence generalisation (the paper's Figs. 4 and 5) ----------------------


rule srqpi_reimage:
    """The specimens of the simulated stacks imaged again at a condition's own coherence (only the
    planes the family reads), brightness-corrected like the shared stacks; one job per condition."""
    output:
        stacks=expand("results/srqpi/{{condition}}/corrected/{stack}.tif", stack=SIMULATED),
        phases=expand("results/srqpi/{{condition}}/truth/{stack}_phase.tif", stack=SIMULATED),
    params:
        kinds=[parse_stack_name(s)[0] for s in SIMULATED],
        seeds=[stack_seed(config["seed"], s) for s in SIMULATED],  # simulate_stack's: the same specimens
        phantoms=[config["simulate"]["phantoms"].get(parse_stack_name(s)[0], {}) for s in SIMULATED],
        microscope=lambda w: {**config["microscope"], **srqpi.microscope_overrides(SRQPI, w.condition)},
        camera=config["camera"],
        z_um=lambda w: planes_um(SRQPI["conditions"][w.condition]["defocus_um"], SRQPI["baseline_planes_um"]),
        field_px=config["simulate"]["field_px"],
        correction=config["correction"],
    threads: config["threads"]["train"]
    priority: 1  # head of the sweeps' longest chain (re-image → degrade → dataset → train → evaluate)
    log:
        "results/logs/srqpi/{condition}/reimage.log",
    benchmark:
        "results/benchmarks/srqpi/{condition}/reimage.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_reimage.py"


rule srqpi_adaptive_dataset:
    """One training set from several conditions: every patch once, its input from one member at random."""
    input:
        data=lambda w: expand("results/srqpi/{condition}/dataset.npz", condition=srqpi.adaptive(SRQPI)[w.condition]),
    output:
        data="results/srqpi/{condition}/dataset.npz",
        provenance="results/srqpi/{condition}/dataset.json",
    wildcard_constraints:
        condition="|".join(srqpi.adaptive(SRQPI)) or "^$",
    params:
        members=lambda w: srqpi.adaptive(SRQPI)[w.condition],
        seed=config["seed"],
    log:
        "results/logs/srqpi/{condition}/dataset.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_adaptive_dataset.py"


use rule srqpi_train as srqpi_sweep_train with:
    output:
        model="results/srqpi/{condition}/sweep/{model}_s{seed}/best.pt",
        steps="results/srqpi/{condition}/sweep/{model}_s{seed}/steps.csv",
        epochs="results/srqpi/{condition}/sweep/{model}_s{seed}/epochs.csv",
    params:
        arch=lambda w: srqpi.architecture(SRQPI, w.model),
        upscale=SRQPI["binning"],
        train=srqpi.sweep_train(SRQPI),
        device=config["device"],
        workdir=subpath(output.model, parent=True),
    threads: SWEEPS["threads"]
    log:
        "results/logs/srqpi/{condition}/sweep/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/srqpi/{condition}/sweep/{model}_s{seed}.tsv"


rule srqpi_cross_evaluate:
    """One sweep network, loaded once, on the held-out fields of every test condition of both sweeps, scored."""
    input:
        model=f"results/srqpi/{{condition}}/{srqpi.sweep_dir(SRQPI)}/{{model}}_s{{seed}}/best.pt",
        lr=expand("results/srqpi/{test}/lr/{stack}.tif", test=srqpi.sweep_tests(SRQPI), stack=stacks_in("test")),
        tie=expand("results/tie/{stack}.tif", stack=stacks_in("test")),
    output:
        scores="results/srqpi/{condition}/cross/{model}_s{seed}.csv",
    params:
        tests=srqpi.sweep_tests(SRQPI),
        stacks=stacks_in("test"),
        truth=truth_paths(stacks_in("test")),
        evaluate=SRQPI["evaluate"],
        device=config["device"],
    threads: SWEEPS["threads"]
    resources:
        gpu=1,
    log:
        "results/logs/srqpi/{condition}/cross/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/srqpi/{condition}/cross/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_cross_evaluate.py"


rule srqpi_sweep_table:
    """Mean ± std SSIM / PSNR / NRMSE / MAE per training × test condition of one sweep."""
    input:
        scores=lambda w: srqpi_cross_scores(srqpi.sweep_networks(SRQPI, w.sweep)),
    output:
        table="results/tables/srqpi_{sweep}.csv",
        markdown="results/tables/srqpi_{sweep}.md",
        per_image="results/tables/srqpi_{sweep}_per_image.csv",
    wildcard_constraints:
        sweep="defocus|coherence",
    params:
        tests=lambda w: SWEEPS[w.sweep]["conditions"],
        values=lambda w: sweep_values(
            {c: SRQPI["conditions"][c] for c in SWEEPS[w.sweep]["conditions"]}, w.sweep, config["microscope"]["coherence"]
        ),
    log:
        "results/logs/tables/srqpi_{sweep}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_sweep_table.py"


rule srqpi_sweep_figure:
    """SSIM against the test condition, one line per training condition, and the per-image spread."""
    input:
        per_image="results/tables/srqpi_{sweep}_per_image.csv",
    output:
        figure=report(
            "results/figures/srqpi_{sweep}.png", caption="../report/srqpi_sweep.rst", category="DL-SRQPI"
        ),
    wildcard_constraints:
        sweep="defocus|coherence",
    log:
        "results/logs/figures/srqpi_{sweep}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_sweep_figure.py"


rule srqpi_cross_table:
    """Every sweep network on every sweep test condition, in the tidy cross-condition format every family shares."""
    input:
        scores=srqpi_cross_scores(srqpi.sweep_networks(SRQPI, "defocus") + srqpi.sweep_networks(SRQPI, "coherence")),
    output:
        table="results/tables/srqpi_cross.csv",
    params:
        model=SWEEPS["model"],
    log:
        "results/logs/tables/srqpi_cross.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_cross_table.py"


# --- the microlens-array check (the paper's Fig. 6a) ---------------------------------------------


use rule srqpi_reimage as srqpi_microlens_simulate with:
    output:
        stacks=["results/srqpi/microlens/stack.tif"],
        phases=["results/srqpi/microlens/truth_phase.tif"],
    params:
        kinds=["microlens"],
        seeds=[field_seed(config["seed"], len(SIMULATED))],  # a specimen of its own: the index after the simulated ones
        phantoms=[SRQPI["microlens"]["phantom"]],
        microscope={**config["microscope"], **srqpi.microscope_overrides(SRQPI, SRQPI["microlens"]["condition"])},
        camera=config["camera"],
        z_um=planes_um(SRQPI["conditions"][SRQPI["microlens"]["condition"]]["defocus_um"], SRQPI["baseline_planes_um"]),
        field_px=SRQPI["microlens"]["field_px"],
        correction=config["correction"],
    log:
        "results/logs/srqpi/microlens/simulate.log",
    benchmark:
        "results/benchmarks/srqpi/microlens/simulate.tsv"


rule srqpi_microlens:
    """The benchmark U-Net on the degraded microlens image; phase → height against the truth."""
    input:
        model="results/srqpi/{0[condition]}/models/{0[model]}_s{0[seed]}/best.pt".format(SRQPI["microlens"]),
        stack="results/srqpi/microlens/stack.tif",
        truth="results/srqpi/microlens/truth_phase.tif",
    output:
        table="results/tables/srqpi_microlens.csv",
        markdown="results/tables/srqpi_microlens.md",
        maps="results/srqpi/microlens/heights.npz",
    params:
        defocus_um=SRQPI["conditions"][SRQPI["microlens"]["condition"]]["defocus_um"],
        pair_um=SRQPI["baseline_planes_um"],
        binning=SRQPI["binning"],
        noise_sigma=SRQPI["noise_sigma"],
        seed=[config["seed"], len(SIMULATED)],
        delta_n=SRQPI["microlens"]["phantom"]["delta_n"],
        pitch_um=SRQPI["microlens"]["phantom"]["pitch_um"],
        tie_method=config["tie"]["method"],
        eps=config["tie"]["eps"],
        evaluate=SRQPI["evaluate"],
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        "results/logs/srqpi/microlens/evaluate.log",
    benchmark:
        "results/benchmarks/srqpi/microlens/evaluate.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_microlens.py"


rule srqpi_microlens_figure:
    """Height maps, the network's height error and a line profile across the lenses."""
    input:
        table="results/tables/srqpi_microlens.csv",
        maps="results/srqpi/microlens/heights.npz",
    output:
        figure=report(
            "results/figures/srqpi_microlens.png", caption="../report/srqpi_microlens.rst", category="DL-SRQPI"
        ),
    params:
        pitch_um=SRQPI["microlens"]["phantom"]["pitch_um"],
    log:
        "results/logs/figures/srqpi_microlens.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_microlens_figure.py"
