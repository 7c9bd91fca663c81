# DL-SRQPI: one aliased, defocused low-res intensity → pixel-super-resolved phase (U-Net, SRCNN, TIE).
from qpi.core.plan import parse_stack_name, stack_seed
from qpi.families import srqpi
from qpi.families.srqpi import plan as srqpi_plan
from qpi.families.srqpi import planes_um, sweep_values

SRQPI = config["srqpi"]
SWEEPS = SRQPI["sweeps"]
try:  # the stacks' split: by field of view, or (too few fields) each field by spatial blocks
    SRQPI_SPLIT = srqpi_plan.split(SRQPI, STACKS, config["seed"], {s: r["split"] for s, r in USER.items() if r["split"]})
except ValueError as err:
    where = f"{config.get('stacks')} lists {len(USER)}" + (f", simulate.fields gives {len(SIMULATED)}" if SIMULATE else "")
    planning_error(f"DL-SRQPI: {err} ({where}).")
TEST_STACKS = srqpi_plan.in_split(SRQPI_SPLIT, STACKS, "test")
# measured phases the sample sheet gives (phase_path): the label with srqpi.label: measured, a reference always
MEASURED = {s: paths.fill(paths.STACK["measured"], stack=s) for s in STACKS if USER.get(s, {}).get("phase_path")}
TEST_MEASURED = [MEASURED.get(s, "") for s in TEST_STACKS]  # '' where a stack has none
try:
    SRQPI_LABELS = [plan.phase_label(SRQPI, s, s in SIMULATED, s in MEASURED) for s in STACKS]
except ValueError as err:
    planning_error(f"{err}.")


FAMILIES_RUN.append("srqpi")
TARGETS += [
    paths.table("srqpi_benchmark"),
    paths.table("srqpi_benchmark", "html"),
    paths.table("srqpi_benchmark", "md"),
    paths.figure("srqpi_benchmark"),
    paths.figure("srqpi_training_curves"),
]
if SIMULATE:  # the sweeps re-image specimens and the microlens is simulated
    TARGETS += [
        paths.table("srqpi_defocus"),
        paths.figure("srqpi_defocus"),
        paths.table("srqpi_coherence"),
        paths.figure("srqpi_coherence"),
        paths.table("srqpi_cross"),
        paths.table("srqpi_microlens"),
        paths.figure("srqpi_microlens"),
    ]

rule srqpi_degrade:
    """LR network inputs (one defocused plane, noise, binning) and two-plane LR TIE inputs of every
    stack under one condition (one job: each stack takes a fraction of a second)."""
    input:
        stacks=lambda w: [srqpi_plan.corrected(SRQPI, w.condition, s, config["microscope"]["coherence"], s in USER)
                          for s in STACKS],
    output:
        lr=expand(paths.SRQPI["lr"], stack=STACKS, allow_missing=True),
        pair=expand(paths.SRQPI["lr_pair"], stack=STACKS, allow_missing=True),
    params:
        defocus_um=lambda w: SRQPI["conditions"][w.condition]["defocus_um"],
        input_um=[USER.get(s, {}).get("input_um") for s in STACKS],
        pair_um=[srqpi_plan.baseline_planes(SRQPI, USER.get(s)) for s in STACKS],
        binning=SRQPI["binning"],
        noise_sigma=SRQPI["noise_sigma"],
        seeds=[[config["seed"], i] for i in range(len(STACKS))],  # per stack, whatever the condition
    log:
        paths.log("srqpi/{condition}/degrade"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_degrade.py"


rule srqpi_dataset:
    """Paired LR-intensity / HR-phase patches of the train and val fields (test fields stay whole)."""
    input:
        lr=expand(paths.SRQPI["lr"], stack=STACKS, allow_missing=True),
        label=SRQPI_LABELS,
        tie=expand(paths.STACK["tie"], stack=STACKS) if SRQPI_SPLIT["by"] == "blocks" else [],  # blocks: the stop
    output:
        data=paths.SRQPI["dataset"],
        provenance=paths.SRQPI["dataset_provenance"],
    wildcard_constraints:
        condition="|".join(map(re.escape, SRQPI["conditions"])),
    params:
        stacks=STACKS,
        split=SRQPI_SPLIT,
        binning=SRQPI["binning"],
        patches=SRQPI["patches"],
    log:
        paths.log("srqpi/{condition}/dataset"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_dataset.py"


rule srqpi_train:
    """Train one network on one condition with one seed; resumes from its last checkpoint."""
    input:
        data=paths.SRQPI["dataset"],
    output:
        model=paths.SRQPI_RUN["best"],
        steps=paths.SRQPI_RUN["steps"],
        epochs=paths.SRQPI_RUN["epochs"],
    params:
        arch=lambda w: plan.architecture(SRQPI, w.model),
        upscale=SRQPI["binning"],
        train=lambda w: plan.model_train(SRQPI, w.model),
        device=config["device"],
        card=lambda w: cards.for_run(config, "srqpi", w.model, w.condition),
        workdir=subpath(output.model, parent=True),
    threads: config["threads"]["train"]
    priority: 2  # the demo's longest trainings: started first, they do not finish alone at the end
    resources:
        gpu=1,
    log:
        paths.log("srqpi/{condition}/train", paths.RUN),
    benchmark:
        paths.benchmark("srqpi/{condition}/train", paths.RUN)
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_train.py"


rule srqpi_evaluate_model:
    """Full-field tiled inference of a trained network on the held-out fields of view, scored."""
    input:
        model=paths.SRQPI_RUN["best"],
        lr=lambda w: expand(paths.SRQPI["lr"], condition=w.condition, stack=TEST_STACKS),
        tie=expand(paths.STACK["tie"], stack=TEST_STACKS),
        measured=[p for p in TEST_MEASURED if p],
    output:
        scores=paths.RUN_SCORES["srqpi"],
        predictions=paths.fill(paths.SRQPI["predictions"], method=paths.RUN),
    params:
        stacks=TEST_STACKS,
        truth=truth_paths(TEST_STACKS),
        measured=TEST_MEASURED,
        split=SRQPI_SPLIT,
        evaluate=SRQPI["evaluate"],
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        paths.log("srqpi/{condition}/evaluate", paths.RUN),
    benchmark:
        paths.benchmark("srqpi/{condition}/evaluate", paths.RUN)
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_evaluate_model.py"


rule srqpi_evaluate_tie:
    """Classical baseline: TIE on the two-plane LR input, upsampled to the HR grid, scored."""
    input:
        pair=lambda w: expand(
            paths.SRQPI["lr_pair"], condition=w.condition, stack=TEST_STACKS
        ),
        tie=expand(paths.STACK["tie"], stack=TEST_STACKS),
        measured=[p for p in TEST_MEASURED if p],
    output:
        scores=paths.fill(paths.SRQPI["scores"], method="tie-{method}"),
        predictions=paths.fill(paths.SRQPI["predictions"], method="tie-{method}"),
    wildcard_constraints:
        method="fft|dct|aperture|iterative|auto",
    params:
        stacks=TEST_STACKS,
        truth=truth_paths(TEST_STACKS),
        measured=TEST_MEASURED,
        split=SRQPI_SPLIT,
        binning=SRQPI["binning"],
        eps=config["tie"]["eps"],
    log:
        paths.log("srqpi/{condition}/evaluate/tie-{method}"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_evaluate_tie.py"


rule srqpi_benchmark_table:
    """SSIM / PSNR / NRMSE / MAE / LPIPS per method (mean ± std over held-out fields)."""
    input:
        scores=lambda w: expand(
            paths.SRQPI["scores"], condition=SRQPI["train_condition"], method=srqpi.methods(SRQPI)
        ),
        epochs=expand(paths.SRQPI_RUN["epochs"], condition=SRQPI["train_condition"], model=list(SRQPI["models"]),
                      seed=SRQPI["seeds"]),
    output:
        table=paths.table("srqpi_benchmark"),
        html=report(
            paths.table("srqpi_benchmark", "html"), caption="../report/srqpi_benchmark.rst", category="DL-SRQPI"
        ),
        markdown=paths.table("srqpi_benchmark", "md"),
        per_image=paths.table("srqpi_per_image"),
    log:
        paths.log("tables/srqpi_benchmark"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_benchmark_table.py"


rule srqpi_benchmark_figure:
    """Example held-out fields per method and SSIM per method (the paper's Fig. 3)."""
    input:
        per_image=paths.table("srqpi_per_image"),
        predictions=expand(
            paths.SRQPI["predictions"], condition=SRQPI["train_condition"], method=srqpi.methods(SRQPI)
        ),
        lr=expand(
            paths.SRQPI["lr"], condition=SRQPI["train_condition"], stack=TEST_STACKS
        ),
        tie=expand(paths.STACK["tie"], stack=TEST_STACKS),
        measured=[p for p in TEST_MEASURED if p],
    output:
        figure=report(
            paths.figure("srqpi_benchmark"), caption="../report/srqpi_benchmark_figure.rst", category="DL-SRQPI"
        ),
    params:
        methods=srqpi.methods(SRQPI),
        stacks=TEST_STACKS,
        truth=truth_paths(TEST_STACKS),
        measured=TEST_MEASURED,
        split=SRQPI_SPLIT,
        binning=SRQPI["binning"],
    log:
        paths.log("figures/srqpi_benchmark"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_benchmark_figure.py"


rule srqpi_training_curves:
    """Training loss per step and validation SSIM per epoch of every DL-SRQPI network."""
    input:
        steps=expand(
            paths.SRQPI_RUN["steps"],
            condition=SRQPI["train_condition"],
            model=list(SRQPI["models"]),
            seed=SRQPI["seeds"],
        ),
        epochs=expand(
            paths.SRQPI_RUN["epochs"],
            condition=SRQPI["train_condition"],
            model=list(SRQPI["models"]),
            seed=SRQPI["seeds"],
        ),
    output:
        figure=report(
            paths.figure("srqpi_training_curves"),
            caption="../report/srqpi_training_curves.rst",
            category="DL-SRQPI",
        ),
    log:
        paths.log("figures/srqpi_training_curves"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_training_curves.py"


# --- sweeps: defocus and coherence generalisation (the paper's Figs. 4 and 5) ----------------------


rule srqpi_reimage:
    """The specimens of the simulated stacks imaged again at a condition's own coherence (only the
    planes the family reads), brightness-corrected like the shared stacks; one job per condition."""
    output:
        stacks=expand(paths.SRQPI["corrected"], stack=SIMULATED, allow_missing=True),
        phases=expand(paths.SRQPI["truth_phase"], stack=SIMULATED, allow_missing=True),
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
        paths.log("srqpi/{condition}/reimage"),
    benchmark:
        paths.benchmark("srqpi/{condition}/reimage")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_reimage.py"


rule srqpi_adaptive_dataset:
    """One training set from several conditions: every patch once, its input from one member at random."""
    input:
        data=lambda w: expand(paths.SRQPI["dataset"], condition=srqpi.adaptive(SRQPI)[w.condition]),
    output:
        data=paths.SRQPI["dataset"],
        provenance=paths.SRQPI["dataset_provenance"],
    wildcard_constraints:
        condition="|".join(srqpi.adaptive(SRQPI)) or "^$",
    params:
        members=lambda w: srqpi.adaptive(SRQPI)[w.condition],
        seed=config["seed"],
    log:
        paths.log("srqpi/{condition}/dataset"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_adaptive_dataset.py"


use rule srqpi_train as srqpi_sweep_train with:
    output:
        model=paths.SRQPI_SWEEP_RUN["best"],
        steps=paths.SRQPI_SWEEP_RUN["steps"],
        epochs=paths.SRQPI_SWEEP_RUN["epochs"],
    params:
        arch=lambda w: plan.architecture(SRQPI, w.model),
        upscale=SRQPI["binning"],
        train=srqpi.sweep_train(SRQPI),
        device=config["device"],
        card=lambda w: cards.for_run(config, "srqpi", w.model, w.condition),
        workdir=subpath(output.model, parent=True),
    threads: SWEEPS["threads"]
    log:
        paths.log("srqpi/{condition}/sweep", paths.RUN),
    benchmark:
        paths.benchmark("srqpi/{condition}/sweep", paths.RUN)


rule srqpi_cross_evaluate:
    """One sweep network, loaded once, on the held-out fields of every test condition of both sweeps, scored."""
    input:
        model=srqpi.sweep_model(SRQPI),
        lr=expand(paths.SRQPI["lr"], condition=srqpi.sweep_tests(SRQPI), stack=TEST_STACKS),
        tie=expand(paths.STACK["tie"], stack=TEST_STACKS),
        measured=[p for p in TEST_MEASURED if p],
    output:
        scores=paths.SRQPI["cross"],
    params:
        tests=srqpi.sweep_tests(SRQPI),
        stacks=TEST_STACKS,
        truth=truth_paths(TEST_STACKS),
        measured=TEST_MEASURED,
        split=SRQPI_SPLIT,
        evaluate=SRQPI["evaluate"],
        device=config["device"],
    threads: SWEEPS["threads"]
    resources:
        gpu=1,
    log:
        paths.log("srqpi/{condition}/cross", paths.RUN),
    benchmark:
        paths.benchmark("srqpi/{condition}/cross", paths.RUN)
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_cross_evaluate.py"


rule srqpi_sweep_table:
    """Mean ± std SSIM / PSNR / NRMSE / MAE per training × test condition of one sweep."""
    input:
        scores=lambda w: srqpi_plan.cross_scores(SRQPI, srqpi.sweep_networks(SRQPI, w.sweep)),
    output:
        table=paths.table("srqpi_{sweep}"),
        markdown=paths.table("srqpi_{sweep}", "md"),
        per_image=paths.table("srqpi_{sweep}_per_image"),
    wildcard_constraints:
        sweep="defocus|coherence",
    params:
        tests=lambda w: SWEEPS[w.sweep]["conditions"],
        values=lambda w: sweep_values(
            {c: SRQPI["conditions"][c] for c in SWEEPS[w.sweep]["conditions"]}, w.sweep, config["microscope"]["coherence"]
        ),
    log:
        paths.log("tables/srqpi_{sweep}"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_sweep_table.py"


rule srqpi_sweep_figure:
    """SSIM against the test condition, one line per training condition, and the per-image spread."""
    input:
        per_image=paths.table("srqpi_{sweep}_per_image"),
    output:
        figure=report(
            paths.figure("srqpi_{sweep}"), caption="../report/srqpi_sweep.rst", category="DL-SRQPI"
        ),
    wildcard_constraints:
        sweep="defocus|coherence",
    log:
        paths.log("figures/srqpi_{sweep}"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_sweep_figure.py"


rule srqpi_cross_table:
    """Every sweep network on every sweep test condition, in the tidy cross-condition format every family shares."""
    input:
        scores=srqpi_plan.cross_scores(SRQPI, srqpi.sweep_networks(SRQPI, "defocus") + srqpi.sweep_networks(SRQPI, "coherence")),
    output:
        table=paths.table("srqpi_cross"),
    params:
        model=SWEEPS["model"],
    log:
        paths.log("tables/srqpi_cross"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_cross_table.py"


# --- the microlens-array check (the paper's Fig. 6a) ---------------------------------------------
LENS = SRQPI["microlens"]


use rule srqpi_reimage as srqpi_microlens_simulate with:
    output:
        stacks=[paths.SRQPI["microlens_stack"]],
        phases=[paths.SRQPI["microlens_truth"]],
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
        paths.log("srqpi/microlens/simulate"),
    benchmark:
        paths.benchmark("srqpi/microlens/simulate")


rule srqpi_microlens:
    """The benchmark U-Net on the degraded microlens image; phase → height against the truth."""
    input:
        model=paths.fill(paths.SRQPI_RUN["best"], condition=LENS["condition"], model=LENS["model"], seed=LENS["seed"]),
        stack=paths.SRQPI["microlens_stack"],
        truth=paths.SRQPI["microlens_truth"],
    output:
        table=paths.table("srqpi_microlens"),
        markdown=paths.table("srqpi_microlens", "md"),
        maps=paths.SRQPI["microlens_heights"],
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
        paths.log("srqpi/microlens/evaluate"),
    benchmark:
        paths.benchmark("srqpi/microlens/evaluate")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_microlens.py"


rule srqpi_microlens_figure:
    """Height maps, the network's height error and a line profile across the lenses."""
    input:
        table=paths.table("srqpi_microlens"),
        maps=paths.SRQPI["microlens_heights"],
    output:
        figure=report(
            paths.figure("srqpi_microlens"), caption="../report/srqpi_microlens.rst", category="DL-SRQPI"
        ),
    params:
        pitch_um=SRQPI["microlens"]["phantom"]["pitch_um"],
    log:
        paths.log("figures/srqpi_microlens"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/srqpi_microlens_figure.py"


rule srqpi_trust:
    """The trust signs (σ over seeds and flips, consistency, OOD score) of the benchmark's first network on the
    held-out fields of every sweep condition, against the exact phase."""
    input:
        models=expand(paths.SRQPI_RUN["best"], condition=SRQPI["train_condition"][0], model=list(SRQPI["models"])[0],
                      seed=SRQPI["seeds"]),
        lr=expand(paths.SRQPI["lr"], condition=srqpi.sweep_tests(SRQPI), stack=TEST_STACKS),
    output:
        images=paths.fill(paths.TRUST["images"], family="srqpi"),
        maps=paths.fill(paths.TRUST["maps"], family="srqpi"),
    params:
        family="srqpi",
        own=SRQPI["train_condition"][0],
        tests=srqpi.sweep_tests(SRQPI),
        cases={"stacks": TEST_STACKS, "truth": truth_paths(TEST_STACKS)},
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        paths.log("srqpi/trust"),
    benchmark:
        paths.benchmark("srqpi/trust")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/trust_evaluate.py"
