"""The papers' numbers that our tables set beside ours, in one place (sources: REFERENCES.md).

Numbers only: no code of ours reads a paper value from anywhere else.
"""

# ContransGAN, Table 1: (SSIM, SSIM std, PSNR dB, PSNR std) by input objective, against the TIE label.
PAPER_TABLE1 = {
    "microspheres": {"4x": (0.933, 0.0107, 34.032, 1.0231), "10x": (0.952, 0.0113, 35.214, 0.9892),
                     "20x": (0.975, 0.0118, 38.963, 0.9153), "40x": (0.976, 0.0097, 39.331, 0.8322)},
    "hela": {"4x": (0.898, 0.0172, 31.751, 1.2048), "10x": (0.922, 0.0151, 32.171, 1.1920),
             "20x": (0.939, 0.0135, 34.751, 1.0723), "40x": (0.943, 0.0129, 35.380, 1.0133)},
}

# Headlines, (family, method) → the paper's headline numbers, what they measure, and how its study differs from ours
# beyond scale (empty: the same kind of study).
PAPER = {
    ("srqpi", "unet"): {"ssim": 0.96, "note": "DL-SRQPI U-Net, simulated, SSIM 0.96 (experiment: 0.9948 full field)",
                        "difference": ""},
    ("srqpi", "srcnn"): {"note": "DL-SRQPI: SRCNN converges slowly (loss ~250 vs U-Net ~4); no SSIM given",
                         "difference": ""},
    ("mcnn", "mcnn"): {"mae": 0.07, "note": "MCNN: MAE 0.07 after ~100 iterations",
                       "difference": "paper MAE on an inverse-Laplacian toy task, ours phase (rad)"},
    ("mcnn", "trunk"): {"mae": 0.2, "note": "MCNN paper: the plain U-Net stalls at MAE 0.2",
                       "difference": "paper MAE on an inverse-Laplacian toy task, ours phase (rad)"},
    ("despeckle", "despecklenet"): {"note": "DespeckleNet: best and most robust as the correlation length grows "
                                            "(no number given)", "difference": ""},
    ("contrans", "contrans"): {"difference": "paper experimental (TIE label of real HeLa), ours simulated"},
}
