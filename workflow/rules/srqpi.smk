# DL-SRQPI: one aliased, defocused low-res intensity → pixel-super-resolved phase (U-Net, SRCNN, TIE).
TARGETS += [
    "results/tables/srqpi_benchmark.csv",
    "results/tables/srqpi_benchmark.md",
    "results/figures/srqpi_benchmark.png",
    "results/figures/srqpi_training_curves.png",
]

rule srqpi_degrade:
    """LR network input (one defocused plane, noise, binning) and the two-plane LR TIE input."""
    input:
        stack="results/corrected/{stack}.tif",
    output:
        lr="results/srqpi/{condition}/lr/{stack}.tif",
        pair="results/srqpi/{condition}/lr_pair/{stack}.tif",
    params:
        defocus_um=lambda w: SRQPI["conditions"][w.condition]["defocus_um"],
        pair_um=SRQPI["baseline_planes_um"],
        binning=SRQPI["binning"],
        noise_sigma=SRQPI["noise_sigma"],
        seed=lambda w: [config["seed"], STACKS.index(w.stack)],
    log:
        "results/logs/srqpi/{condition}/degrade/{stack}.log",
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
        arch=lambda w: SRQPI["models"][w.model],
        upscale=SRQPI["binning"],
        train=SRQPI["train"],
        device=config["device"],
        workdir=subpath(output.model, parent=True),
    threads: config["threads"]["train"]
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
        method="fft|dct|iterative",
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
            "results/srqpi/{condition}/eval/{method}.csv", condition=SRQPI["train_condition"], method=srqpi_methods()
        ),
    output:
        table=report(
            "results/tables/srqpi_benchmark.csv", caption="../report/srqpi_benchmark.rst", category="DL-SRQPI"
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
            "results/srqpi/{condition}/eval/{method}.npz", condition=SRQPI["train_condition"], method=srqpi_methods()
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
        methods=srqpi_methods(),
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
            model=srqpi_models(),
            seed=SRQPI["seeds"],
        ),
        epochs=expand(
            "results/srqpi/{condition}/models/{model}_s{seed}/epochs.csv",
            condition=SRQPI["train_condition"],
            model=srqpi_models(),
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
