"""The `qpi` command: check a stack, retrieve TIE phase, apply a trained model, simulate a stack.

Heavy modules (torch, scipy) are imported inside the subcommands that need them, so that
`qpi validate` starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from qpi import __version__, io
from qpi.io.sheet import planes_problem

METHODS = ("auto", "fft", "dct", "aperture", "iterative")  # qpi.tie.METHODS, without importing scipy


def main(argv: list[str] | None = None) -> int:
    """Run the `qpi` command line; return the exit status (0 ok, 1 a user error, 2 bad usage)."""
    args = build_parser().parse_args(argv)
    # tifffile logs its own complaint about a broken file; our StackError already names the fix
    tifffile_log = logging.getLogger("tifffile")
    level = tifffile_log.level
    tifffile_log.setLevel(logging.CRITICAL)
    try:
        return args.run(args)
    except io.StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        tifffile_log.setLevel(level)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per subcommand."""
    parser = argparse.ArgumentParser(prog="qpi", description="Deep-learning quantitative phase imaging tools.")
    parser.add_argument("--version", action="version", version=f"qpi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    optics = _optics_parser()

    p = sub.add_parser("validate", parents=[optics], help="check a through-focus stack (or a sample sheet)",
                       description="Read a through-focus TIFF stack (one multi-page file, or one file per plane "
                                   "in z order), check it and print a one-line summary; with --sheet, check every "
                                   "row of a sample sheet and every stack it lists, one sentence per problem.")
    p.add_argument("stack", type=Path, nargs="*", metavar="STACK.tif",
                   help="a stack, or one single-plane file per plane in z order (then give --z-um)")
    p.add_argument("--sheet", type=Path, metavar="SHEET.tsv",
                   help="a sample sheet (config/stacks.tsv): every row and every stack it lists, as the pipeline "
                        "reads them")
    p.set_defaults(run=_validate)

    p = sub.add_parser("tie", parents=[optics], help="phase of a stack by the transport-of-intensity equation",
                       description="Retrieve the in-focus phase (rad) of a through-focus stack with the TIE. "
                                   "Inside a field stop (dark pixels around the lit aperture, found in the in-focus "
                                   "plane) the phase is solved in the aperture and written as NaN outside it.")
    p.add_argument("stack", type=Path, nargs="+", metavar="STACK.tif",
                   help="a stack, or one single-plane file per plane in z order (then give --z-um)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="PHASE.tif",
                   help="float32 phase image (rad) to write")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="TIE solver: auto (aperture inside a field stop, else dct), periodic fft, mirror-boundary "
                        "dct, aperture (any aperture shape, exact for non-uniform intensity) or iterative "
                        "(angular-spectrum refinement) (default: %(default)s)")
    p.add_argument("--planes", type=_float_list, default=None, metavar="Z1,Z2,...",
                   help="z (µm) of the planes dI/dz is taken from (default: every plane); write --planes=-2,2")
    p.add_argument("--mask", type=Path, default=None, metavar="MASK.tif",
                   help="aperture mask (non-zero inside) instead of the one detected in the in-focus plane")
    p.add_argument("--no-field-stop", action="store_true",
                   help="solve over the whole frame even if the in-focus plane shows a field stop")
    p.add_argument("--eps", type=_eps, default="auto",
                   help="dimensionless regularisation ε̃, or auto: from the planes' noise, which the output names "
                        "(12- and 8-bit cameras get ~1e-9…1e-8, noiseless simulations 1e-15) (default: %(default)s)")
    p.set_defaults(run=_tie)

    p = sub.add_parser("predict", help="apply a trained model of any family to a full-field image",
                       description="Apply a trained network to new full-field images, tile by tile (blended), as "
                                   "its model card says (`qpi info MODEL.pt`): DL-SRQPI one LR intensity → "
                                   "phase on the finer grid; MCNN the card's planes (a stack, or one file per plane "
                                   "in z order) → phase (and amplitude); DespeckleNet one speckle image → intensity "
                                   "and phase (one named TIFF page each); ContransGAN one low-NA image → the "
                                   "high-NA phase on the HR grid.")
    p.add_argument("input", type=Path, nargs="+", metavar="INPUT.tif",
                   help="the input image; for MCNN a stack, or one single-plane file per plane in z order")
    p.add_argument("--model", type=Path, required=True, action="append", metavar="MODEL.pt",
                   help="trained model file, or a run folder (every best.pt/generator.pt in it); repeat for several: "
                        "the networks of one model (its seeds) give their mean, and with --uncertainty their spread")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT.tif",
                   help="float32 TIFF to write (phase in rad; several outputs as named pages)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to run: auto picks cuda when available (default: %(default)s)")
    p.add_argument("--tile", type=_positive_int, default=None, metavar="N",
                   help="tile size in input pixels (default: the training size for a network with instance or "
                        "group norm, whose output follows the field it sees; else tiles of up to 1024² output pixels)")
    p.add_argument("--normalise", choices=("mean", "none"), default="mean",
                   help="mean: raw camera counts, prepared as training prepared its inputs (the smooth illumination "
                        "divided out where training did, then each plane over its mean); none: the input is already "
                        "intensity relative to the empty field (flat-field corrected) (default: %(default)s)")
    p.add_argument("--flat", type=Path, metavar="EMPTY.tif",
                   help="an empty-field image (same camera, binning and optics) to divide the illumination by; "
                        "without it the smooth illumination is estimated from the input and the estimate logged")
    p.add_argument("--uncertainty", action="store_true",
                   help="also write each output's uncertainty (σ over the given networks and the input's eight "
                        "flips and quarter turns) as a page '<quantity> uncertainty'; 8× the work per network")
    p.add_argument("--z-um", type=_float_list, metavar="Z1,Z2,...",
                   help="defocus of the input (µm; MCNN: of each plane in file order), where the files carry none")
    p.add_argument("--pixel-um", type=float, metavar="P", help="input pixel size (µm), where the file carries none")
    p.set_defaults(run=_predict)

    p = sub.add_parser("info", help="print a trained model's card: what it expects, gives and was trained on",
                       description="Print the model card a trained network carries: family, architecture, input "
                                   "channels (planes and z, binning, objective, pixel size, wavelength, "
                                   "normalisation), outputs (quantities, units), seed, data digest and code version.")
    p.add_argument("model", type=Path, metavar="MODEL.pt")
    p.add_argument("--json", action="store_true", help="the whole card as JSON")
    p.set_defaults(run=_info)

    p = sub.add_parser("simulate", help="image a random specimen with the virtual microscope",
                       description="Simulate a raw through-focus stack (uint16, like a camera) with the demo "
                                   "microscope (40×/0.65, λ 0.55 µm, 6.5 µm camera pixels) and its exact phase.")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="STACK.tif", help="raw stack to write")
    p.add_argument("--specimen", choices=("hela", "microspheres", "microlens", "natural"), default="hela")
    p.add_argument("--field-px", type=_positive_int, default=256, metavar="N", help="camera pixels per side")
    p.add_argument("--z-um", type=_float_list, default=[-4.0, -2.0, 0.0, 2.0, 4.0], metavar="Z1,Z2,...",
                   help="planes (µm, focus at 0; default: %(default)s)")
    p.add_argument("--coherence", type=float, default=0.3, metavar="S", help="NA_cond/NA_obj (default: 0.3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--phase", type=Path, metavar="PHASE.tif", help="also write the exact phase (float32, rad)")
    p.set_defaults(run=_simulate)
    return parser


def _optics_parser() -> argparse.ArgumentParser:
    """Flags that give or override a stack's metadata (same names as the sample-sheet columns)."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("stack metadata (override what the TIFF carries)")
    g.add_argument("--wavelength-um", type=float, metavar="W", help="illumination wavelength (µm)")
    g.add_argument("--pixel-um", type=float, metavar="P", help="pixel size in the sample plane (µm)")
    g.add_argument("--z-um", type=_float_list, metavar="Z1,Z2,...",
                   help="defocus of each plane in file order (µm, focus at 0); write --z-um=-2,0,2")
    g.add_argument("--na", type=float, help="objective numerical aperture")
    g.add_argument("--coherence", type=float, metavar="S", help="coherence parameter NA_cond/NA_obj")
    g.add_argument("--magnification", type=float, metavar="M", help="objective magnification")
    g.add_argument("--medium-index", type=float, metavar="N", help="refractive index of the medium")
    return p


OPTICS = ("wavelength_um", "pixel_um", "z_um", "na", "coherence", "magnification", "medium_index")  # the flags


def _read(args: argparse.Namespace, raw: bool = False) -> io.Stack:
    return io.read_stack(args.stack, **{k: getattr(args, k) for k in OPTICS}, raw=raw)


def _validate(args: argparse.Namespace) -> int:
    if bool(args.stack) == bool(args.sheet):
        raise io.StackError("give either stack files or --sheet SHEET.tsv to qpi validate (one of the two).")
    if args.sheet:
        flags = [f"--{k.replace('_', '-')}" for k in OPTICS if getattr(args, k) is not None]
        if flags:
            raise io.StackError(f"{args.sheet}: {', '.join(flags)} would not apply to a sheet's stacks; put the "
                                "values in the sheet's columns instead.")
        return _validate_sheet(args.sheet)
    stack = _read(args, raw=True)  # raw: report the file's own dtype
    print(_summary(io.path_names(args.stack), stack))
    return 0


def _summary(name: str, stack: io.Stack) -> str:
    z, (nz, ny, nx) = stack.z_um, stack.data.shape
    return (f"{name}: ok — {nz} planes of {ny}×{nx} {stack.data.dtype}, z = {', '.join(f'{v:g}' for v in z)} µm, "
            f"λ = {stack.wavelength_um:g} µm, pixel = {stack.pixel_um:g} µm")


def _image_summary(row: dict, stack: io.Stack | None) -> str:
    """A speckle or low-NA row read as the pipeline reads it, checked against its field's stack (when that
    stack read well): a low-NA pixel must be a whole number of the stack's pixels."""
    image, pixel = io.read_single_image(row["path"], row["pixel_um"])
    if stack is not None and row["kind"] == "lowres":
        problem = io.grid_problem(pixel, stack.pixel_um, row["field"])
        if problem:
            raise io.StackError(problem)
    if stack is not None and row["kind"] == "speckle" and (image.shape != stack.data.shape[1:]
                                                           or abs(pixel / stack.pixel_um - 1) > 0.02):
        raise io.StackError(f"a {image.shape[0]}×{image.shape[1]} image of {pixel:g} µm pixels, but its field's stack "
                            f"has {stack.data.shape[1]}×{stack.data.shape[2]} planes of {stack.pixel_um:g} µm; record "
                            "both on the same camera grid (DespeckleNet pairs them pixel for pixel).")
    label = f"diffuser {row['diffuser']}" if row["kind"] == "speckle" else f"objective {row['objective']}"
    what = "speckle image" if row["kind"] == "speckle" else "low-NA image"
    return (f"{row['name']}: ok — {what} of field {row['field']}, {image.shape[0]}×{image.shape[1]}, pixel "
            f"{pixel:g} µm, {label}")


def _validate_sheet(sheet: Path) -> int:
    """Every row of a sample sheet, and each stack it lists read as the pipeline reads it (the sheet's
    cells over the file's metadata): a summary line per good stack, one error sentence per problem."""
    rows, problems = io.check_sample_sheet(sheet)
    ok, stacks = 0, {}
    for row in sorted(rows, key=lambda r: r["kind"] != "stack"):  # an image's field stack first
        if row["kind"] != "stack":
            try:
                print(_image_summary(row, stacks.get(row["field"])))
                ok += 1
            except io.StackError as err:
                problems.append(f"{sheet}: {row['kind']} row {row['name']}: {err}")
            continue
        try:
            stack = io.read_stack(row["path"], raw=True, **io.sheet_overrides(row))
            planes = planes_problem(row, stack.z_um)
            if planes:
                raise io.StackError(planes)
            if row["phase_path"]:
                io.read_measured_phase(row["phase_path"], stack)
        except io.StackError as err:
            problems.append(f"{sheet}: stack {row['name']}: {err}")
            continue
        ok += 1
        stacks[row["field"]] = stack
        print(_summary(row["name"], stack) + (", with a measured phase" if row["phase_path"] else ""))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{sheet}: {ok} rows ok, "
          f"{len(problems)} problem{'s' * (len(problems) != 1)}", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


def _tie(args: argparse.Namespace) -> int:
    import numpy as np

    from qpi import tie

    stack = _read(args)
    mask = None if args.no_field_stop else "detect"
    if args.mask is not None:
        if args.no_field_stop or args.method in ("fft", "dct"):
            raise io.StackError(f"{args.mask}: --mask is for the aperture-aware solvers; drop --no-field-stop and "
                                "--method fft/dct, or the mask.")
        mask = io.read_image(args.mask)[0] != 0
        if mask.shape != stack.data.shape[1:] or not mask.any():
            raise io.StackError(f"{args.mask}: mask {mask.shape} with {int(mask.sum())} pixels inside; give a mask of "
                                f"the stack's plane size {stack.data.shape[1:]}, non-zero inside the aperture.")
    if isinstance(mask, str):  # found once, for ε̃'s noise and the solve
        mask = tie.aperture(stack, args.planes)
    eps = tie.regularisation(stack, args.eps, args.planes, mask)
    phase = tie.remove_background(tie.solve(stack, method=args.method, eps=eps, planes=args.planes, mask=mask,
                                            workers=-1))
    method, note = tie.describe(phase, args.method)
    io.write_image(args.output, phase, like=stack, method=method, eps=eps,
                   planes_um=args.planes or [float(z) for z in stack.z_um], source=io.path_names(args.stack), **note)
    where = f" inside a field stop ({note['aperture_fraction']:.0%} of the frame; NaN outside)" if note else ""
    chosen = " chosen from the planes' noise" if args.eps == "auto" else ""
    print(f"{args.output}: phase {np.nanmin(phase):.3f}…{np.nanmax(phase):.3f} rad ({method} TIE, ε̃ = {eps:.1e}"
          f"{chosen}){where}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    for what, path in (*(("model", p) for p in args.model), ("empty-field image", args.flat),
                       *(("input image", p) for p in args.input)):
        if path is not None and not path.exists():
            raise io.StackError(f"{path}: {what} not found; check the path.")
    from qpi.families.card import Given
    from qpi.predict import apply

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # progress of large fields, what was assumed
    given = Given(z_um=args.z_um, pixel_um=args.pixel_um, normalise=args.normalise == "mean", flat=args.flat)
    result = apply(args.model, args.input, args.output, device=args.device, tile=args.tile, given=given,
                   uncertainty=args.uncertainty)
    extra = [f"{k} uncertainty" for k in result.uncertainty]
    extra += ["consistency residual"] if result.residual is not None else []
    print(f"{args.output}: {' and '.join(result.images)} written" + (f", with {', '.join(extra)}" if extra else ""))
    return 0


def _info(args: argparse.Namespace) -> int:
    if not args.model.is_file():
        raise io.StackError(f"{args.model}: model not found; check the path.")
    import json

    from qpi.report.cards import test_metrics
    from qpi.training.checkpoints import read_card

    try:
        card = read_card(args.model)
    except ValueError as err:
        raise io.StackError(str(err)) from err
    card["test_metrics"] = test_metrics(args.model, card)
    if args.json:
        print(json.dumps(card, indent=1, default=str))
        return 0
    print("\n".join(card_lines(args.model, card)))
    return 0


def card_lines(path: Path, card: dict) -> list[str]:
    """A model card as a few readable lines (`qpi info`)."""
    from qpi import families

    def spec(d: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items() if v is not None)

    kwargs = ", ".join(f"{k}={v}" for k, v in card["kwargs"].items())
    inputs = {k: v for k, v in card["inputs"].items() if k != "channels"}
    title = families.get(card["family"]).title if card["family"] in families.names() else card["family"]
    lines = [f"{path}: {title} network {card['model']!r} trained on "
             f"{card['condition']!r}, seed {card['seed']}",
             f"  architecture: {card['arch']}({kwargs}), {card['weights']:,} weights",
             *(f"  input {i}: {spec(c)}" for i, c in enumerate(card["inputs"]["channels"])),
             f"  input optics: {spec(inputs)}",
             *(f"  output {i}: {spec(c)}" for i, c in enumerate(card["outputs"]["channels"])),
             f"  training data {card['training']['data_digest']}, code {card['code']}"]
    saved = card.get("saved_at") or {}
    if saved:
        lines.append(f"  saved at: {spec(saved)}")
    lines += [f"  test: {spec(row)}" for row in card.get("test_metrics", [])] or [
        "  test: no evaluation beside this model file"]
    return lines


def _simulate(args: argparse.Namespace) -> int:
    import numpy as np

    from qpi.optics.imaging import Camera, Microscope
    from qpi.optics.phantoms import make_phantom
    from qpi.optics.simulate import acquire

    rng = np.random.default_rng(args.seed)
    scope = Microscope(coherence=args.coherence)
    n = args.field_px * scope.oversample
    phase, amplitude = make_phantom(args.specimen, (n, n), scope.sim_pixel_um, scope.wavelength_um, rng)
    stack, truth, _ = acquire(phase, amplitude, np.array(args.z_um), scope, Camera(), rng)
    io.write_stack(args.output, stack, dtype="uint16")
    if args.phase:
        io.write_image(args.phase, truth, pixel_um=scope.pixel_um, kind="exact phase (rad)")
    print(f"{args.output}: {args.specimen}, {len(args.z_um)} planes of {args.field_px}² px")
    return 0


def _eps(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is neither auto nor a number ≥ 0")
    return value


def _float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


if __name__ == "__main__":
    sys.exit(main())
