"""`qpi tie` as a whole process against a plain numpy FFT-TIE script, on a 2048² three-plane stack.

What a user times: start-up, reading the TIFF, the solve and writing the phase. The plain script is
what a researcher writes without deep-qpi: tifffile + numpy.fft, float64, the same two-Poisson
(Paganin–Nugent) FFT-TIE with periodic boundaries. `qpi tie` runs with its default method (auto:
mirror-boundary DCT for a stack without a field stop). Best of 5 runs each.

Run: .venv/bin/python benchmarks/tie_cli.py  → prints and writes benchmarks/tie_cli.json
"""

import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import best_of_process

PLAIN = '''
import sys
import numpy as np
import tifffile
stack = tifffile.imread(sys.argv[1]).astype(np.float64)
dz, pixel, wavelength = 2.0, 0.1625, 0.55
i0, didz = stack[1], (stack[2] - stack[0]) / (2 * dz)
i0, didz = i0 / i0.mean(), didz / stack[1].mean()
fy = np.fft.fftfreq(i0.shape[0], pixel)[:, None]
fx = np.fft.fftfreq(i0.shape[1], pixel)[None, :]
lap = -4 * np.pi**2 * (fx**2 + fy**2)
inv = np.divide(lap, lap**2 + 1e-9 / pixel**4, out=np.zeros_like(lap), where=lap != 0)
k = 2 * np.pi / wavelength
psi = np.fft.fft2(-k * didz) * inv
gy = np.fft.ifft2(2j * np.pi * fy * psi).real / i0
gx = np.fft.ifft2(2j * np.pi * fx * psi).real / i0
phase = np.fft.ifft2((2j * np.pi * fy * np.fft.fft2(gy) + 2j * np.pi * fx * np.fft.fft2(gx)) * inv).real
tifffile.imwrite(sys.argv[2], phase.astype(np.float32))
'''


def make_stack(path: Path, n: int) -> None:
    """A smooth random phase object imaged at −2, 0, 2 µm (uint16, like a camera), with its metadata."""
    from scipy import ndimage

    from qpi import io
    from qpi.optics.propagation import angular_spectrum

    rng = np.random.default_rng(0)
    phase = 3 * ndimage.gaussian_filter(rng.standard_normal((n, n)), 8)
    field = np.exp(1j * phase / phase.std())
    planes = np.stack([np.abs(angular_spectrum(field, z, 0.55, 0.1625)) ** 2 for z in (-2.0, 0.0, 2.0)])
    stack = io.Stack(data=30000 * planes / planes.max(), z_um=np.array([-2.0, 0.0, 2.0]), wavelength_um=0.55,
                     pixel_um=0.1625)
    io.write_stack(path, stack, dtype="uint16")


def main(n: int = 2048) -> dict:
    qpi = str(Path(sys.executable).with_name("qpi"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_stack(tmp / "stack.tif", n)
        (tmp / "plain.py").write_text(PLAIN)
        plain = best_of_process([sys.executable, str(tmp / "plain.py"), str(tmp / "stack.tif"), str(tmp / "plain.tif")])
        ours = best_of_process([qpi, "tie", str(tmp / "stack.tif"), "-o", str(tmp / "ours.tif")])
        start = best_of_process([qpi, "--version"])
        python = best_of_process([sys.executable, "-c", "pass"])
    result = {
        "stack": f"3 planes of {n}x{n} uint16",
        "plain_numpy_fft_tie_s": round(plain, 3),
        "qpi_tie_s": round(ours, 3),
        "qpi_over_plain": round(ours / plain, 2),
        "qpi_start_up_s": round(start, 3),
        "python_start_up_s": round(python, 3),
        "method": "auto (dct: no field stop)",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }
    print(json.dumps(result, indent=2))
    Path(__file__).with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
