# ContransGAN: unpaired low-NA (4×/10×/20×/40×) intensity → 40×/0.65 TIE phase, CycleGAN with a CNN + Swin generator.
from qpi.contrans import eval_paths, hr_pixel_um, runs as contrans_runs, scopes as contrans_scopes

CONTRANS = config["contrans"]
if SIMULATE:  # a simulated study: `data: user` runs DL-SRQPI on the sample sheet alone
    TARGETS += [
        "results/tables/contrans_objectives.csv",
        "results/tables/contrans_objectives.html",
        "results/tables/contrans_objectives.md",
        "results/figures/contrans_compare.png",
        "results/figures/contrans_cross_na.png",
        "results/figures/psm_heights.png",
    ]

CONTRANS_SPECIMENS = list(CONTRANS["specimens"])
CONTRANS_OBJECTIVES = list(CONTRANS["objectives"])
CONTRANS_SEEDS = CONTRANS["seeds"]
# (specimen, train objective, model): ContransGAN on every objective (Table 1 and cross-NA), baselines on one
CONTRANS_RUNS = contrans_runs(CONTRANS)
CONTRANS_COMPARED = (CONTRANS["baselines"]["specimen"], CONTRANS["baselines"]["objective"])
CONTRANS_BASELINE_RUNS = [r for r in CONTRANS_RUNS if r[:2] == CONTRANS_COMPARED]
CONTRANS_SCOPES = contrans_scopes(config["microscope"], CONTRANS)
CONTRANS_SPHERE_RUNS = [("microspheres", o, "contrans") for o in CONTRANS_OBJECTIVES]


wildcard_constraints:
    specimen="|".join(CONTRANS_SPECIMENS),
    objective="|".join(CONTRANS_OBJECTIVES),


rule contrans_acquire:
    """One part of one specimen's slides through every objective: input tiles (train_a, test), TIE and exact phase (train_b, test)."""
    output:
        data="results/contrans/data/{specimen}/{part}.npz",
        provenance="results/contrans/data/{specimen}/{part}.json",
    wildcard_constraints:
        part="train_a|train_b|test",
    params:
        slides=lambda w: CONTRANS["slides"][w.part],
        specimen=lambda w: CONTRANS["specimens"][w.specimen],
        scopes=CONTRANS_SCOPES,
        dz_um=CONTRANS["label"]["dz_um"],
        tiles=CONTRANS["tiles"],
        hr_px=CONTRANS["hr_px"],
        hr_binning=CONTRANS["hr_binning"],
        min_phase_rad=CONTRANS["min_phase_rad"],
        photons=CONTRANS["photons"],
        tie=config["tie"],
        seed=config["seed"],
    log:
        "results/logs/contrans/acquire/{specimen}/{part}.log",
    benchmark:
        "results/benchmarks/contrans/acquire/{specimen}/{part}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_acquire.py"


rule contrans_train:
    """CycleGAN on one specimen: unpaired input tiles of one objective and HR phases; resumes from its last checkpoint."""
    input:
        train_a="results/contrans/data/{specimen}/train_a.npz",
        train_b="results/contrans/data/{specimen}/train_b.npz",
    output:
        model="results/contrans/{specimen}/{objective}/models/{model}_s{seed}/generator.pt",
        steps="results/contrans/{specimen}/{objective}/models/{model}_s{seed}/steps.csv",
    params:
        arch=lambda w: CONTRANS["models"][w.model],
        hr_px=CONTRANS["hr_px"],
        label=CONTRANS["label"]["source"],
        train=CONTRANS["train"],
        device=config["device"],
        workdir=subpath(output.model, parent=True),
    threads: CONTRANS["threads"]
    resources:
        gpu=1,
    log:
        "results/logs/contrans/train/{specimen}/{objective}/{model}_s{seed}.log",
    benchmark:
        "results/benchmarks/contrans/train/{specimen}/{objective}/{model}_s{seed}.tsv"
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_train.py"


rule contrans_evaluate:
    """A trained generator on the test tiles of every objective: per-image scores (TIE label and exact phase), predictions."""
    input:
        model="results/contrans/{specimen}/{objective}/models/{model}_s{seed}/generator.pt",
        test="results/contrans/data/{specimen}/test.npz",
    output:
        scores="results/contrans/{specimen}/{objective}/eval/{model}_s{seed}.csv",
        predictions="results/contrans/{specimen}/{objective}/eval/{model}_s{seed}.npz",
    params:
        objectives=CONTRANS_OBJECTIVES,
        hr_px=CONTRANS["hr_px"],
        device=config["device"],
    threads: CONTRANS["threads"]
    resources:
        gpu=1,
    log:
        "results/logs/contrans/evaluate/{specimen}/{objective}/{model}_s{seed}.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_evaluate.py"


rule contrans_tables:
    """Table 1 (SSIM/PSNR by input objective, ours beside the paper's), the cross-objective matrix, per-image scores."""
    input:
        scores=eval_paths(CONTRANS_RUNS, CONTRANS_SEEDS, "csv"),
    output:
        table="results/tables/contrans_objectives.csv",
        html=report(
            "results/tables/contrans_objectives.html", caption="../report/contrans_objectives.rst", category="ContransGAN"
        ),
        markdown="results/tables/contrans_objectives.md",
        cross="results/tables/contrans_cross_na.csv",
        per_image="results/tables/contrans_per_image.csv",
    log:
        "results/logs/tables/contrans_objectives.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_tables.py"


rule contrans_compare_figure:
    """One test tile through ContransGAN and its baselines, line profiles, and SSIM per model."""
    input:
        per_image="results/tables/contrans_per_image.csv",
        predictions=eval_paths(CONTRANS_BASELINE_RUNS, CONTRANS_SEEDS[:1], "npz"),
        test=f"results/contrans/data/{CONTRANS_COMPARED[0]}/test.npz",
    output:
        figure=report(
            "results/figures/contrans_compare.png", caption="../report/contrans_compare.rst", category="ContransGAN"
        ),
    params:
        runs=CONTRANS_BASELINE_RUNS,
        seed=CONTRANS_SEEDS[0],
        hr_px=CONTRANS["hr_px"],
    log:
        "results/logs/figures/contrans_compare.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_compare_figure.py"


rule contrans_cross_na_figure:
    """SSIM and PSNR of ContransGAN trained on one objective and tested on every objective."""
    input:
        table="results/tables/contrans_cross_na.csv",
    output:
        figure=report(
            "results/figures/contrans_cross_na.png", caption="../report/contrans_cross_na.rst", category="ContransGAN"
        ),
    params:
        objectives=CONTRANS_OBJECTIVES,
    log:
        "results/logs/figures/contrans_cross_na.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_cross_na_figure.py"


rule contrans_heights:
    """Microsphere heights from the predicted phase (each objective's network on its own test tiles), TIE label and exact."""
    input:
        predictions=eval_paths(CONTRANS_SPHERE_RUNS, CONTRANS_SEEDS[:1], "npz"),
        test="results/contrans/data/microspheres/test.npz",
    output:
        figure=report("results/figures/psm_heights.png", caption="../report/psm_heights.rst", category="ContransGAN"),
        table="results/tables/psm_heights.csv",
    params:
        objectives=CONTRANS_OBJECTIVES,
        sphere=CONTRANS["specimens"]["microspheres"]["params"],
        pixel_um=hr_pixel_um(CONTRANS_SCOPES[1], CONTRANS["hr_binning"]),
        wavelength_um=config["microscope"]["wavelength_um"],
        threshold=CONTRANS["heights"]["threshold"],
    log:
        "results/logs/figures/psm_heights.log",
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_heights.py"
