# ContransGAN: unpaired low-NA (4×/10×/20×/40×) intensity → 40×/0.65 TIE phase, CycleGAN with a CNN + Swin generator.
from qpi.families import contrans
from qpi.families.contrans import user as contrans_user

CONTRANS = config["contrans"]
CONTRANS_SEEDS = CONTRANS["seeds"]
if SIMULATE:
    FAMILIES_RUN.append("contrans")
    TARGETS += [
        paths.table("contrans_objectives"),
        paths.table("contrans_objectives", "html"),
        paths.table("contrans_objectives", "md"),
        paths.figure("contrans_compare"),
        paths.figure("contrans_cross_na"),
        paths.figure("psm_heights"),
    ]
    CONTRANS_SPECIMENS = list(CONTRANS["specimens"])
    CONTRANS_OBJECTIVES = list(contrans.conditions(CONTRANS))
    # (specimen, train objective, model): ContransGAN on every objective (Table 1 and cross-NA), baselines on one
    CONTRANS_RUNS = contrans.runs(CONTRANS)
    CONTRANS_SCORED = contrans.scored(CONTRANS)
else:  # the paper's experiment on the sheet: its low-NA rows (one condition per objective) and its stacks' labels
    CONTRANS_USER_OBJECTIVES = contrans_user.objectives(USER_IMAGES)  # {objective: low-NA rows}
    CONTRANS_SPECIMENS = [contrans_user.SPECIMEN]
    CONTRANS_OBJECTIVES = list(CONTRANS_USER_OBJECTIVES)
    CONTRANS_RUNS = [(contrans_user.SPECIMEN, o, m) for o in CONTRANS_OBJECTIVES for m in CONTRANS["user"]["models"]]
    CONTRANS_SCORED = contrans.eval_paths(CONTRANS_RUNS, CONTRANS_SEEDS)
    if CONTRANS_OBJECTIVES:
        FAMILIES_RUN.append("contrans")
        TARGETS += [paths.table("contrans_objectives"), paths.table("contrans_objectives", "html"),
                    paths.table("contrans_objectives", "md")]
        try:  # each field: tested (both kinds, registered), or one training domain (never both: unpaired)
            CONTRANS_USER_SPLIT = contrans_user.split(USER_IMAGES, {r["field"]: r for r in USER.values()},
                                                      CONTRANS["user"]["test"], config["seed"])
            CONTRANS_USER_LABELS = [plan.phase_label(CONTRANS["user"], n, False, bool(USER[n]["phase_path"]),
                                                     "contrans.user.label") for n in sorted(USER)]
        except ValueError as err:
            planning_error(f"{err}.")
    else:
        skipped("contrans", "the sample sheet has no lowres rows")
CONTRANS_LABEL = CONTRANS["label"]["source"] if SIMULATE else CONTRANS["user"]["label"]  # domain B's key
CONTRANS_COMPARED = (CONTRANS["baselines"]["specimen"], CONTRANS["baselines"]["objective"])
CONTRANS_BASELINE_RUNS = [r for r in CONTRANS_RUNS if r[:2] == CONTRANS_COMPARED]
CONTRANS_SCOPES = contrans.scopes(config["microscope"], CONTRANS)
CONTRANS_SPHERE_RUNS = [("microspheres", o, "contrans") for o in CONTRANS_OBJECTIVES]


wildcard_constraints:
    specimen="|".join(CONTRANS_SPECIMENS),
    objective="|".join(map(re.escape, CONTRANS_OBJECTIVES)),


if not SIMULATE and CONTRANS_OBJECTIVES:

    rule contrans_user_data:
        """The sheet's low-NA images (domain A, by objective) and stack labels (domain B); test fields registered."""
        input:
            stacks=[paths.fill(paths.STACK["corrected"], stack=s) for s in sorted(USER)],
            labels=CONTRANS_USER_LABELS,
            **{f"lowres_{o}": [USER_IMAGES[n]["path"] for n in rows] for o, rows in CONTRANS_USER_OBJECTIVES.items()},
        output:
            train_b=paths.fill(paths.CONTRANS["data"], specimen=contrans_user.SPECIMEN, part="train_b"),
            grids=paths.CONTRANS["user_grids"],
            **{f"{part}_{o}": paths.fill(paths.CONTRANS["user_data"], objective=o, part=part)
               for o in CONTRANS_OBJECTIVES for part in ("train_a", "test")},
        params:
            stacks={n: USER[n] for n in sorted(USER)},
            rows=USER_IMAGES,
            objectives=CONTRANS_USER_OBJECTIVES,
            parts=CONTRANS_USER_SPLIT,
            hr_px=CONTRANS["hr_px"],
            hr_binning=CONTRANS["hr_binning"],
            min_phase_rad=CONTRANS["min_phase_rad"],
            label=CONTRANS_LABEL,
        log:
            paths.log("contrans/user_data"),
        benchmark:
            paths.benchmark("contrans/user_data")
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/contrans_user_data.py"


if SIMULATE:

    rule contrans_acquire:
        """One part of one specimen's slides through every objective: input tiles (train_a, test), TIE and exact phase (train_b, test)."""
        output:
            data=paths.CONTRANS["data"],
            provenance=paths.CONTRANS["data_provenance"],
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
            paths.log("contrans/acquire/{specimen}/{part}"),
        benchmark:
            paths.benchmark("contrans/acquire/{specimen}/{part}")
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/contrans_acquire.py"


rule contrans_train:
    """CycleGAN on one specimen: unpaired input tiles of one objective and HR phases; resumes from its last checkpoint."""
    input:
        unpack(lambda w: {"train_a": paths.fill(paths.CONTRANS["data"], specimen=w.specimen, part="train_a"),
                          "train_b": paths.fill(paths.CONTRANS["data"], specimen=w.specimen, part="train_b")}
               if SIMULATE else
               {"train_a": paths.fill(paths.CONTRANS["user_data"], objective=w.objective, part="train_a"),
                "train_b": paths.fill(paths.CONTRANS["data"], specimen=w.specimen, part="train_b"),
                "grids": paths.CONTRANS["user_grids"]}),
    output:
        model=paths.CONTRANS_RUN["generator"],
        steps=paths.CONTRANS_RUN["steps"],
    params:
        arch=lambda w: plan.architecture(CONTRANS, w.model),
        hr_px=CONTRANS["hr_px"],
        label=CONTRANS_LABEL,
        train=lambda w: plan.model_train(CONTRANS, w.model),
        device=config["device"],
        card=lambda w: cards.for_run(config, "contrans", w.model, w.objective, w.specimen),
        workdir=subpath(output.model, parent=True),
    threads: CONTRANS["threads"]
    resources:
        gpu=1,
    log:
        paths.log("contrans/train/{specimen}/{objective}", paths.RUN),
    benchmark:
        paths.benchmark("contrans/train/{specimen}/{objective}", paths.RUN)
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_train.py"


rule contrans_evaluate:
    """A trained generator on the test tiles of every objective: per-image scores (TIE label and exact phase), predictions."""
    input:
        model=paths.CONTRANS_RUN["generator"],
        test=lambda w: paths.fill(paths.CONTRANS["data"], specimen=w.specimen, part="test") if SIMULATE else
        paths.fill(paths.CONTRANS["user_data"], objective=w.objective, part="test"),
    output:
        scores=paths.CONTRANS["scores"],
        predictions=paths.CONTRANS["predictions"],
    params:
        objectives=lambda w: CONTRANS_OBJECTIVES if SIMULATE else [w.objective],  # a lab's: its own test fields
        hr_px=CONTRANS["hr_px"],
        device=config["device"],
    threads: CONTRANS["threads"]
    resources:
        gpu=1,
    log:
        paths.log("contrans/evaluate/{specimen}/{objective}", paths.RUN),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_evaluate.py"


rule contrans_tables:
    """Table 1 (SSIM/PSNR by input objective, ours beside the paper's), the cross-objective matrix, per-image scores."""
    input:
        scores=CONTRANS_SCORED,
    output:
        table=paths.table("contrans_objectives"),
        html=report(
            paths.table("contrans_objectives", "html"), caption="../report/contrans_objectives.rst", category="ContransGAN"
        ),
        markdown=paths.table("contrans_objectives", "md"),
        cross=paths.table("contrans_cross_na"),
        per_image=paths.table("contrans_per_image"),
    params:
        label=CONTRANS_LABEL,
    log:
        paths.log("tables/contrans_objectives"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_tables.py"


rule contrans_compare_figure:
    """One test tile through ContransGAN and its baselines, line profiles, and SSIM per model."""
    input:
        per_image=paths.table("contrans_per_image"),
        predictions=contrans.eval_paths(CONTRANS_BASELINE_RUNS, contrans.baseline_seeds(CONTRANS)[:1], "predictions"),
        test=paths.fill(paths.CONTRANS["data"], specimen=CONTRANS_COMPARED[0], part="test"),
    output:
        figure=report(
            paths.figure("contrans_compare"), caption="../report/contrans_compare.rst", category="ContransGAN"
        ),
    params:
        runs=CONTRANS_BASELINE_RUNS,
        seed=contrans.baseline_seeds(CONTRANS)[0],
        hr_px=CONTRANS["hr_px"],
    log:
        paths.log("figures/contrans_compare"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_compare_figure.py"


rule contrans_cross_na_figure:
    """SSIM and PSNR of ContransGAN trained on one objective and tested on every objective."""
    input:
        table=paths.table("contrans_cross_na"),
    output:
        figure=report(
            paths.figure("contrans_cross_na"), caption="../report/contrans_cross_na.rst", category="ContransGAN"
        ),
    params:
        objectives=CONTRANS_OBJECTIVES,
    log:
        paths.log("figures/contrans_cross_na"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_cross_na_figure.py"


rule contrans_heights:
    """Microsphere heights from the predicted phase (each objective's network on its own test tiles), TIE label and exact."""
    input:
        predictions=contrans.eval_paths(CONTRANS_SPHERE_RUNS, CONTRANS_SEEDS[:1], "predictions"),
        test=paths.fill(paths.CONTRANS["data"], specimen="microspheres", part="test"),
    output:
        figure=report(paths.figure("psm_heights"), caption="../report/psm_heights.rst", category="ContransGAN"),
        table=paths.table("psm_heights"),
    params:
        objectives=CONTRANS_OBJECTIVES,
        sphere=CONTRANS["specimens"]["microspheres"]["params"],
        pixel_um=contrans.hr_pixel_um(CONTRANS_SCOPES[1], CONTRANS["hr_binning"]),
        wavelength_um=config["microscope"]["wavelength_um"],
        threshold=CONTRANS["heights"]["threshold"],
    log:
        paths.log("figures/psm_heights"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/contrans_heights.py"


rule contrans_trust:
    """The trust signs of ContransGAN at the compared objective, trained on the compared specimen, on the test
    tiles of every specimen (its own, and the others: out of distribution), against the exact phase."""
    input:
        models=expand(paths.CONTRANS_RUN["generator"], specimen=CONTRANS["baselines"]["specimen"],
                      objective=CONTRANS["baselines"]["objective"], model="contrans", seed=CONTRANS_SEEDS),
        sets=expand(paths.CONTRANS["data"], specimen=CONTRANS_SPECIMENS, part="test"),
    output:
        images=paths.fill(paths.TRUST["images"], family="contrans"),
        maps=paths.fill(paths.TRUST["maps"], family="contrans"),
    params:
        family="contrans",
        own=CONTRANS["baselines"]["specimen"],
        tests=CONTRANS_SPECIMENS,
        cases={"images": config["trust"]["images"]},
        device=config["device"],
    threads: CONTRANS["threads"]
    resources:
        gpu=1,
    log:
        paths.log("contrans/trust"),
    benchmark:
        paths.benchmark("contrans/trust")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/trust_evaluate.py"
