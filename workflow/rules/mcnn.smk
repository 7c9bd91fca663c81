# MCNN: multi-scale U-Net, phase (+ amplitude) from 1, 2 or N defocused planes of simulated natural images.
from qpi import mcnn


MCNN = config["mcnn"]
if SIMULATE:  # a simulated study: `data: user` runs DL-SRQPI on the sample sheet alone
    TARGETS += [
        "results/figures/mcnn_convergence.png",
        "results/tables/mcnn_convergence.csv",
        "results/tables/mcnn_convergence.html",
        "results/figures/mcnn_planes.png",
        "results/tables/mcnn_planes.csv",
        "results/tables/mcnn_planes.html",
        "results/tables/mcnn_transfer.csv",
        "results/tables/mcnn_transfer.html",
    ]

MCNN_Z = mcnn.condition_z(MCNN)  # z (µm) of every condition's planes
MCNN_RUNS = mcnn.convergence_runs(MCNN)
MCNN_TESTS = expand("results/mcnn/data/{dataset}.npz", dataset=MCNN["test_sets"])
MCNN_PLANES_RUNS = mcnn.planes_runs(MCNN)
MCNN_TRANSFER_RUNS = mcnn.transfer_runs(MCNN)

rule mcnn_simulate:
    """One simulated set: specimens imaged at every plane the conditions use, with exact phase and amplitude."""
    output:
        data="results/mcnn/data/{dataset}.npz",
        provenance="results/mcnn/data/{dataset}.json",
    wildcard_constraints:
        dataset="|".join(MCNN["datasets"]),
    params:
        spec=lambda w: MCNN["datasets"][w.dataset],
        field_px=MCNN["field_px"],
        scope={**config["microscope"], **MCNN["microscope"]},
        planes_um=mcnn.union_planes(MCNN["conditions"], MCNN["dz_um"]).tolist(),
        noise=MCNN["noise"],
        seed=config["seed"],
    log:
        "results/logs/mcnn/simulate/{dataset}.log",
    benchmark:
        "results/benchmarks/mcnn/simulate/{dataset}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_simulate.py"


rule mcnn_train:
    """Train one network on one input condition with one seed; resumes from its last checkpoint."""
    input:
        train="results/mcnn/data/train.npz",
        val="results/mcnn/data/val.npz",
    output:
        model="results/mcnn/{condition}/models/{model}_s{seed}/best.pt",
        steps="results/mcnn/{condition}/models/{model}_s{seed}/steps.csv",
        epochs="results/mcnn/{condition}/models/{model}_s{seed}/epochs.csv",
    params:
        arch=lambda w: MCNN["models"][w.model],
        planes_um=lambda w: MCNN_Z[w.condition],
        amplitude=lambda w: MCNN["conditions"][w.condition].get("amplitude", False),
        train=MCNN["train"],
        device=config["device"],
        workdir=subpath(output.model, parent=True),
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        "results/logs/mcnn/{condition}/train/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/mcnn/{condition}/train/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_train.py"


rule mcnn_evaluate_model:
    """A trained network on every test set: per-image phase (and amplitude) scores and predictions."""
    input:
        model="results/mcnn/{condition}/models/{model}_s{seed}/best.pt",
        tests=MCNN_TESTS,
    output:
        scores="results/mcnn/{condition}/eval/{model}_s{seed}.csv",
        predictions="results/mcnn/{condition}/eval/{model}_s{seed}.npz",
    params:
        test_sets=MCNN["test_sets"],
        planes_um=lambda w: MCNN_Z[w.condition],
        amplitude=lambda w: MCNN["conditions"][w.condition].get("amplitude", False),
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        "results/logs/mcnn/{condition}/evaluate/{model}_s{seed}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_evaluate_model.py"


rule mcnn_evaluate_tie:
    """Classical baseline: multi-plane TIE (and √Ī as amplitude) on a condition's planes, every test set."""
    input:
        tests=MCNN_TESTS,
    output:
        scores="results/mcnn/{condition}/eval/tie.csv",
        predictions="results/mcnn/{condition}/eval/tie.npz",
    params:
        test_sets=MCNN["test_sets"],
        planes_um=lambda w: MCNN_Z[w.condition],
        scope={**config["microscope"], **MCNN["microscope"]},
        method=config["tie"]["method"],
        eps=config["tie"]["eps"],
    log:
        "results/logs/mcnn/{condition}/evaluate/tie.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_evaluate_tie.py"


rule mcnn_convergence_table:
    """Validation MAE and SSIM against optimiser step of every convergence run."""
    input:
        epochs=expand(
            "results/mcnn/{condition}/models/{run}/epochs.csv",
            condition=MCNN["convergence"]["condition"],
            run=MCNN_RUNS,
        ),
    output:
        table="results/tables/mcnn_convergence.csv",
        html=report("results/tables/mcnn_convergence.html", caption="../report/mcnn_convergence.rst", category="MCNN"),
    params:
        runs=MCNN_RUNS,
    log:
        "results/logs/tables/mcnn_convergence.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_convergence_table.py"


rule mcnn_convergence_figure:
    """Validation MAE against iteration, MCNN against U-Net (mean and spread over seeds)."""
    input:
        table="results/tables/mcnn_convergence.csv",
    output:
        figure=report(
            "results/figures/mcnn_convergence.png", caption="../report/mcnn_convergence.rst", category="MCNN"
        ),
    log:
        "results/logs/figures/mcnn_convergence.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_convergence_figure.py"


rule mcnn_planes_table:
    """Phase and amplitude quality against the number of planes, network and TIE (mean ± std over images)."""
    input:
        scores=[f"results/mcnn/{c}/eval/{run}.csv" for c, run in MCNN_PLANES_RUNS],
    output:
        table="results/tables/mcnn_planes.csv",
        html=report("results/tables/mcnn_planes.html", caption="../report/mcnn_planes.rst", category="MCNN"),
        markdown="results/tables/mcnn_planes.md",
    log:
        "results/logs/tables/mcnn_planes.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_planes_table.py"


rule mcnn_planes_figure:
    """Example test specimens through every plane count and method, and quality against plane count."""
    input:
        table="results/tables/mcnn_planes.csv",
        predictions=[f"results/mcnn/{c}/eval/{run}.npz" for c, run in MCNN_PLANES_RUNS],
        tests=MCNN_TESTS,
    output:
        figure=report("results/figures/mcnn_planes.png", caption="../report/mcnn_planes.rst", category="MCNN"),
    params:
        runs=MCNN_PLANES_RUNS,
        test_sets=MCNN["test_sets"],
        planes_um={c: MCNN_Z[c] for c in MCNN["planes"]["conditions"]},
    log:
        "results/logs/figures/mcnn_planes.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_planes_figure.py"


rule mcnn_transfer_table:
    """Networks trained on natural images (and TIE) scored on held-out pictures, cells and microspheres."""
    input:
        scores=expand(
            "results/mcnn/{condition}/eval/{run}.csv",
            condition=MCNN["convergence"]["condition"],
            run=MCNN_TRANSFER_RUNS,
        ),
    output:
        table="results/tables/mcnn_transfer.csv",
        html=report("results/tables/mcnn_transfer.html", caption="../report/mcnn_transfer.rst", category="MCNN"),
        markdown="results/tables/mcnn_transfer.md",
    params:
        train_condition=MCNN["datasets"]["train"]["kind"],
    log:
        "results/logs/tables/mcnn_transfer.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_transfer_table.py"
