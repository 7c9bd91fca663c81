# DespeckleNet: one laser speckle image through a diffuser → intensity and phase (paired GAN, U-Net, IDiffNet, twin).
from qpi.families import despeckle
from qpi.families.despeckle import user as despeckle_user
from qpi.families.despeckle.plan import Plan, UserPlan

DESPECKLE = config["despeckle"]
if SIMULATE:
    FAMILIES_RUN.append("despeckle")
    TARGETS += [
        paths.table("despeckle_correlation"),
        paths.table("despeckle_correlation", "html"),
        paths.figure("despeckle_correlation"),
        paths.figure("despeckle_examples"),
        paths.figure("despeckle_diversity"),
        paths.table("despeckle_cross"),
        paths.table("despeckle_cross", "html"),
    ]
    # Conditions (qpi.families.despeckle.conditions): levels l1, l2, ... (and `pooled`, every level in one training
    # set, with levels_training: pooled); sets<k> (diversity); tape, petri, tissue. A condition acquired like an
    # earlier one shares its data (`shared` on the splits) and networks: at the example level, sets<train sets> and
    # the default diffuser kind (tape) are that level's condition.
    DESPECKLE_PLAN = Plan(DESPECKLE)
else:  # the sample sheet's speckle images: one condition per diffuser label (and pooled)
    DESPECKLE_PLAN = UserPlan(DESPECKLE, despeckle_user.conditions(USER_IMAGES))
    if DESPECKLE_PLAN.conditions:
        FAMILIES_RUN.append("despeckle")
        TARGETS += [paths.table("despeckle_correlation"), paths.table("despeckle_correlation", "html"),
                    paths.table("despeckle_cross"), paths.table("despeckle_cross", "html"),
                    paths.figure("despeckle_examples")]
    else:
        skipped("despeckle", "the sample sheet has no speckle rows")
DESPECKLE_CONDITIONS = DESPECKLE_PLAN.conditions
DESPECKLE_TRAINED = DESPECKLE_PLAN.trained()  # {training condition: models}
DESPECKLE_TESTS = DESPECKLE_PLAN.tests()  # every network is scored on each
DESPECKLE_LEVELS = DESPECKLE_PLAN.levels
DESPECKLE_TRUST_CONDITION, DESPECKLE_TRUST_OWN = "pooled", []  # a sheet's diffusers: no exact phase to calibrate on
if SIMULATE:
    DESPECKLE_SETS = [f"sets{k}" for k in DESPECKLE["diversity"]["sets"]]
    DESPECKLE_EXAMPLE = f"l{DESPECKLE['example_level']}"  # the example panel's level
    # the trust signs' networks: the example level's (pooled: every level's, whose test speckle is then their own)
    DESPECKLE_TRUST_CONDITION = despeckle.level_training(DESPECKLE, DESPECKLE_CONDITIONS, DESPECKLE_EXAMPLE)
    DESPECKLE_TRUST_OWN = DESPECKLE_LEVELS if DESPECKLE_TRUST_CONDITION == "pooled" else [DESPECKLE_EXAMPLE]
    # Every evaluation: the level sweep's networks with every seed, the diversity and diffuser-type
    # experiments' with their own seeds (fewer where only the sweep decides an ordering).
    DESPECKLE_SEEDS = {e: DESPECKLE[e]["seeds"] or DESPECKLE["seeds"] for e in ("diversity", "cross")}
    DESPECKLE_EVALS = list(dict.fromkeys(
        DESPECKLE_PLAN.evals(DESPECKLE_LEVELS)
        + DESPECKLE_PLAN.evals(DESPECKLE_SETS, seeds=DESPECKLE_SEEDS["diversity"])
        + DESPECKLE_PLAN.evals(DESPECKLE["cross"]["diffusers"], seeds=DESPECKLE_SEEDS["cross"])))
else:
    DESPECKLE_EVALS = DESPECKLE_PLAN.evals(list(DESPECKLE_CONDITIONS))
    DESPECKLE_EXAMPLE = next(iter(DESPECKLE_LEVELS), None)  # the example panel's diffuser: the first
    try:  # each speckle row's phase target: its field's TIE, or measured phase (despeckle.label)
        DESPECKLE_LABELS = {n: DESPECKLE_PLAN.label(USER[USER_FIELDS[r["field"]]]) for n, r in USER_IMAGES.items()
                            if r["kind"] == "speckle"}
    except ValueError as err:
        planning_error(f"{err}.")
    try:  # the speckle images' fields into train, val and test
        DESPECKLE_USER_SPLIT = despeckle_user.split(USER_IMAGES, DESPECKLE["split"], config["seed"]) \
            if DESPECKLE_CONDITIONS else None
    except ValueError as err:
        planning_error(f"{err}.")

if SIMULATE:
    rule despeckle_specimens:
        """Specimens of one split and their unscattered targets: in-focus intensity, TIE phase, exact phase."""
        output:
            data=paths.DESPECKLE["specimens"],
            provenance=paths.DESPECKLE["specimens_provenance"],
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
            paths.log("despeckle/specimens/{split}"),
        benchmark:
            paths.benchmark("despeckle/specimens/{split}")
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/despeckle_specimens.py"


    rule despeckle_acquire:
        """Speckle images of one split through the condition's diffusers, one fresh diffuser per acquisition set."""
        input:
            specimens=paths.DESPECKLE["specimens"],
        output:
            data=paths.DESPECKLE["speckle"],
            provenance=paths.DESPECKLE["speckle_provenance"],
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
            paths.log("despeckle/{condition}/acquire/{split}"),
        benchmark:
            paths.benchmark("despeckle/{condition}/acquire/{split}")
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/despeckle_acquire.py"


else:

    rule despeckle_user_data:
        """A diffuser's speckle images of one split and their targets, cut alike from their fields' stacks."""
        input:
            speckle=lambda w: [USER_IMAGES[n]["path"] for n in DESPECKLE_CONDITIONS[w.condition]],
            stacks=lambda w: [paths.fill(paths.STACK["corrected"], stack=USER_FIELDS[USER_IMAGES[n]["field"]])
                              for n in DESPECKLE_CONDITIONS[w.condition]],
            labels=lambda w: [DESPECKLE_LABELS[n] for n in DESPECKLE_CONDITIONS[w.condition]],
        output:
            data=paths.DESPECKLE["speckle"],
            specimens=paths.DESPECKLE["user_specimens"],
        wildcard_constraints:
            split="train|val|test",
        params:
            rows=lambda w: [USER_IMAGES[n] for n in DESPECKLE_CONDITIONS[w.condition]],
            split=DESPECKLE_USER_SPLIT,
            tile_px=DESPECKLE["field_px"],
            label=DESPECKLE["label"],
        log:
            paths.log("despeckle/{condition}/data/{split}"),
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/despeckle_user_data.py"


rule despeckle_train:
    """Train one network on one condition with one seed (paired GAN or plain); resumes from its last checkpoint."""
    input:
        train=lambda w: DESPECKLE_PLAN.speckle(w.condition, "train"),
        val=lambda w: DESPECKLE_PLAN.speckle(w.condition, "val"),
        train_specimens=lambda w: DESPECKLE_PLAN.specimens("train", w.condition),
        val_specimens=lambda w: DESPECKLE_PLAN.specimens("val", w.condition),
    output:
        model=paths.DESPECKLE_RUN["best"],
        steps=paths.DESPECKLE_RUN["steps"],
        epochs=paths.DESPECKLE_RUN["epochs"],
    params:
        spec=lambda w: plan.architecture(DESPECKLE, w.model),
        label=DESPECKLE["label"],
        input_power=DESPECKLE["input_power"],
        train=lambda w: despeckle.train_settings(DESPECKLE, w.model),
        device=config["device"],
        card=lambda w: cards.for_run(config, "despeckle", w.model, w.condition),
        workdir=subpath(output.model, parent=True),
    threads: DESPECKLE["threads"]
    resources:
        gpu=1,
    log:
        paths.log("despeckle/{condition}/train", paths.RUN),
    benchmark:
        paths.benchmark("despeckle/{condition}/train", paths.RUN)
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_train.py"


rule despeckle_evaluate:
    """Every network trained on one condition's data, each loaded once and scored on every test split (unseen diffusers)."""
    input:
        models=lambda w: expand(paths.DESPECKLE_RUN["best"], condition=w.condition, model=DESPECKLE_TRAINED[w.condition], seed=w.seed),
        speckle=expand(paths.DESPECKLE["speckle"], condition=DESPECKLE_TESTS, split="test"),
        specimens=[DESPECKLE_PLAN.specimens("test", t) for t in DESPECKLE_TESTS],  # aligned with speckle
        val=lambda w: DESPECKLE_PLAN.speckle(w.condition, "val"),
        val_specimens=lambda w: DESPECKLE_PLAN.specimens("val", w.condition),
    output:
        scores=paths.DESPECKLE["scores"],
        predictions=paths.DESPECKLE["predictions"],
    wildcard_constraints:
        condition="|".join(DESPECKLE_TRAINED),
        seed=r"\d+",
    params:
        models=lambda w: DESPECKLE_TRAINED[w.condition],
        calibrate=lambda w: despeckle.calibrated(DESPECKLE, DESPECKLE_TRAINED[w.condition]),
        tests=DESPECKLE_TESTS,
        correlation_um=[DESPECKLE_PLAN.correlation_um(t) for t in DESPECKLE_TESTS],
        train_sets=lambda w: DESPECKLE_PLAN.train_sets(w.condition),
        label=DESPECKLE["label"],
        input_power=DESPECKLE["input_power"],
        device=config["device"],
    threads: DESPECKLE["threads"]
    resources:
        gpu=1,
    log:
        paths.log("despeckle/{condition}/evaluate/s{seed}"),
    benchmark:
        paths.benchmark("despeckle/{condition}/evaluate/s{seed}")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_evaluate.py"


rule despeckle_correlation_table:
    """SSIM (and NRMSE, LPIPS) of intensity and phase per model and scatter level, on unseen diffusers."""
    input:
        scores=DESPECKLE_PLAN.table_scores(),
    output:
        table=paths.table("despeckle_correlation"),
        html=report(
            paths.table("despeckle_correlation", "html"), caption="../report/despeckle_correlation.rst", category="DespeckleNet"
        ),
        markdown=paths.table("despeckle_correlation", "md"),
        per_image=paths.table("despeckle_per_image"),
    params:
        pairs=DESPECKLE_PLAN.table_pairs(),
    log:
        paths.log("tables/despeckle_correlation"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_correlation_table.py"


if SIMULATE:  # the sweeps' figures: correlation lengths and acquisition sets of simulated levels
    rule despeckle_correlation_figure:
        """Mean SSIM of intensity and phase against the diffuser's correlation length, one line per model."""
        input:
            per_image=paths.table("despeckle_per_image"),
        output:
            figure=report(
                paths.figure("despeckle_correlation"),
                caption="../report/despeckle_correlation.rst",
                category="DespeckleNet",
            ),
        log:
            paths.log("figures/despeckle_correlation"),
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/despeckle_correlation_figure.py"


    rule despeckle_diversity:
        """Per-image SSIM (and LPIPS where available) against the training acquisition sets, at equal patch count."""
        input:
            scores=DESPECKLE_PLAN.evals(DESPECKLE_SETS, seeds=DESPECKLE_SEEDS["diversity"]),
        output:
            figure=report(
                paths.figure("despeckle_diversity"),
                caption="../report/despeckle_diversity.rst",
                category="DespeckleNet",
            ),
        params:
            pairs=[(DESPECKLE_PLAN.data_of(c, ["train", "val"]), DESPECKLE_PLAN.data_of(c, ["test"])) for c in DESPECKLE_SETS],
            models=DESPECKLE["diversity"]["models"],
        log:
            paths.log("figures/despeckle_diversity"),
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/despeckle_diversity.py"


if DESPECKLE_EXAMPLE:  # a simulated level, or the sheet's first diffuser
    rule despeckle_examples:
        """One unseen test specimen: speckle input, every model's intensity and phase, and the truths."""
        input:
            speckle=DESPECKLE_PLAN.speckle(DESPECKLE_EXAMPLE, "test"),
            specimens=DESPECKLE_PLAN.specimens("test", DESPECKLE_EXAMPLE),
            predictions=DESPECKLE_PLAN.evals([DESPECKLE_EXAMPLE], "predictions", DESPECKLE["seeds"][:1]),
            scores=DESPECKLE_PLAN.evals([DESPECKLE_EXAMPLE], "scores", DESPECKLE["seeds"][:1]),
        output:
            figure=report(
                paths.figure("despeckle_examples"),
                caption="../report/despeckle_examples.rst",
                category="DespeckleNet",
            ),
        params:
            models=DESPECKLE_TRAINED[DESPECKLE_PLAN.trained_on(DESPECKLE_EXAMPLE)],
            test=DESPECKLE_PLAN.data_of(DESPECKLE_EXAMPLE, ["test"]),
            correlation_um=DESPECKLE_PLAN.correlation_um(DESPECKLE_EXAMPLE),
        log:
            paths.log("figures/despeckle_examples"),
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/despeckle_examples.py"


rule despeckle_cross_table:
    """Every network on every test split: train condition × test condition (tidy cross-condition table)."""
    input:
        scores=DESPECKLE_EVALS,
    output:
        table=paths.table("despeckle_cross"),
        html=report(
            paths.table("despeckle_cross", "html"), caption="../report/despeckle_cross.rst", category="DespeckleNet"
        ),
        markdown=paths.table("despeckle_cross", "md"),
    log:
        paths.log("tables/despeckle_cross"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/despeckle_cross_table.py"


rule despeckle_trust:
    """The trust signs of DespeckleNet trained on the example level's data (with levels_training: pooled, every
    level) on the test speckle of every test condition (unseen diffusers; other kinds: out of distribution)."""
    input:
        models=expand(paths.DESPECKLE_RUN["best"], condition=DESPECKLE_TRUST_CONDITION, model="despecklenet",
                      seed=DESPECKLE["seeds"]),
        sets=expand(paths.DESPECKLE["speckle"], condition=DESPECKLE_TESTS, split="test"),
        specimens=[DESPECKLE_PLAN.specimens("test", t) for t in DESPECKLE_TESTS],
    output:
        images=paths.fill(paths.TRUST["images"], family="despeckle"),
        maps=paths.fill(paths.TRUST["maps"], family="despeckle"),
    params:
        family="despeckle",
        own=DESPECKLE_TRUST_OWN,
        tests=DESPECKLE_TESTS,
        cases={"images": config["trust"]["images"]},
        device=config["device"],
    threads: DESPECKLE["threads"]
    resources:
        gpu=1,
    log:
        paths.log("despeckle/trust"),
    benchmark:
        paths.benchmark("despeckle/trust")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/trust_evaluate.py"
