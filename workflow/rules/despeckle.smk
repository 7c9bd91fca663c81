# DespeckleNet: one laser speckle image through a diffuser → intensity and phase (paired GAN, U-Net, IDiffNet, twin).
from qpi import despeckle

DESPECKLE = config["despeckle"]
if SIMULATE:  # a simulated study: `data: user` runs DL-SRQPI on the sample sheet alone
    TARGETS += [
        "results/tables/despeckle_correlation.csv",
        "results/tables/despeckle_correlation.html",
        "results/figures/despeckle_correlation.png",
        "results/figures/despeckle_examples.png",
        "results/figures/despeckle_diversity.png",
        "results/tables/despeckle_cross.csv",
        "results/tables/despeckle_cross.html",
    ]

# Conditions (qpi.despeckle.conditions): levels l1, l2, ...; sets<k> (diversity); tape, petri, tissue.
# A condition acquired like an earlier one shares its data (`shared` on the splits) and networks: at the
# example level, sets<train sets> and the default diffuser kind (tape) are that level's condition.
DESPECKLE_CONDITIONS = despeckle.conditions(DESPECKLE)
DESPECKLE_TRAINED = despeckle.trained(DESPECKLE, DESPECKLE_CONDITIONS)  # {training condition: models}
DESPECKLE_TESTS = despeckle.test_sets(DESPECKLE_CONDITIONS)  # every network is scored on each


DESPECKLE_LEVELS = [f"l{i + 1}" for i in range(len(DESPECKLE["correlation_um"]))]
DESPECKLE_SETS = [f"sets{k}" for k in DESPECKLE["diversity"]["sets"]]
DESPECKLE_EXAMPLE = f"l{DESPECKLE['example_level']}"


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
    """Every network trained on one condition's data, each loaded once and scored on every test split (unseen diffusers)."""
    input:
        models=lambda w: [f"results/despeckle/{w.condition}/models/{m}_s{w.seed}/best.pt" for m in DESPECKLE_TRAINED[w.condition]],
        speckle=[f"results/despeckle/{t}/speckle/test.npz" for t in DESPECKLE_TESTS],
        specimens="results/despeckle/specimens/test.npz",
        val=lambda w: f"results/despeckle/{despeckle_as(w.condition, ['val'])}/speckle/val.npz",
        val_specimens="results/despeckle/specimens/val.npz",
    output:
        scores="results/despeckle/{condition}/eval/s{seed}.csv",
        predictions="results/despeckle/{condition}/eval/s{seed}.npz",
    wildcard_constraints:
        condition="|".join(DESPECKLE_TRAINED),
        seed=r"\d+",
    params:
        models=lambda w: DESPECKLE_TRAINED[w.condition],
        calibrate=lambda w: despeckle.calibrated(DESPECKLE, DESPECKLE_TRAINED[w.condition]),
        tests=DESPECKLE_TESTS,
        correlation_um=[DESPECKLE_CONDITIONS[t]["diffuser"]["correlation_um"] for t in DESPECKLE_TESTS],
        train_sets=lambda w: DESPECKLE_CONDITIONS[w.condition]["sets"]["train"],
        label=DESPECKLE["label"],
        device=config["device"],
    threads: DESPECKLE["threads"]
    resources:
        gpu=1,
    log:
        "results/logs/despeckle/{condition}/evaluate/s{seed}.log",
    benchmark:
        "results/benchmarks/despeckle/{condition}/evaluate/s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_evaluate.py"


rule despeckle_correlation_table:
    """SSIM (and NRMSE, LPIPS) of intensity and phase per model and scatter level, on unseen diffusers."""
    input:
        scores=despeckle_evals(DESPECKLE_LEVELS),
    output:
        table="results/tables/despeckle_correlation.csv",
        html=report(
            "results/tables/despeckle_correlation.html", caption="../report/despeckle_correlation.rst", category="DespeckleNet"
        ),
        markdown="results/tables/despeckle_correlation.md",
        per_image="results/tables/despeckle_per_image.csv",
    params:
        pairs=[(despeckle_as(c, ["train", "val"]), despeckle_as(c, ["test"])) for c in DESPECKLE_LEVELS],
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
        speckle=f"results/despeckle/{despeckle_as(DESPECKLE_EXAMPLE, ['test'])}/speckle/test.npz",
        specimens="results/despeckle/specimens/test.npz",
        predictions=despeckle_evals([DESPECKLE_EXAMPLE], "npz", DESPECKLE["seeds"][:1]),
        scores=despeckle_evals([DESPECKLE_EXAMPLE], "csv", DESPECKLE["seeds"][:1]),
    output:
        figure=report(
            "results/figures/despeckle_examples.png",
            caption="../report/despeckle_examples.rst",
            category="DespeckleNet",
        ),
    params:
        models=DESPECKLE_TRAINED[despeckle_as(DESPECKLE_EXAMPLE, ["train", "val"])],
        test=despeckle_as(DESPECKLE_EXAMPLE, ["test"]),
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
        scores=despeckle_evals(DESPECKLE_SETS),
    output:
        figure=report(
            "results/figures/despeckle_diversity.png",
            caption="../report/despeckle_diversity.rst",
            category="DespeckleNet",
        ),
    params:
        pairs=[(despeckle_as(c, ["train", "val"]), despeckle_as(c, ["test"])) for c in DESPECKLE_SETS],
        models=DESPECKLE["diversity"]["models"],
    log:
        "results/logs/figures/despeckle_diversity.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_diversity.py"


rule despeckle_cross_table:
    """Every network on every test split: train condition × test condition (tidy cross-condition table)."""
    input:
        scores=despeckle_evals(DESPECKLE_TRAINED),
    output:
        table="results/tables/despeckle_cross.csv",
        html=report(
            "results/tables/despeckle_cross.html", caption="../report/despeckle_cross.rst", category="DespeckleNet"
        ),
        markdown="results/tables/despeckle_cross.md",
    log:
        "results/logs/tables/despeckle_cross.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_cross_table.py"
