"""Why MCNN trained on simulated natural images does not carry to a lab's cell stacks at the demo's
budget: the claims test's five 10× stacks (tests/test_user_mcnn.py) through `config/user.yaml`, with the
simulation's coherence as the paper's (0) or the stacks' (0.3), and with 4× the simulated training.
Phase RMSE (rad, tile means removed) against the exact phase on the held-out tiles, SSIM against the
stacks' TIE label; the fine-tuned network and the same planes' TIE beside. Writes mcnn_user_transfer.json.

    .venv/bin/python benchmarks/mcnn_user_transfer.py    # about 7 min on 2 cores
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import test_user_mcnn as scenario  # noqa: E402  (the claims test's writer and truth)

VARIANTS = {  # name: (the sheet's coherence column, the overlay's mcnn block)
    "coherent simulation (paper), 2 epochs": (False, {}),
    "stacks' coherence 0.3, 2 epochs (user.yaml)": (True, {}),
    "stacks' coherence 0.3, 8 epochs": (True, {"train": {"epochs": 8}}),
}


def one(name: str, coherence: bool, overlay: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        sheet, truths = scenario.record(folder, 5)
        if not coherence:  # drop the column: the simulation takes the config's coherent optics
            rows = [r.split("\t") for r in sheet.read_text().splitlines()]
            drop = rows[0].index("coherence")
            sheet.write_text("\n".join("\t".join(c for k, c in enumerate(r) if k != drop) for r in rows) + "\n")
        (folder / "overlay.json").write_text(json.dumps({"mcnn": overlay}))
        tic = time.perf_counter()
        result = scenario.run(folder, sheet, families=("mcnn",), configs=(str(folder / "overlay.json"),))
        if result.returncode:
            raise SystemExit(result.stderr[-3000:])
        table = pd.read_csv(folder / "results" / "tables" / "mcnn_transfer.csv")
        ssim = table[table["metric"] == "ssim"].set_index("train_condition")["value"]
        errors = scenario.against_truth(folder / "results", truths)
        return {"variant": name, "seconds": round(time.perf_counter() - tic, 1),
                "ssim_vs_label": {k: round(float(v), 3) for k, v in ssim.items()},
                "rmse_vs_exact_rad": {k: round(v, 3) for k, v in errors.items()}}


if __name__ == "__main__":
    out = [one(name, *spec) for name, spec in VARIANTS.items()]
    (HERE / "mcnn_user_transfer.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
