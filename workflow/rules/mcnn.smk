# MCNN: multi-scale U-Net, phase (+ amplitude) from 1, 2 or N defocused planes of simulated natural images.
from qpi.families import mcnn
from qpi.families.mcnn import user as mcnn_user
from qpi.families.mcnn.family import in_distribution_set
from qpi.training import tiles


MCNN = config["mcnn"]
FAMILIES_RUN.append("mcnn")
if SIMULATE:
    TARGETS += [
        paths.figure("mcnn_convergence"),
        paths.table("mcnn_convergence"),
        paths.table("mcnn_convergence", "html"),
        paths.figure("mcnn_planes"),
        paths.table("mcnn_planes"),
        paths.table("mcnn_planes", "html"),
        paths.table("mcnn_transfer"),
        paths.table("mcnn_transfer", "html"),
    ]
    MCNN_TEST_SETS = MCNN["test_sets"]
    MCNN_TRANSFER_SCORES = expand(paths.MCNN["scores"], condition=MCNN["convergence"]["condition"],
                                  method=mcnn.transfer_runs(MCNN))
    MCNN_SHARED = {}
else:  # the paper's experiment on the sheet's stacks (qpi.families.mcnn.user): simulated, then fine-tuned
    TARGETS += [paths.table("mcnn_transfer"), paths.table("mcnn_transfer", "html")]
    MCNN_TEST_SETS = [mcnn_user.TEST_SET]
    MCNN_TRANSFER_SCORES = [paths.fill(paths.MCNN["scores"], condition=c, method=run) for c, run in mcnn_user.runs(MCNN)]
    MCNN_SHARED = {"microscope": paths.MCNN["microscope"]}  # the microscope and planes the stacks share
    try:
        MCNN_USER_SPLIT = tiles.split(list(USER), {n: r["split"] for n, r in USER.items() if r["split"]},
                                      MCNN["user"]["split"], config["seed"], "MCNN")
        MCNN_USER_LABELS = [plan.phase_label(MCNN["user"], n, False, bool(USER[n]["phase_path"]), "mcnn.user.label")
                            for n in sorted(USER)]
    except ValueError as err:
        planning_error(f"{err}.")

MCNN_CONDITIONS = mcnn.conditions(MCNN)  # {condition: its planes' z_um, amplitude}
MCNN_RUNS = mcnn.convergence_runs(MCNN)
MCNN_TESTS = expand(paths.MCNN["data"], dataset=MCNN_TEST_SETS)
MCNN_PLANES_RUNS = mcnn.planes_runs(MCNN)
MCNN_REFERENCE = "exact" if SIMULATE else MCNN["user"]["label"]  # what the test sets' phase is


rule mcnn_simulate:
    """One simulated set: specimens imaged at every plane the conditions use (or your stacks'), with exact phase and amplitude."""
    input:
        unpack(lambda w: MCNN_SHARED),  # a lab's stacks: their microscope and planes
    output:
        data=paths.MCNN["data"],
        provenance=paths.MCNN["data_provenance"],
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
        paths.log("mcnn/simulate/{dataset}"),
    benchmark:
        paths.benchmark("mcnn/simulate/{dataset}")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_simulate.py"


rule mcnn_train:
    """Train one network on one input condition with one seed; resumes from its last checkpoint."""
    input:
        unpack(lambda w: mcnn_user.train_inputs(w.condition, w.model, w.seed) if not SIMULATE else
               {part: paths.fill(paths.MCNN["data"], dataset=part) for part in ("train", "val")}),
    output:
        model=paths.MCNN_RUN["best"],
        steps=paths.MCNN_RUN["steps"],
        epochs=paths.MCNN_RUN["epochs"],
    params:
        arch=lambda w: plan.architecture(MCNN, w.model),
        planes_um=lambda w: MCNN_CONDITIONS[w.condition]["z_um"] if SIMULATE else None,  # None: the data's
        amplitude=lambda w: SIMULATE and MCNN_CONDITIONS[w.condition]["amplitude"],
        train=lambda w: mcnn_user.train_settings(MCNN, w.model, w.condition),
        device=config["device"],
        card=lambda w: cards.for_run(config, "mcnn", w.model, w.condition),
        workdir=subpath(output.model, parent=True),
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        paths.log("mcnn/{condition}/train", paths.RUN),
    benchmark:
        paths.benchmark("mcnn/{condition}/train", paths.RUN)
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_train.py"


rule mcnn_evaluate_model:
    """A trained network on every test set: per-image phase (and amplitude) scores and predictions."""
    input:
        model=paths.MCNN_RUN["best"],
        tests=MCNN_TESTS,
    output:
        scores=paths.RUN_SCORES["mcnn"],
        predictions=paths.fill(paths.MCNN["predictions"], method=paths.RUN),
    params:
        test_sets=MCNN_TEST_SETS,
        planes_um=lambda w: MCNN_CONDITIONS[w.condition]["z_um"] if SIMULATE else None,  # None: the data's
        amplitude=lambda w: SIMULATE and MCNN_CONDITIONS[w.condition]["amplitude"],
        reference=MCNN_REFERENCE,
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        paths.log("mcnn/{condition}/evaluate", paths.RUN),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_evaluate_model.py"


rule mcnn_evaluate_tie:
    """Classical baseline: multi-plane TIE (and √Ī as amplitude) on a condition's planes, every test set."""
    input:
        tests=MCNN_TESTS,
    output:
        scores=paths.fill(paths.MCNN["scores"], method="tie"),
        predictions=paths.fill(paths.MCNN["predictions"], method="tie"),
    params:
        test_sets=MCNN_TEST_SETS,
        planes_um=lambda w: MCNN_CONDITIONS[w.condition]["z_um"] if SIMULATE else None,
        reference=MCNN_REFERENCE,
        scope={**config["microscope"], **MCNN["microscope"]},
        method=config["tie"]["method"],
        eps=config["tie"]["eps"],
    log:
        paths.log("mcnn/{condition}/evaluate/tie"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_evaluate_tie.py"


rule mcnn_convergence_table:
    """Validation MAE and SSIM against optimiser step of every convergence run."""
    input:
        epochs=expand(
            paths.MCNN_RUN["epochs"],
            condition=MCNN["convergence"]["condition"],
            model=MCNN["convergence"]["models"],
            seed=MCNN["convergence"]["seeds"],
        ),
    output:
        table=paths.table("mcnn_convergence"),
        html=report(paths.table("mcnn_convergence", "html"), caption="../report/mcnn_convergence.rst", category="MCNN"),
    params:
        runs=MCNN_RUNS,
    log:
        paths.log("tables/mcnn_convergence"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_convergence_table.py"


rule mcnn_convergence_figure:
    """Validation MAE against iteration, MCNN against U-Net (mean and spread over seeds)."""
    input:
        table=paths.table("mcnn_convergence"),
    output:
        figure=report(
            paths.figure("mcnn_convergence"), caption="../report/mcnn_convergence.rst", category="MCNN"
        ),
    log:
        paths.log("figures/mcnn_convergence"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_convergence_figure.py"


rule mcnn_planes_table:
    """Phase and amplitude quality against the number of planes, network and TIE (mean ± std over images)."""
    input:
        scores=[paths.fill(paths.MCNN["scores"], condition=c, method=run) for c, run in MCNN_PLANES_RUNS],
    output:
        table=paths.table("mcnn_planes"),
        html=report(paths.table("mcnn_planes", "html"), caption="../report/mcnn_planes.rst", category="MCNN"),
        markdown=paths.table("mcnn_planes", "md"),
    log:
        paths.log("tables/mcnn_planes"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_planes_table.py"


rule mcnn_planes_figure:
    """Example test specimens through every plane count and method, and quality against plane count."""
    input:
        table=paths.table("mcnn_planes"),
        predictions=[paths.fill(paths.MCNN["predictions"], condition=c, method=run) for c, run in MCNN_PLANES_RUNS],
        tests=MCNN_TESTS,
    output:
        figure=report(paths.figure("mcnn_planes"), caption="../report/mcnn_planes.rst", category="MCNN"),
    params:
        runs=MCNN_PLANES_RUNS,
        test_sets=MCNN["test_sets"],
        planes_um={c: MCNN_CONDITIONS[c]["z_um"] for c in MCNN["planes"]["conditions"]},
    log:
        paths.log("figures/mcnn_planes"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_planes_figure.py"


rule mcnn_transfer_table:
    """Networks trained on natural images (and TIE) scored on held-out pictures, cells and microspheres."""
    input:
        scores=MCNN_TRANSFER_SCORES,
    output:
        table=paths.table("mcnn_transfer"),
        html=report(paths.table("mcnn_transfer", "html"), caption="../report/mcnn_transfer.rst", category="MCNN"),
        markdown=paths.table("mcnn_transfer", "md"),
    params:
        train_condition=MCNN["datasets"]["train"]["kind"] if SIMULATE else None,  # None: each run's own
    log:
        paths.log("tables/mcnn_transfer"),
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/mcnn_transfer_table.py"


if not SIMULATE:

    rule mcnn_user_data:
        """The sheet's stacks as MCNN data: the microscope and planes they share, their tiles by split with label and TIE."""
        input:
            stacks=[paths.fill(paths.STACK["corrected"], stack=s) for s in sorted(USER)],
            labels=MCNN_USER_LABELS,
        output:
            **{part: paths.fill(paths.MCNN["data"], dataset=name) for part, name in mcnn_user.SETS.items()},
            microscope=paths.MCNN["microscope"],
        params:
            stacks=sorted(USER),
            planes_um=MCNN["user"]["planes_um"],
            coherence=MCNN["microscope"].get("coherence", 0.0),
            split=MCNN_USER_SPLIT,
            tile_px=MCNN["field_px"],
            label=MCNN["user"]["label"],
            method=config["tie"]["method"],
            eps=config["tie"]["eps"],
        log:
            paths.log("mcnn/user_data"),
        benchmark:
            paths.benchmark("mcnn/user_data")
        conda:
            "../../envs/qpi.yaml"
        script:
            "../scripts/mcnn_user_data.py"


rule mcnn_trust:
    """The trust signs of the convergence study's network on every test set (the training kind: its own),
    against the exact phase."""
    input:
        models=expand(paths.MCNN_RUN["best"], condition=MCNN["convergence"]["condition"],
                      model=MCNN["convergence"]["models"][0], seed=MCNN["convergence"]["seeds"]),
        sets=MCNN_TESTS,
    output:
        images=paths.fill(paths.TRUST["images"], family="mcnn"),
        maps=paths.fill(paths.TRUST["maps"], family="mcnn"),
    params:
        family="mcnn",
        own=in_distribution_set(MCNN["datasets"], MCNN_TEST_SETS) if SIMULATE else None,
        tests=MCNN_TEST_SETS,
        cases={"images": config["trust"]["images"]},
        device=config["device"],
    threads: config["threads"]["train"]
    resources:
        gpu=1,
    log:
        paths.log("mcnn/trust"),
    benchmark:
        paths.benchmark("mcnn/trust")
    conda:
        "../../envs/qpi.yaml"
    script:
        "../scripts/trust_evaluate.py"
