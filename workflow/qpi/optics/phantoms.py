"""Specimens for the virtual microscope: HeLa-like cells, microspheres, microlens arrays, natural images.

Every phantom is generated on the simulation grid (`pixel_um` in the sample plane) and returned as
`(phase_rad, amplitude)`, float32 arrays of `shape`. Pixel (i, j) is centred at (i·pixel_um,
j·pixel_um) µm (y, x). Thin-object physics: phase = 2π/λ·Δn·thickness, amplitude =
exp(−absorption·thickness), with thickness and λ in µm and Δn relative to the surrounding medium.
Random phantoms draw only from the `rng` they are given, so a seed fixes them.

Ranges: parameters written `(lo, hi)` are drawn uniformly per object (integers inclusive for counts);
a plain number fixes the value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from scipy import ndimage

Range = float | tuple[float, float]

NATURAL_SOURCES: tuple[str, ...] = (
    "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass",
    "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina", "rocket",
    "text",
)  # images bundled with the scikit-image wheel (no download needed)


def _draw(rng: np.random.Generator, value: Range, size: int | None = None) -> float | np.ndarray:
    """A value drawn uniformly from `(lo, hi)`, or `value` itself when it is a number."""
    if isinstance(value, (int, float)):
        return float(value) if size is None else np.full(size, float(value))
    lo, hi = value
    return rng.uniform(lo, hi, size)


def _draw_count(rng: np.random.Generator, value: int | tuple[int, int]) -> int:
    """An integer drawn uniformly from the inclusive range `(lo, hi)`, or `value` itself."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    lo, hi = value
    return int(rng.integers(lo, hi + 1))


def _wavenumber(wavelength_um: float) -> float:
    """2π/λ in rad µm⁻¹."""
    return 2.0 * np.pi / wavelength_um


def height_from_phase(phase: np.ndarray | float, wavelength_um: float, delta_n: float) -> np.ndarray | float:
    """Thickness (µm) of a thin object of index contrast `delta_n` giving `phase` (rad): φ·λ/(2π·Δn)."""
    return phase / (_wavenumber(wavelength_um) * delta_n)


# --- HeLa-like cells ------------------------------------------------------------------------------


def _box(centre_um: np.ndarray, half_um: float, shape: tuple[int, int], pixel_um: float):
    """Pixel slices of the field covered by a square of half-size `half_um` around `centre_um` (a
    point of the field), and the (dy, dx) µm offsets of those pixels from the centre."""
    lo = np.maximum(np.ceil((centre_um - half_um) / pixel_um).astype(int), 0)
    hi = np.minimum(np.floor((centre_um + half_um) / pixel_um).astype(int) + 1, shape)
    dy = np.arange(lo[0], hi[0])[:, None] * pixel_um - centre_um[0]
    dx = np.arange(lo[1], hi[1])[None, :] * pixel_um - centre_um[1]
    return (slice(lo[0], hi[0]), slice(lo[1], hi[1])), dy, dx


class _Cell:
    """Random geometry of one adherent cell: an elongated, rotated circle whose radius is perturbed
    by a few Fourier harmonics; a nucleus (ellipse in the cell's normalised frame, offset from the
    centre) and nucleoli inside it. Lengths in µm."""

    def __init__(self, rng: np.random.Generator, diameter_um: float):
        elongation = rng.uniform(1.0, 1.7)
        radius = diameter_um / 2.0
        self.semi_axes = np.array([radius * np.sqrt(elongation), radius / np.sqrt(elongation)])
        self.angle = rng.uniform(0.0, np.pi)
        self.orders = np.arange(2, 8)
        # Harmonic amplitudes fall with order; their sum ≤ 0.3 keeps the outline star-shaped and
        # the nucleus (normalised extent ≤ 0.6) inside it.
        weights = rng.uniform(0.2, 1.0, self.orders.size) / self.orders
        self.amplitudes = weights * (rng.uniform(0.12, 0.3) / weights.sum())
        self.phases = rng.uniform(0.0, 2 * np.pi, self.orders.size)
        self.nucleus_centre = rng.uniform(-0.15, 0.15, 2)  # in normalised units (u/a, v/b)
        self.nucleus_axes = rng.uniform(0.3, 0.42, 2)
        self.nucleus_angle = rng.uniform(-0.4, 0.4)
        n_nucleoli = int(rng.integers(1, 4))
        nucleus_um = float(np.mean(self.nucleus_axes * self.semi_axes))
        self.nucleoli_radius = rng.uniform(0.12, 0.22, n_nucleoli) * nucleus_um
        t, r = rng.uniform(0, 2 * np.pi, n_nucleoli), 0.55 * np.sqrt(rng.uniform(0, 1, n_nucleoli))
        self.nucleoli_centre = self._nucleus_to_local(r * np.cos(t), r * np.sin(t))

    @property
    def extent_um(self) -> float:
        """Radius of a circle that holds the whole cell."""
        return float(self.semi_axes.max() * (1.0 + self.amplitudes.sum()))

    @property
    def min_radius_um(self) -> float:
        """Smallest distance from the centre to the outline."""
        return float(self.semi_axes.min() * (1.0 - self.amplitudes.sum()))

    def outline(self, theta: np.ndarray) -> np.ndarray:
        """Outline radius in normalised units at polar angle `theta` of the normalised frame."""
        return 1.0 + np.cos(np.multiply.outer(theta, self.orders) + self.phases) @ self.amplitudes

    def local(self, dy: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) µm along the cell's long and short axes."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        return dx * c + dy * s, -dx * s + dy * c

    def _nucleus_to_local(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Nucleus-normalised coordinates → (u, v) µm of the cell frame, shape (2, N)."""
        c, s = np.cos(self.nucleus_angle), np.sin(self.nucleus_angle)
        un = self.nucleus_centre[0] + self.nucleus_axes[0] * p * c - self.nucleus_axes[1] * q * s
        vn = self.nucleus_centre[1] + self.nucleus_axes[0] * p * s + self.nucleus_axes[1] * q * c
        return np.stack([un * self.semi_axes[0], vn * self.semi_axes[1]])

    def radius(self, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """Normalised radius s (0 at the centre, 1 on the outline) at offsets (dy, dx) µm."""
        u, v = self.local(dy, dx)
        un, vn = u / self.semi_axes[0], v / self.semi_axes[1]
        # The outline is smooth (orders ≤ 7): a 1024-sample table interpolated is exact to ~1e-5
        # and much cheaper than the harmonics at every pixel.
        table = np.linspace(-np.pi, np.pi, 1025)
        return np.hypot(un, vn) / np.interp(np.arctan2(vn, un), table, self.outline(table))

    def nucleus_radius(self, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """Normalised radius q of the nucleus ellipse (q < 1 inside)."""
        u, v = self.local(dy, dx)
        un = u / self.semi_axes[0] - self.nucleus_centre[0]
        vn = v / self.semi_axes[1] - self.nucleus_centre[1]
        c, s = np.cos(self.nucleus_angle), np.sin(self.nucleus_angle)
        return np.hypot((un * c + vn * s) / self.nucleus_axes[0], (-un * s + vn * c) / self.nucleus_axes[1])

    def inside_points(self, rng: np.random.Generator, n: int, s_max: float) -> tuple[np.ndarray, np.ndarray]:
        """(dy, dx) µm of `n` random points of the cell with normalised radius < `s_max`."""
        theta = rng.uniform(0, 2 * np.pi, n)
        s = s_max * np.sqrt(rng.uniform(0, 1, n)) * self.outline(theta)
        u, v = s * np.cos(theta) * self.semi_axes[0], s * np.sin(theta) * self.semi_axes[1]
        c, si = np.cos(self.angle), np.sin(self.angle)
        return u * si + v * c, u * c - v * si


def _place_cells(
    rng: np.random.Generator,
    shape: tuple[int, int],
    pixel_um: float,
    n_cells: int,
    diameter_um: Range,
    min_gap_um: float,
    attempts: int = 60,
) -> list[tuple[_Cell, np.ndarray]]:
    """Cells with centres inside the field and about `min_gap_um` between outlines.

    A candidate whose outline, grown radially by the gap, touches an earlier cell is rejected; every 10
    rejections shrink the next candidate by 15 %, so crowded fields still get their cells. If a
    cell cannot be placed after `attempts` candidates, the field keeps the cells placed so far.
    """
    field_um = np.array(shape) * pixel_um
    occupied = np.zeros(shape, bool)
    # The overlap check runs on a grid strided by a third of the gap: cheap, and too fine to miss a touch.
    stride = max(1, int(min_gap_um / (3 * pixel_um)))
    placed = []
    for _ in range(n_cells):
        for attempt in range(attempts):
            cell = _Cell(rng, float(_draw(rng, diameter_um)) * 0.85 ** (attempt // 10))
            centre = rng.uniform(0, 1, 2) * field_um
            grown = 1.0 + min_gap_um / cell.min_radius_um
            sl, dy, dx = _box(centre, cell.extent_um * grown, shape, pixel_um)
            coarse = (slice(sl[0].start, sl[0].stop, stride), slice(sl[1].start, sl[1].stop, stride))
            if not np.any(occupied[coarse] & (cell.radius(dy[::stride], dx[:, ::stride]) < grown)):
                break
        else:
            break
        occupied[sl] |= cell.radius(dy, dx) < 1.0
        placed.append((cell, centre))
    return placed


def hela_cells(
    shape: tuple[int, int],
    pixel_um: float,
    wavelength_um: float,
    rng: np.random.Generator,
    n_cells: int | tuple[int, int] = (2, 5),
    cell_diameter_um: Range = (15.0, 30.0),
    height_um: Range = (4.5, 6.5),
    delta_n: Range = (0.038, 0.048),
    nucleus_delta_n: Range = (0.0, 0.008),
    nucleolus_delta_n: Range = (0.015, 0.025),
    lamella_um: Range = (0.1, 0.3),
    texture: float = 0.03,
    texture_um: float = 0.6,
    granules_per_um2: float = 0.25,
    granule_contrast: float = 0.15,
    absorption_per_um: float = 0.005,
    min_gap_um: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """HeLa-like adherent cells: phase (rad) and amplitude of a field of view.

    Each cell has an irregular outline (see `_Cell`) and a thickness made of a cytoplasm dome
    H_c·(1 − s²) plus a thin lamellipodium rim of `lamella_um` that ends at the outline, and a
    nucleus bulge H_n·(1 − q²)^0.75 (H_c + H_n = `height_um`, the peak thickness; H_c is 35–50 %).
    Index contrast to the medium: `delta_n` in the cytoplasm, plus `nucleus_delta_n` in the nucleus;
    1–3 nucleoli add `nucleolus_delta_n` over a paraboloid of their diameter. The cytoplasm carries
    granules/vesicles (Gaussian blobs of ~0.25 µm, `granule_contrast` of the local thickness) and the
    whole optical path a band-limited texture (correlation `texture_um`, relative rms `texture`).
    With the defaults the peak phase at λ = 0.55 µm is 2.7–4.4 rad (OPD 0.23–0.39 µm; 200 seeds).

    Cells never overlap: their outlines keep about `min_gap_um` apart (see `_place_cells`), so a field
    may hold fewer cells than drawn only when it is far too small for them. Centres lie in the
    field; cells may be cut by its edge. Background phase is exactly 0 and amplitude exactly 1;
    amplitude = exp(−absorption_per_um·thickness).
    """
    k = _wavenumber(wavelength_um)
    path = np.zeros(shape)  # optical path of cytoplasm (modulated by granules) and nucleus, µm
    granule_path = np.zeros(shape)
    nucleoli = np.zeros(shape)
    thickness = np.zeros(shape)
    granules = np.zeros(shape)
    field = np.array(shape)
    for cell, centre in _place_cells(rng, shape, pixel_um, _draw_count(rng, n_cells), cell_diameter_um, min_gap_um):
        height = float(_draw(rng, height_um))
        h_cyto = rng.uniform(0.35, 0.5) * height
        dn = float(_draw(rng, delta_n))
        dn_nucleus = dn + float(_draw(rng, nucleus_delta_n))
        lamella = float(_draw(rng, lamella_um))
        sl, dy, dx = _box(centre, cell.extent_um, shape, pixel_um)
        s2 = cell.radius(dy, dx) ** 2
        cyto = h_cyto * np.clip(1 - s2, 0, None) + lamella * np.clip(1 - s2**4, 0, None)
        nucleus = (height - h_cyto) * np.clip(1 - cell.nucleus_radius(dy, dx) ** 2, 0, None) ** 0.75
        path[sl] += dn * cyto + dn_nucleus * nucleus
        granule_path[sl] += dn * cyto
        thickness[sl] += cyto + nucleus
        u, v = cell.local(dy, dx)
        for (cu, cv), r in zip(cell.nucleoli_centre.T, cell.nucleoli_radius):
            bump = np.clip(1 - ((u - cu) ** 2 + (v - cv) ** 2) / r**2, 0, None)
            nucleoli[sl] += float(_draw(rng, nucleolus_delta_n)) * 2 * r * bump
        area = np.pi * cell.semi_axes.prod()
        gy, gx = cell.inside_points(rng, rng.poisson(granules_per_um2 * area), s_max=0.85)
        iy = np.round((centre[0] + gy) / pixel_um).astype(int)
        ix = np.round((centre[1] + gx) / pixel_um).astype(int)
        keep = (iy >= 0) & (iy < field[0]) & (ix >= 0) & (ix < field[1])
        np.add.at(granules, (iy[keep], ix[keep]), rng.uniform(0.5, 1.0, keep.sum()))
    sigma_px = 0.25 / pixel_um
    granules = ndimage.gaussian_filter(granules, sigma_px) * (2 * np.pi * sigma_px**2)  # unit peak per granule
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), texture_um / pixel_um)
    noise /= max(noise.std(), 1e-12)
    # Texture and granules multiply the path, so the background stays exactly 0.
    modulation = np.clip(1 + texture * noise, 0.5, None)
    opd = (path + granule_contrast * granules * granule_path) * modulation + nucleoli
    return (k * opd).astype(np.float32), np.exp(-absorption_per_um * thickness).astype(np.float32)


# --- microspheres ---------------------------------------------------------------------------------


def microspheres_with_centres(
    shape: tuple[int, int],
    pixel_um: float,
    wavelength_um: float,
    rng: np.random.Generator,
    diameter_um: float = 3.0,
    delta_n: float = 0.26,
    count: int | tuple[int, int] = (3, 8),
    min_gap_um: float = 0.5,
    absorption_per_um: float = 0.0,
    supersample: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Microspheres as `microspheres`, plus their centres: (phase, amplitude, centres_um (N, 2) (y, x)).

    Spheres lie wholly inside the field, `min_gap_um` apart at least. Phase is the pixel average
    (over `supersample`² sub-pixels) of 2π/λ·Δn·2√(r² − ρ²), so the rim is anti-aliased. Fewer than
    `count` spheres are placed only when the field cannot hold them.
    """
    radius = diameter_um / 2.0
    field_um = np.array(shape) * pixel_um
    room = field_um - 2 * radius - 2 * pixel_um
    if np.any(room <= 0):
        raise ValueError(f"a {diameter_um} µm sphere does not fit a {shape} field of {pixel_um} µm pixels")
    wanted = _draw_count(rng, count)
    candidates = radius + pixel_um + rng.uniform(0, 1, (64 * max(wanted, 1), 2)) * room
    centres: list[np.ndarray] = []
    for c in candidates:
        if len(centres) == wanted:
            break
        if not centres or np.min(np.hypot(*(np.array(centres) - c).T)) >= diameter_um + min_gap_um:
            centres.append(c)
    centres_um = np.array(centres).reshape(-1, 2)

    k = _wavenumber(wavelength_um)
    thickness = np.zeros(shape)
    sub = (np.arange(supersample) + 0.5) / supersample - 0.5  # sub-pixel offsets, pixels
    for centre in centres_um:
        sl, dy, dx = _box(centre, radius + pixel_um, shape, pixel_um)
        ry = dy[:, :, None, None] + sub[:, None] * pixel_um  # (Y, 1, sy, 1)
        rx = dx[:, :, None, None] + sub[None, :] * pixel_um  # (1, X, 1, sx)
        chord = 2 * np.sqrt(np.clip(radius**2 - ry**2 - rx**2, 0, None))
        thickness[sl] += chord.mean(axis=(2, 3))
    phase = (k * delta_n * thickness).astype(np.float32)
    return phase, np.exp(-absorption_per_um * thickness).astype(np.float32), centres_um


def microspheres(
    shape: tuple[int, int], pixel_um: float, wavelength_um: float, rng: np.random.Generator, **params
) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping polystyrene beads in water (n 1.59 vs 1.33): phase (rad) and amplitude.

    Peak phase 2π/λ·Δn·d (8.9 rad for 3 µm at λ = 0.55 µm); background exactly 0 rad. Parameters
    and defaults are those of `microspheres_with_centres`.
    """
    phase, amplitude, _ = microspheres_with_centres(shape, pixel_um, wavelength_um, rng, **params)
    return phase, amplitude


# --- microlens array ------------------------------------------------------------------------------


def microlens_array(
    shape: tuple[int, int],
    pixel_um: float,
    wavelength_um: float,
    pitch_um: float = 10.0,
    roc_um: float = 12.4,
    delta_n: float = 0.46,
    lens_diameter_um: float | None = None,
    offset_um: tuple[float, float] | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Square array of spherical-cap lenses: phase (rad) and amplitude (1, no absorption).

    A cap of radius of curvature R and diameter D (default: the pitch) is
    t(ρ) = √(R² − ρ²) − √(R² − (D/2)²) thick, i.e. sag(D/2) − sag(ρ) with sag = R − √(R² − ρ²);
    its centre height is sag(D/2). Phase = 2π/λ·Δn·t. The defaults keep the paper's lens shape
    (pitch 240 µm, ROC 297 µm: ROC/pitch 1.24) scaled to a ~40 µm field, in fused silica against
    air (Δn 0.46): 1.05 µm high, 5.5 rad at λ = 0.55 µm. One lens is centred at the field centre
    shifted by `offset_um` (y, x); with no offset, `rng` draws one within a pitch, else it is 0.
    """
    diameter = pitch_um if lens_diameter_um is None else lens_diameter_um
    if diameter > pitch_um or diameter / 2 > roc_um:
        raise ValueError(
            f"lens diameter {diameter} µm must be ≤ the pitch ({pitch_um} µm) and ≤ 2·ROC ({2 * roc_um} µm)"
        )
    if offset_um is None:
        offset_um = (0.0, 0.0) if rng is None else tuple(rng.uniform(0, pitch_um, 2))
    centre = (np.array(shape) - 1) / 2 * pixel_um + np.asarray(offset_um)
    y = np.arange(shape[0])[:, None] * pixel_um - centre[0]
    x = np.arange(shape[1])[None, :] * pixel_um - centre[1]
    # Offsets from the nearest lens centre of the square lattice.
    y = (y + pitch_um / 2) % pitch_um - pitch_um / 2
    x = (x + pitch_um / 2) % pitch_um - pitch_um / 2
    rho2 = np.minimum(y**2 + x**2, (diameter / 2) ** 2)
    thickness = np.sqrt(roc_um**2 - rho2) - np.sqrt(roc_um**2 - (diameter / 2) ** 2)
    phase = (_wavenumber(wavelength_um) * delta_n * thickness).astype(np.float32)
    return phase, np.ones(shape, np.float32)


# --- natural images -------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _gray_image(name: str) -> np.ndarray:
    """A bundled scikit-image picture as float grey levels in [0, 1] (cached, read-only)."""
    from skimage import color, data, util

    image = util.img_as_float(getattr(data, name)())
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    image.setflags(write=False)
    return image


def _random_view(rng: np.random.Generator, image: np.ndarray, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """A random rotated, possibly mirrored, zoomed crop of `image` resampled to `shape`, smoothed by a
    Gaussian of `sigma_px` output pixels and stretched to [0, 1] with a random gamma."""
    angle = rng.uniform(0, 2 * np.pi)
    c, s = abs(np.cos(angle)), abs(np.sin(angle))
    # Largest scale (source pixels per output pixel) at which the rotated output rectangle fits.
    fit = min(image.shape[0] / (shape[0] * c + shape[1] * s), image.shape[1] / (shape[0] * s + shape[1] * c))
    scale = fit * rng.uniform(0.4, 1.0)
    half = 0.5 * scale * np.array([shape[0] * c + shape[1] * s, shape[0] * s + shape[1] * c])
    centre = rng.uniform(half, np.array(image.shape) - half)
    flip = rng.choice([-1.0, 1.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotation @ np.diag([scale, flip * scale])
    offset = centre - matrix @ ((np.array(shape) - 1) / 2)
    source = ndimage.gaussian_filter(image, (scale - 1) / 2) if scale > 1 else image  # anti-alias
    view = ndimage.affine_transform(source, matrix, offset, output_shape=shape, order=1, mode="reflect")
    view = ndimage.gaussian_filter(view, sigma_px)
    view = (view - view.min()) / max(np.ptp(view), 1e-12)
    return view ** np.exp(rng.uniform(-0.4, 0.4))


def natural_image(
    shape: tuple[int, int],
    pixel_um: float,
    wavelength_um: float,
    rng: np.random.Generator,
    max_phase_rad: float = np.pi,
    amplitude_range: tuple[float, float] = (0.7, 1.0),
    smooth_px: float = 1.0,
    sources: Sequence[str] = NATURAL_SOURCES,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase and amplitude from two different pictures bundled with scikit-image (MCNN-style data).

    Each map is a random crop (zoom, any rotation, mirror) resampled to `shape`, smoothed by a
    Gaussian of `smooth_px` pixels (band-limited well below the grid's Nyquist frequency) and
    given a random gamma; phase spans exactly [0, `max_phase_rad`], amplitude exactly
    `amplitude_range`. The map is given in pixels, so `pixel_um` and `wavelength_um` are unused.
    """
    del pixel_um, wavelength_um
    names = rng.choice(len(sources), size=2, replace=False)
    phase_map, amplitude_map = (_random_view(rng, _gray_image(sources[i]), shape, smooth_px) for i in names)
    lo, hi = amplitude_range
    return (max_phase_rad * phase_map).astype(np.float32), (lo + (hi - lo) * amplitude_map).astype(np.float32)


# --- dispatch -------------------------------------------------------------------------------------


def _microlens(shape, pixel_um, wavelength_um, rng, **params):
    return microlens_array(shape, pixel_um, wavelength_um, rng=rng, **params)


PHANTOMS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "hela": hela_cells,
    "microspheres": microspheres,
    "microlens": _microlens,
    "natural": natural_image,
}


def make_phantom(
    kind: str, shape: tuple[int, int], pixel_um: float, wavelength_um: float, rng: np.random.Generator, **params
) -> tuple[np.ndarray, np.ndarray]:
    """The (phase_rad, amplitude) phantom of `kind` ("hela" | "microspheres" | "microlens" | "natural").

    `params` go to the kind's function; a microlens array gets a random offset from `rng` unless
    `offset_um` is given.
    """
    if kind not in PHANTOMS:
        raise ValueError(f"unknown phantom kind {kind!r}; choose one of: {', '.join(sorted(PHANTOMS))}")
    return PHANTOMS[kind](tuple(shape), pixel_um, wavelength_um, rng, **params)
