"""FFT-TIE on a 2048² image against its floor: the six 2-D FFTs it cannot avoid.

Run: .venv/bin/python benchmarks/tie_fft.py  → prints and writes benchmarks/tie_fft.json
"""

import json
import platform
from pathlib import Path

import numpy as np
from timing import best_of

from qpi import tie
from qpi.tie import solvers


def main(n=2048):
    rng = np.random.default_rng(0)
    i0 = 1 + 0.1 * rng.random((n, n))
    didz = rng.standard_normal((n, n))
    field = rng.standard_normal((n, n)) + 0j
    solver = best_of(lambda: tie.fft_solver(i0, didz, 0.1625, 0.55, eps=1e-9))
    # fft_solver needs: fft(J), ifft(∂y ψ), ifft(∂x ψ), fft(gy), fft(gx), ifft(div): 6 transforms
    floor = best_of(lambda: [solvers._fft2(field, 1) for _ in range(6)])  # the solver's own FFT (ducc0)
    dct = best_of(lambda: tie.dct_solver(i0, didz, 0.1625, 0.55, eps=1e-9), repeats=2)
    result = {
        "image": f"{n}x{n}",
        "fft_tie_s": round(solver, 4),
        "six_ffts_s": round(floor, 4),
        "fft_tie_over_floor": round(solver / floor, 2),
        "dct_tie_s": round(dct, 4),
        "dct_over_fft_tie": round(dct / solver, 2),
        "machine": f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores",
    }
    print(json.dumps(result, indent=2))
    Path(__file__).with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
