"""Render the redistributable sample scene and its label map (ADE20K scene-parsing ids).

    python samples/make_scene.py            # writes samples/scene.png and samples/scene.labels.png
    python samples/make_scene.py --out DIR

A riverside town under a soft sky: buildings with windows on the far bank, trees on a grassy bank,
hills in the haze, the river mirroring it all, a quay with two people and a road in front. Everything
is drawn here from a fixed seed with numpy and OpenCV (Pillow saves; regionstyle is not imported), so
a run gives the same files for the same library versions, and the images may be redistributed
freely (CC0). Shapes are drawn at twice the size and averaged down, so edges are smooth in the
picture while every label pixel keeps one exact class id.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

log = logging.getLogger("make_scene")

WIDTH, HEIGHT, SCALE = 640, 427, 2  # 3:2 picture; drawn at SCALE x and averaged down
SEED = 20240601
# ADE20K scene-parsing ids (index of the 150 classes + 0 = others), as the DeepLab ADE20K models use.
IDS = {"building": 2, "sky": 3, "tree": 5, "road": 7, "grass": 10, "sidewalk": 12, "person": 13,
       "mountain": 17, "water": 22}
W, H = WIDTH * SCALE, HEIGHT * SCALE
BANK, QUAY, KERB = int(0.61 * H), int(0.79 * H), int(0.875 * H)  # rows where the bands meet


class Canvas:
    """An RGB float image and its label map, painted together so that they always agree."""

    def __init__(self) -> None:
        self.rgb = np.zeros((H, W, 3), np.float32)
        self.labels = np.zeros((H, W), np.uint8)

    def paint(self, mask: np.ndarray, colour: np.ndarray | tuple[float, ...], label: str) -> None:
        """Fill ``mask`` (bool (H, W)) with ``colour`` (RGB in [0, 1], one or per pixel) and ``label``."""
        colour = np.broadcast_to(np.asarray(colour, np.float32), self.rgb.shape)
        self.rgb[mask] = colour[mask]
        self.labels[mask] = IDS[label]


def noise(rng: np.random.Generator, shape: tuple[int, int], cell: int, octaves: int = 3) -> np.ndarray:
    """Smooth value noise with unit standard deviation: bicubic upsampled random grids, summed."""
    height, width = shape
    total = np.zeros(shape, np.float32)
    for octave in range(octaves):
        step = max(1, cell >> octave)
        grid = rng.standard_normal((height // step + 3, width // step + 3)).astype(np.float32)
        size = (grid.shape[1] * step, grid.shape[0] * step)
        total += 0.5**octave * cv2.resize(grid, size, interpolation=cv2.INTER_CUBIC)[:height, :width]
    return total / max(float(total.std()), 1e-6)


def polygon(points: list[tuple[float, float]]) -> np.ndarray:
    """Boolean mask (H, W) of a filled polygon given in picture units (1x pixels)."""
    mask = np.zeros((H, W), np.uint8)
    cv2.fillPoly(mask, [np.round(np.array(points) * SCALE).astype(np.int32)], 1)
    return mask.astype(bool)


def ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """Boolean mask (H, W) of a filled ellipse given in picture units."""
    mask = np.zeros((H, W), np.uint8)
    centre, axes = (round(cx * SCALE), round(cy * SCALE)), (round(rx * SCALE), round(ry * SCALE))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def textured(base: tuple[float, float, float], grain: np.ndarray, strength: float) -> np.ndarray:
    """Per-pixel colour (H, W, 3): ``base`` modulated by a noise field."""
    return np.clip(np.asarray(base, np.float32) * (1.0 + strength * grain[..., None]), 0.0, 1.0)


def draw_sky(canvas: Canvas, rng: np.random.Generator) -> None:
    """Blue gradient to a pale horizon, with a few soft, grey-bottomed cumulus clouds."""
    t = (np.arange(H, dtype=np.float32) / BANK).clip(0, 1)[:, None, None]
    top, horizon = np.array([0.16, 0.36, 0.70]), np.array([0.76, 0.85, 0.93])
    sky = np.broadcast_to(top + (horizon - top) * t**0.8, (H, W, 3)).astype(np.float32)
    cover = np.zeros((H, W), np.float32)
    for cx, cy, size in [(95, 62, 62), (315, 44, 84), (530, 78, 70), (455, 150, 40)]:
        for _ in range(8):
            dx, dy = rng.normal(0, size * 0.5), rng.normal(-size * 0.05, size * 0.1)
            crown = ellipse(cx + dx, cy + dy, size * rng.uniform(0.3, 0.5), size * rng.uniform(0.25, 0.4))
            cover = np.maximum(cover, crown & (np.arange(H)[:, None] < (cy + size * 0.18) * SCALE))
    fluff = noise(rng, (H, W), 10 * SCALE)
    cover = cv2.GaussianBlur(cover * (0.9 + 0.2 * fluff), (0, 0), 3.5 * SCALE)
    cover = np.clip((cover - 0.15) / 0.5, 0, 1)  # soft but defined edges
    above = cv2.GaussianBlur(np.roll(cover, 12 * SCALE, axis=0), (0, 0), 5 * SCALE)  # cloud overhead
    cloud = np.stack([1.0 - 0.30 * above] * 3, axis=2) * np.array([1.0, 0.99, 0.97])
    canvas.paint(np.ones((H, W), bool), sky * (1 - cover[..., None]) + cloud * cover[..., None], "sky")


def draw_hills(canvas: Canvas, rng: np.random.Generator) -> None:
    """A hazy ridge on the horizon, bluish and faint like distant land."""
    x = np.arange(W, dtype=np.float32) / SCALE
    ridge = 0.52 * HEIGHT + 10 * np.sin(x / 70 + 1.0) + 6 * np.sin(x / 23) + 3 * noise(rng, (1, W), 40)[0]
    mask = (np.arange(H)[:, None] / SCALE >= ridge[None, :]) & (np.arange(H)[:, None] < BANK)
    haze = textured((0.52, 0.60, 0.68), noise(rng, (H, W), 20 * SCALE), 0.05)
    canvas.paint(mask, haze, "mountain")


def draw_building(canvas: Canvas, rng: np.random.Generator, x0: float, width: float, top: float,
                  colour: tuple[float, float, float]) -> None:
    """One building on the far bank: textured facade, shaded side wall, cornice or roof, windows."""
    base = BANK / SCALE
    face = polygon([(x0, top), (x0 + width, top), (x0 + width, base), (x0, base)])
    wall = textured(colour, noise(rng, (H, W), 6 * SCALE, 2), 0.06)
    light = np.linspace(1.04, 0.9, W, dtype=np.float32)[None, :, None]  # sun from the left
    canvas.paint(face, wall * light, "building")
    side = polygon([(x0 + width, top), (x0 + width + 9, top + 4), (x0 + width + 9, base), (x0 + width, base)])
    canvas.paint(side & (canvas.labels != IDS["building"]), wall * 0.62, "building")
    if rng.random() < 0.5:  # a pitched tile roof
        roof = polygon([(x0 - 3, top), (x0 + width / 2, top - width * 0.28), (x0 + width + 3, top)])
        canvas.paint(roof, textured((0.50, 0.22, 0.16), noise(rng, (H, W), 3 * SCALE, 1), 0.12), "building")
    else:  # a flat roof with a pale cornice
        canvas.paint(polygon([(x0 - 2, top - 3), (x0 + width + 2, top - 3), (x0 + width + 2, top + 2),
                              (x0 - 2, top + 2)]), (0.86, 0.84, 0.79), "building")
    draw_windows(canvas, rng, x0, width, top)


def draw_windows(canvas: Canvas, rng: np.random.Generator, x0: float, width: float, top: float) -> None:
    """A grid of windows, most dark and reflecting the sky, a few lit warm; a door at street level."""
    cols = max(2, int(width // 17))
    pitch_x, pitch_y = width / cols, rng.uniform(17, 22)
    y = top + 9
    while y + 12 < BANK / SCALE - 14:
        for col in range(cols):
            wx = x0 + col * pitch_x + pitch_x * 0.25
            pane = polygon([(wx, y), (wx + pitch_x * 0.5, y), (wx + pitch_x * 0.5, y + 11), (wx, y + 11)])
            lit = rng.random() < 0.12
            tone = (0.95, 0.82, 0.45) if lit else tuple(np.array([0.20, 0.26, 0.34]) * rng.uniform(0.8, 1.3))
            canvas.paint(pane, tone, "building")
        y += pitch_y
    door_x = x0 + width / 2 - 5
    canvas.paint(polygon([(door_x, BANK / SCALE - 15), (door_x + 10, BANK / SCALE - 15),
                          (door_x + 10, BANK / SCALE), (door_x, BANK / SCALE)]), (0.28, 0.18, 0.12), "building")


def draw_town(canvas: Canvas, rng: np.random.Generator) -> None:
    """A row of buildings of varied height and colour along the left two thirds of the far bank."""
    palette = [(0.72, 0.40, 0.30), (0.86, 0.78, 0.62), (0.62, 0.64, 0.66), (0.80, 0.66, 0.42),
               (0.66, 0.72, 0.80), (0.90, 0.86, 0.78), (0.56, 0.34, 0.28)]
    x = -6.0
    for index in range(7):
        width = float(rng.uniform(48, 78))
        top = float(rng.uniform(0.22, 0.45) * HEIGHT)
        draw_building(canvas, rng, x, width, top, palette[index % len(palette)])
        x += width + float(rng.uniform(-4, 6))
    # A church tower with a spire, the tallest thing on the skyline.
    draw_building(canvas, rng, 188, 30, 0.16 * HEIGHT, (0.78, 0.74, 0.66))
    canvas.paint(polygon([(186, 0.16 * HEIGHT), (203, 0.04 * HEIGHT), (220, 0.16 * HEIGHT)]),
                 (0.30, 0.40, 0.38), "building")


def draw_tree(canvas: Canvas, rng: np.random.Generator, cx: float, base: float, size: float) -> None:
    """A trunk and a leafy canopy of overlapping crowns, lit from the upper left."""
    canvas.paint(polygon([(cx - size * 0.07, base), (cx + size * 0.07, base), (cx + size * 0.04, base - size),
                          (cx - size * 0.04, base - size)]), (0.33, 0.23, 0.15), "tree")
    crown = np.zeros((H, W), bool)
    for _ in range(9):
        dx, dy = rng.normal(0, size * 0.28), rng.normal(-size * 1.15, size * 0.22)
        r = size * rng.uniform(0.28, 0.45)
        crown |= ellipse(cx + dx, base + dy, r, r * 0.9)
    leaves = noise(rng, (H, W), 3 * SCALE, 2)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) / SCALE
    lit = np.clip(1.0 - ((xx - cx) + (yy - (base - size * 1.5))) / (size * 2.2), 0.55, 1.25)
    green = textured((0.22, 0.42, 0.17), leaves, 0.22) * lit[..., None]
    canvas.paint(crown, np.clip(green, 0, 1), "tree")


def draw_bank(canvas: Canvas, rng: np.random.Generator) -> None:
    """Grass on the right of the far bank and a stand of trees on it; one tree among the houses."""
    slope = polygon([(410, BANK / SCALE - 10), (WIDTH, BANK / SCALE - 22), (WIDTH, BANK / SCALE),
                     (400, BANK / SCALE)])
    canvas.paint(slope, textured((0.40, 0.56, 0.22), noise(rng, (H, W), 2 * SCALE, 2), 0.15), "grass")
    for cx, size in [(452, 62), (508, 80), (566, 66), (618, 74), (338, 44)]:
        draw_tree(canvas, rng, cx, BANK / SCALE - (6 if cx > 420 else 0), size)


def draw_water(canvas: Canvas, rng: np.random.Generator) -> None:
    """The river: the bank mirrored, rippled and blurred, darkened towards blue-green."""
    depth = QUAY - BANK
    mirror = canvas.rgb[BANK - depth:BANK][::-1].copy()
    rows = np.arange(depth, dtype=np.float32)[:, None]
    phase = noise(rng, (depth, W), 40, 1)
    shift = (1.0 + rows / depth * 5.0) * np.sin(rows / (1.2 + rows / depth * 2.0) + 2.0 * phase)
    map_x = (np.arange(W, dtype=np.float32)[None, :] + shift).astype(np.float32)
    map_y = np.broadcast_to(rows, (depth, W)).astype(np.float32)
    rippled = cv2.remap(mirror, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    rippled = cv2.GaussianBlur(rippled, (0, 0), sigmaX=2.5 * SCALE, sigmaY=0.5 * SCALE)
    # Wide, thin bands of wave faces catching the sky: anisotropic noise stretched along x.
    bands = cv2.resize(noise(rng, (depth, W // 6), 2, 2), (W, depth), interpolation=cv2.INTER_CUBIC)
    far, near = np.array([0.46, 0.60, 0.72], np.float32), np.array([0.14, 0.30, 0.44], np.float32)
    tint = far + (near - far) * (rows / depth)[..., None]  # the sky's glare fades towards the viewer
    water = (0.45 * rippled + 0.55 * tint) * (1.0 + 0.25 * bands[..., None])
    mask = np.zeros((H, W), bool)
    mask[BANK:QUAY] = True
    full = np.zeros((H, W, 3), np.float32)
    full[BANK:QUAY] = np.clip(water, 0, 1)
    canvas.paint(mask, full, "water")


def draw_street(canvas: Canvas, rng: np.random.Generator) -> None:
    """A paved quay (stone edge, slab joints) and an asphalt road with a dashed centre line."""
    rows = np.arange(H)[:, None] * np.ones((1, W), int)
    cols = np.arange(W)[None, :] * np.ones((H, 1), int)
    quay = (rows >= QUAY) & (rows < KERB)
    paving = textured((0.72, 0.68, 0.62), noise(rng, (H, W), 2 * SCALE, 2), 0.06)
    # Slab joints in perspective: lengthwise joints run to a vanishing point on the horizon.
    depth = np.maximum(rows - BANK, 1).astype(np.float32)
    across = (cols - W / 2) / depth * 6.0
    slab_rows = np.log(depth) * 9.0
    joints = (np.abs(across - np.round(across)) < 0.05) | (np.abs(slab_rows - np.round(slab_rows)) < 0.06)
    edge = rows < QUAY + 3 * SCALE
    canvas.paint(quay, np.where((joints | edge)[..., None], paving * 0.7, paving), "sidewalk")
    road = rows >= KERB
    asphalt = textured((0.25, 0.25, 0.27), noise(rng, (H, W), SCALE, 2), 0.18)
    canvas.paint(road, asphalt, "road")
    centre = (HEIGHT - 0.5 * (HEIGHT - KERB / SCALE)) * SCALE
    dashes = road & (np.abs(rows - centre) < 2 * SCALE) & ((cols % (60 * SCALE)) < 34 * SCALE)
    canvas.paint(dashes, (0.88, 0.86, 0.78), "road")
    canvas.paint(road & (rows < KERB + 2 * SCALE), (0.55, 0.54, 0.52), "road")  # the kerb stone


def draw_person(canvas: Canvas, x: float, feet: float, tall: float, coat: tuple[float, float, float]) -> None:
    """A simple standing figure: legs, coat, arms, head with hair."""
    u = tall / 10
    legs = polygon([(x - 1.3 * u, feet - 4.6 * u), (x + 1.3 * u, feet - 4.6 * u), (x + 1.2 * u, feet),
                    (x + 0.2 * u, feet), (x, feet - 3.0 * u), (x - 0.2 * u, feet), (x - 1.2 * u, feet)])
    canvas.paint(legs, (0.16, 0.17, 0.22), "person")
    body = polygon([(x - 1.2 * u, feet - 8.0 * u), (x + 1.2 * u, feet - 8.0 * u), (x + 1.6 * u, feet - 4.2 * u),
                    (x - 1.6 * u, feet - 4.2 * u)])
    shade = np.linspace(1.08, 0.8, W, dtype=np.float32)[None, :, None]
    canvas.paint(body, np.clip(np.asarray(coat, np.float32) * shade, 0, 1), "person")
    for side in (-1, 1):
        canvas.paint(polygon([(x + side * 1.2 * u, feet - 7.8 * u), (x + side * 1.9 * u, feet - 7.4 * u),
                              (x + side * 2.1 * u, feet - 4.9 * u), (x + side * 1.5 * u, feet - 4.9 * u)]),
                     np.asarray(coat) * 0.85, "person")
    canvas.paint(ellipse(x, feet - 8.9 * u, 0.85 * u, 1.0 * u), (0.80, 0.62, 0.50), "person")
    canvas.paint(ellipse(x, feet - 9.35 * u, 0.9 * u, 0.6 * u), (0.18, 0.12, 0.08), "person")


def render() -> tuple[np.ndarray, np.ndarray]:
    """The scene: float32 RGB (HEIGHT, WIDTH, 3) in [0, 1] and uint8 ADE20K labels (HEIGHT, WIDTH)."""
    rng = np.random.default_rng(SEED)
    canvas = Canvas()
    for step in (draw_sky, draw_hills, draw_town, draw_bank, draw_water, draw_street):
        step(canvas, rng)
    draw_person(canvas, 232, KERB / SCALE - 6, 76, (0.70, 0.16, 0.14))
    draw_person(canvas, 304, KERB / SCALE - 3, 70, (0.20, 0.30, 0.52))
    small = cv2.resize(canvas.rgb, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    grain = rng.normal(0.0, 0.008, small.shape).astype(np.float32)  # a little film grain
    labels = canvas.labels[SCALE // 2 :: SCALE, SCALE // 2 :: SCALE]  # the centre sample of each pixel
    return np.clip(small + grain, 0.0, 1.0), np.ascontiguousarray(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    out = parser.parse_args().out
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pixels, labels = render()
    out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(out / "scene.png", optimize=True)
    Image.fromarray(labels).save(out / "scene.labels.png", optimize=True)
    shares = {name: float((labels == i).mean()) for name, i in IDS.items()}
    log.info("wrote %s and %s; class shares: %s", out / "scene.png", out / "scene.labels.png",
             ", ".join(f"{name} {share:.1%}" for name, share in shares.items()))


if __name__ == "__main__":
    main()
