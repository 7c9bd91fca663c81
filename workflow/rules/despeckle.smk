# DespeckleNet: one laser speckle image through a diffuser → intensity and phase (paired GAN, U-Net, IDiffNet, twin).
from qpi import despeckle

DESPECKLE = config["despeckle"]
TARGETS += [
    "results/tables/despeckle_correlation.csv",
    "results/figures/despeckle_correlation.png",
    "results/figures/despeckle_examples.png",
    "results/figures/despeckle_diversity.png",
    "results/tables/despeckle_cross.csv",
]

# Conditions (qpi.despeckle.conditions): levels l1, l2, ...; sets<k> (diversity); tape, petri, tissue.
# A condition acquired like an earlier one shares its data (`shared` on the splits) and networks.
DESPECKLE_CONDITIONS = despeckle.conditions(DESPECKLE)
DESPECKLE_LEVELS = [f"l{i + 1}" for i in range(len(DESPECKLE["correlation_um"]))]
DESPECKLE_RUNS = [f"{m}_s{s}" for m in DESPECKLE["models"] for s in DESPECKLE["seeds"]]
DESPECKLE_DIVERSITY = [
    f"results/despeckle/sets{k}/eval/sets{k}/{m}_s{s}.csv"
    for k in DESPECKLE["diversity"]["sets"]
    for m in DESPECKLE["diversity"]["models"]
    for s in DESPECKLE["seeds"]
]
DESPECKLE_CROSS = [
    f"results/despeckle/{train}/eval/{test}/{m}_s{s}.csv"
    for train in DESPECKLE["cross"]["diffusers"]
    for test in DESPECKLE["cross"]["diffusers"]
    for m in DESPECKLE["cross"]["models"]
    for s in DESPECKLE["seeds"]
]


rule despeckle_specimens:
    """Specimens of one split and their unscattered targets: in-focus intensity, TIE phase, exact phase."""
    output:
        data="results/despeckle/specimens/{split}.npz",
        provenance="results/despeckle/specimens/{split}.json",
    wildcard_constraints:
        split="train|val|test",
    params:
        specimens=lambda w: DESPECKLE["specimens"][w.split],
        field_px=DESPECKLE["field_px"],
        scope={**config["microscope"], **DESPECKLE["microscope"]},
        phantom=DESPECKLE["phantom"],
        dz_um=DESPECKLE["dz_um"],
        tie=config["tie"],
        seed=config["seed"],
    log:
        "results/logs/despeckle/specimens/{split}.log",
    benchmark:
        "results/benchmarks/despeckle/specimens/{split}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_specimens.py"


rule despeckle_acquire:
    """Speckle images of one split through the condition's diffusers, one fresh diffuser per acquisition set."""
    input:
        specimens="results/despeckle/specimens/{split}.npz",
    output:
        data="results/despeckle/{condition}/speckle/{split}.npz",
        provenance="results/despeckle/{condition}/speckle/{split}.json",
    wildcard_constraints:
        split="train|val|test",
    params:
        sets=lambda w: DESPECKLE_CONDITIONS[w.condition]["sets"][w.split],
        scope={**config["microscope"], **DESPECKLE["microscope"]},
        diffuser=lambda w: DESPECKLE_CONDITIONS[w.condition]["diffuser"],
        illumination=DESPECKLE["illumination"],
        photons=DESPECKLE["photons"],
        defocus_um=DESPECKLE["defocus_um"],
        seed=config["seed"],
    log:
        "results/logs/despeckle/{condition}/acquire/{split}.log",
    benchmark:
        "results/benchmarks/despeckle/{condition}/acquire/{split}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_acquire.py"


rule despeckle_train:
    """Train one network on one condition with one seed (paired GAN or plain); resumes from its last checkpoint."""
    input:
        train=lambda w: f"results/despeckle/{despeckle.shared(DESPECKLE_CONDITIONS, w.condition, ['train'])}/speckle/train.npz",
        val=lambda w: f"results/despeckle/{despeckle.shared(DESPECKLE_CONDITIONS, w.condition, ['val'])}/speckle/val.npz",
        train_specimens="results/despeckle/specimens/train.npz",
        val_specimens="results/despeckle/specimens/val.npz",
    output:
        model="results/despeckle/{condition}/models/{model}_s{seed}/best.pt",
        steps="results/despeckle/{condition}/models/{model}_s{seed}/steps.csv",
        epochs="results/despeckle/{condition}/models/{model}_s{seed}/epochs.csv",
    params:
        spec=lambda w: DESPECKLE["models"][w.model],
        label=DESPECKLE["label"],
        train=DESPECKLE["train"],
        device=config["device"],
        workdir=subpath(output.model, parent=True),
    threads: DESPECKLE["threads"]
    resources:
        gpu=1,
    log:
        "results/logs/despeckle/{condition}/train/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/despeckle/{condition}/train/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_train.py"


rule despeckle_evaluate:
    """A network trained on one condition, on the test split of a condition (unseen diffusers): per-image scores."""
    input:
        model=lambda w: "results/despeckle/{}/models/{}_s{}/best.pt".format(
            despeckle.shared(DESPECKLE_CONDITIONS, w.condition, ["train", "val"]), w.model, w.seed
        ),
        speckle=lambda w: f"results/despeckle/{despeckle.shared(DESPECKLE_CONDITIONS, w.test, ['test'])}/speckle/test.npz",
        specimens="results/despeckle/specimens/test.npz",
        val=lambda w: f"results/despeckle/{despeckle.shared(DESPECKLE_CONDITIONS, w.condition, ['val'])}/speckle/val.npz",
        val_specimens="results/despeckle/specimens/val.npz",
    output:
        scores="results/despeckle/{condition}/eval/{test}/{model}_s{seed}.csv",
        predictions="results/despeckle/{condition}/eval/{test}/{model}_s{seed}.npz",
    params:
        correlation_um=lambda w: DESPECKLE_CONDITIONS[w.test]["diffuser"]["correlation_um"],
        train_sets=lambda w: DESPECKLE_CONDITIONS[w.condition]["sets"]["train"],
        calibrate=lambda w: DESPECKLE["models"][w.model].get("loss") == "npcc",
        label=DESPECKLE["label"],
        device=config["device"],
    threads: DESPECKLE["threads"]
    resources:
        gpu=1,
    log:
        "results/logs/despeckle/{condition}/evaluate/{test}/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/despeckle/{condition}/evaluate/{test}/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_evaluate.py"


rule despeckle_correlation_table:
    """SSIM (and NRMSE, LPIPS) of intensity and phase per model and scatter level, on unseen diffusers."""
    input:
        scores=[f"results/despeckle/{c}/eval/{c}/{run}.csv" for c in DESPECKLE_LEVELS for run in DESPECKLE_RUNS],
    output:
        table=report(
            "results/tables/despeckle_correlation.csv",
            caption="../report/despeckle_correlation.rst",
            category="DespeckleNet",
        ),
        markdown="results/tables/despeckle_correlation.md",
        per_image="results/tables/despeckle_per_image.csv",
    log:
        "results/logs/tables/despeckle_correlation.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_correlation_table.py"


rule despeckle_correlation_figure:
    """Mean SSIM of intensity and phase against the diffuser's correlation length, one line per model."""
    input:
        per_image="results/tables/despeckle_per_image.csv",
    output:
        figure=report(
            "results/figures/despeckle_correlation.png",
            caption="../report/despeckle_correlation.rst",
            category="DespeckleNet",
        ),
    log:
        "results/logs/figures/despeckle_correlation.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_correlation_figure.py"


rule despeckle_examples:
    """One unseen test specimen: speckle input, every model's intensity and phase, and the truths."""
    input:
        speckle=f"results/despeckle/l{DESPECKLE['example_level']}/speckle/test.npz",
        specimens="results/despeckle/specimens/test.npz",
        predictions=expand(
            "results/despeckle/l{level}/eval/l{level}/{run}.npz", level=DESPECKLE["example_level"], run=DESPECKLE_RUNS
        ),
    output:
        figure=report(
            "results/figures/despeckle_examples.png",
            caption="../report/despeckle_examples.rst",
            category="DespeckleNet",
        ),
    params:
        runs=DESPECKLE_RUNS,
        correlation_um=DESPECKLE["correlation_um"][DESPECKLE["example_level"] - 1],
    log:
        "results/logs/figures/despeckle_examples.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_examples.py"


rule despeckle_diversity:
    """Per-image SSIM (and LPIPS where available) against the training acquisition sets, at equal patch count."""
    input:
        scores=DESPECKLE_DIVERSITY,
    output:
        figure=report(
            "results/figures/despeckle_diversity.png",
            caption="../report/despeckle_diversity.rst",
            category="DespeckleNet",
        ),
    log:
        "results/logs/figures/despeckle_diversity.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_diversity.py"


rule despeckle_cross_table:
    """Networks trained on one diffuser type, tested on every type (tidy cross-condition table)."""
    input:
        scores=DESPECKLE_CROSS,
    output:
        table=report(
            "results/tables/despeckle_cross.csv", caption="../report/despeckle_cross.rst", category="DespeckleNet"
        ),
        markdown="results/tables/despeckle_cross.md",
    log:
        "results/logs/tables/despeckle_cross.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_cross_table.py"
