"""Quality benchmark: stylise shared photos with a fixed 3-style rules set and measure every styled region.

    python benchmarks/quality.py --encoder mobilenet_v2 --size 256 --out /tmp/quality

Per photo and region it prints:
- judge: Gram distance (independent MobileNetV1 judge, see benchmarks/judge.py) of the region to its OWN
  style, to the NEAREST OTHER painting of ../shared/data/styles, and their ratio (< 1: the region looks
  more like its own style than like any other painting); ``closed``: 1 - own(output) / own(photo), the
  share of the photo's distance to its style that the stylisation removed;
- colour: Gaussian Wasserstein-2 distance of the region's Lab colours to the painting's (Lab units);
- struct: correlation of the luminance gradients of output and photo inside the region (1 = every edge
  of the photo kept, 0 = none);
- leak: how far the region's style spilled onto its styled neighbours (see :func:`style_leak`, Lab units);
- grain: one-pixel texture inside the region (see :func:`fine_grain`; speckle shows here);
- seam: the pipeline's own seam measure (1 = no seam added), and seconds per photo.
Then one summary line per configuration: medians over regions (seam and seconds: over photos).
Needs ../shared/data beside the project. Output PNGs go to --out (default /tmp), and every region's scores
to --out/results.jsonl (benchmarks/quality_summary.py tabulates them per loss and region class).

    python benchmarks/quality.py --photos all --sizes 512 --style-loss gram w2 sliced --out /tmp/q
    python benchmarks/quality.py --photos tubingen_neckarfront --set mask_mode=inside \
        --rule building.content_weight=3 --tag cw3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from judge import Judge, grams, style_distance  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PHOTOS = ("tubingen_neckarfront", "dc_logan_circle_rowhouses_ccbysa40", "dc_arena_stage_highsmith_pd",
          "dc_eastern_market_ccbysa30")
STYLES = {"starry": "vangogh_starry_night.jpg", "klimt": "klimt_adele_bloch_bauer_i.jpg",
          "wave": "hokusai_great_wave.jpg"}
THIRD = ("water", "trees", "road")  # the first one covering >= 5% of the photo gets the third style
KEPT = ("trees", "road", "person", "grass")  # the first other one covering >= 2% is kept as in the photo
MOBILENET_WEIGHTS = DATA / "models" / "mobilenet_v2_imagenet_quant" / "torchvision_state_dict.pt"


@dataclass(frozen=True)
class Variant:
    """One configuration: options for regionstyle.settings.make_config, or a prebuilt (encoder, plan)."""

    tag: str
    options: dict[str, Any] = field(default_factory=dict)
    custom_encoder: tuple | None = None
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    segment: bool = False  # the bundled segmentation network's soft masks instead of the shared label map


@dataclass(frozen=True)
class RegionScore:
    photo: str
    region: str
    style: str
    area: float
    own: float
    other: float
    nearest: str
    closed: float
    colour: float
    structure: float
    leak: float = float("nan")
    grain: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.own / self.other


@dataclass(frozen=True)
class PhotoRun:
    photo: str
    seam: float | None
    seconds: float
    regions: tuple[RegionScore, ...]


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) float32 RGB in [0, 1]."""
    from regionstyle import io

    return io.read_image(path).pixels


def rules_for(photo: str, options: dict[str, dict[str, Any]] | None = None, *, segment: bool = False) -> str:
    """The fixed rules set as TOML: sky -> Starry Night, building -> Klimt, a third class -> Great Wave, one kept.

    options: per region name, extra rule keys (e.g. {"building": {"content_weight": 3}}); a region with
    options is written as a [[rule]] table instead of a [map] entry. segment: leave the label map out, so
    the bundled network segments the photo (soft masks, as a user without a label map gets); the regions are
    chosen from the label map either way.
    """
    from regionstyle import pipeline
    from regionstyle.rules import load_ruleset

    labels = DATA / "labels" / f"{photo}.png"
    segmentation = f'[segmentation]\nlabels = "{labels}"\nclasses = "ade20k"\n\n'
    styles = "[styles]\n" + "".join(f'{name} = "{DATA / "styles" / file}"\n' for name, file in STYLES.items())
    probe = segmentation + styles + "\n[map]\n" + "".join(f'{name} = "keep"\n' for name in dict.fromkeys(THIRD + KEPT))
    shape = cv2.imread(str(labels), cv2.IMREAD_UNCHANGED).shape
    data, _, _ = pipeline.explain(np.zeros((*shape, 3), np.float32), load_ruleset(probe), labels=labels)
    share = {r["region"]: r["share"] for r in data["regions"]}
    third = next((name for name in THIRD if share.get(name, 0) >= 0.05), None)
    kept = next((name for name in KEPT if name != third and share.get(name, 0) >= 0.02), None)
    chosen = {"sky": "starry", "building": "klimt", **({third: "wave"} if third else {}),
              **({kept: "keep"} if kept else {})}
    options = options or {}
    head = styles if segment else segmentation + styles
    rules = head + "\n[map]\n" + "".join(f'{name} = "{style}"\n' for name, style in chosen.items()
                                          if name not in options)
    for name, extra in options.items():
        if name in chosen:
            extra = {"style": chosen[name], **extra}  # e.g. building.style=keep replaces the style
            rules += f'\n[[rule]]\nclasses = ["{name}"]\n' + "".join(
                f"{key} = {json.dumps(value)}\n" for key, value in extra.items())
    return rules


def colour_distance(pixels: np.ndarray, reference: np.ndarray) -> float:
    """Wasserstein-2 distance between Gaussians fitted to two sets of Lab colours ((N, 3) each)."""
    mean_a, mean_b = pixels.mean(0), reference.mean(0)
    cov_a, cov_b = np.cov(pixels.T), np.cov(reference.T)
    root_b = _sqrtm(cov_b)
    cross = _sqrtm(root_b @ cov_a @ root_b)
    squared = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * cross)
    return float(np.sqrt(max(squared, 0.0)))


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def lab(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB in [0, 1] -> (H, W, 3) CIE Lab (L in 0..100)."""
    return cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2LAB)


def structure_kept(output: np.ndarray, photo: np.ndarray, mask: np.ndarray) -> float:
    """Pearson correlation of (gx, gy) luminance gradients of output and photo where mask > 0.5.

    Both are blurred a little first (sigma 1 px): the measure asks whether the photo's edges and shapes
    are still there, not whether the added brush texture matches the photo's fine grain.
    """
    def gradients(image: np.ndarray) -> np.ndarray:
        grey = cv2.GaussianBlur(cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY), (0, 0), 1.0)
        return np.stack([cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)])

    inside = mask > 0.5
    a, b = gradients(output)[:, inside].ravel(), gradients(photo)[:, inside].ravel()
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def fine_grain(image: np.ndarray, mask: np.ndarray, *, inset_px: int = 4) -> float:
    """Mean |image - its 3x3 box blur| (RGB in [0, 1], averaged over channels) inside the region, ``inset_px``
    away from its border: the energy of one-pixel texture such as speckle or a checkerboard.

    The shared photos' skies hold 0.001-0.006; a painted sky with strokes about 0.03, and a speckled one
    more (benchmarks/README.md, "The edge term pixel by pixel"). The inset keeps the border's own
    contrast out of it.
    """
    inside = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((2 * inset_px + 1,) * 2, np.uint8)) > 0
    if not inside.any():
        return float("nan")
    image = image.astype(np.float32)
    return float(np.abs(image - cv2.blur(image, (3, 3))).mean(axis=2)[inside].mean())


def style_leak(output: np.ndarray, photo: np.ndarray, owner: np.ndarray, region: int,
               palettes: dict[int, np.ndarray], *, ring_px: int) -> float:
    """How much the colours of styled neighbours moved towards this region's palette near its border.

    owner: (H, W) hard region index per pixel; palettes: {region index: mean Lab colour of its painting}
    for the styled regions. For each styled neighbour n, the colour change (output - photo, Lab) of its
    pixels is projected on the unit vector from n's painting's mean colour towards this region's; the
    leak is the mean projection over n's pixels within ``ring_px`` of this region minus the mean over
    n's pixels farther away (what n's own style did anyway), averaged over neighbours by ring size.
    0 = no spill; > 0 = the border of the neighbour took on this region's colours (Lab units).
    """
    change = lab(output) - lab(photo)
    distance = cv2.distanceTransform((owner != region).astype(np.uint8), cv2.DIST_L2, 5)
    total, count = 0.0, 0
    for neighbour, palette in palettes.items():
        if neighbour == region:
            continue
        towards = palettes[region] - palette
        towards = towards / max(float(np.linalg.norm(towards)), 1e-6)
        ring = (owner == neighbour) & (distance > 0) & (distance <= ring_px)
        far = (owner == neighbour) & (distance > 3 * ring_px)
        if ring.sum() < 20 or far.sum() < 20:
            continue
        moved = change @ towards
        total += float(moved[ring].mean() - moved[far].mean()) * int(ring.sum())
        count += int(ring.sum())
    return total / count if count else float("nan")


class Scorer:
    """Judge references for every shared painting, computed once, and the per-region measurements."""

    def __init__(self) -> None:
        self.judge = Judge(DATA / "models" / "mobilenet_v1_imagenet_quant" / "model.tflite")
        self.paintings = {path.stem: read_rgb(path) for path in sorted((DATA / "styles").glob("*.jpg"))}
        self.references = {name: grams(self.judge.features(image), None) for name, image in self.paintings.items()}
        self.colours = {name: lab(image).reshape(-1, 3) for name, image in self.paintings.items()}
        self.palettes = {name: colours.mean(axis=0) for name, colours in self.colours.items()}

    def region(self, photo_name: str, name: str, painting: str, output: np.ndarray, photo: np.ndarray,
               mask: np.ndarray, leak: float = float("nan")) -> RegionScore:
        """Scores of one styled region. output, photo: (H, W, 3) in [0, 1]; mask: (H, W) in [0, 1]."""
        out_grams = grams(self.judge.features(output), mask)
        own = style_distance(out_grams, self.references[painting])
        others = {other: style_distance(out_grams, ref) for other, ref in self.references.items() if other != painting}
        nearest = min(others, key=others.get)
        photo_own = style_distance(grams(self.judge.features(photo), mask), self.references[painting])
        colour = colour_distance(lab(output)[mask > 0.5], self.colours[painting])
        return RegionScore(photo_name, name, painting, float(mask.mean()), own, others[nearest], nearest,
                           1.0 - own / photo_own, colour, structure_kept(output, photo, mask), leak,
                           fine_grain(output, mask))


def run_photo(photo: str, variant: Variant, *, size: int, scorer: Scorer, out_dir: Path, session: Any) -> PhotoRun:
    """Stylise one shared photo with ``variant``, save the PNG, and score every styled region."""
    from regionstyle import io, pipeline
    from regionstyle.config import make_config
    from regionstyle.rules import load_ruleset

    ruleset = load_ruleset(rules_for(photo, variant.rules, segment=variant.segment))
    config = make_config(ruleset.defaults, **{"size": size, **variant.options})
    started = time.perf_counter()
    loaded = io.read_image(DATA / "photos" / f"{photo}.jpg")
    result = pipeline.run(loaded, ruleset, config, session=session)
    seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_dir / f"{variant.tag}_{photo}.png"),
                cv2.cvtColor(np.round(result.image * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    height, width = result.image.shape[:2]  # the pipeline's working size; resized the way it resizes
    photo_pixels = np.clip(cv2.resize(loaded.pixels, (width, height), interpolation=cv2.INTER_AREA), 0, 1)
    painting = {name: Path(file).stem for name, file in STYLES.items()}
    entries = result.report["regions"]
    palettes = {index: scorer.palettes[painting[entry["style"]]] for index, entry in enumerate(entries)
                if entry["styled"] and entry["style"] in painting}
    ring = max(3, round(0.02 * max(height, width)))
    scores = []
    for index, (entry, mask) in enumerate(zip(entries, result.masks.masks)):
        if index in palettes:
            leak = style_leak(result.image, photo_pixels, result.masks.owner, index, palettes, ring_px=ring)
            scores.append(scorer.region(photo, entry["name"], painting[entry["style"]], result.image,
                                        photo_pixels, mask, leak))
    return PhotoRun(photo, result.report["seam"], seconds, tuple(scores))


def benchmark(variants: list[Variant], *, photos: tuple[str, ...] = PHOTOS, size: int = 256,
              out_dir: Path = Path("/tmp"), scorer: Scorer | None = None) -> dict[str, list[PhotoRun]]:
    """Run every variant on every photo; prints the tables as it goes and returns the runs per variant tag.

    Each photo's scores are also written to ``out_dir/results.jsonl`` as soon as it is done (replacing an
    earlier line of the same variant, size and photo, so a rerun into the same folder is not counted twice).
    """
    from regionstyle.session import Session

    scorer = scorer or Scorer()
    results = {}
    for variant in variants:
        session = Session(custom_encoder=variant.custom_encoder)
        runs = []
        for photo in photos:
            runs.append(run_photo(photo, variant, size=size, scorer=scorer, out_dir=out_dir, session=session))
            record_result(out_dir / "results.jsonl", {"variant": variant.tag, "size": size, **asdict(runs[-1])})
        print_table(variant.tag, runs)
        results[variant.tag] = runs
    print("\n" + SUMMARY_HEAD)
    for tag, runs in results.items():
        print(summary_line(tag, runs))
    return results


def record_result(log: Path, result: dict[str, Any]) -> None:
    """Append ``result`` to the JSON-lines ``log``, dropping any earlier line of its variant, size and photo."""
    def key(entry: dict[str, Any]) -> tuple:
        return entry["variant"], entry["size"], entry["photo"]

    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    kept = [line for line in lines if line.strip() and key(json.loads(line)) != key(result)]
    log.write_text("".join(line + "\n" for line in [*kept, json.dumps(result)]), encoding="utf-8")


HEAD = (f"{'photo':<22} {'region':<9} {'style':<22} {'area':>5} {'own':>6} {'other':>6} {'ratio':>6} "
        f"{'nearest':<14} {'closed':>6} {'colour':>6} {'struct':>6} {'leak':>5} {'grain':>6}")
SUMMARY_HEAD = (f"{'configuration':<28} {'ratio':>6} {'closed':>6} {'colour':>6} {'struct':>6} "
                f"{'seam':>5} {'sec':>6}   (medians; ratio < 1 = own style nearest)")


def print_table(tag: str, runs: list[PhotoRun]) -> None:
    print(f"\n== {tag}\n{HEAD}")
    for run in runs:
        for s in run.regions:
            print(f"{s.photo[:22]:<22} {s.region[:9]:<9} {s.style[:22]:<22} {s.area:5.2f} {s.own:6.3f} "
                  f"{s.other:6.3f} {s.ratio:6.3f} {s.nearest[:14]:<14} {s.closed:6.3f} {s.colour:6.1f} "
                  f"{s.structure:6.3f} {s.leak:5.1f} {s.grain:6.4f}")
        print(f"{run.photo[:22]:<22} seam {run.seam}  seconds {run.seconds:.1f}")
    sys.stdout.flush()


def summary_line(tag: str, runs: list[PhotoRun]) -> str:
    regions = [s for run in runs for s in run.regions]
    med = lambda values: statistics.median(values) if values else float("nan")  # noqa: E731
    seams = [run.seam for run in runs if run.seam is not None]
    return (f"{tag[:28]:<28} {med([s.ratio for s in regions]):6.3f} {med([s.closed for s in regions]):6.3f} "
            f"{med([s.colour for s in regions]):6.1f} {med([s.structure for s in regions]):6.3f} "
            f"{med(seams):5.2f} {med([run.seconds for run in runs]):6.1f}")


def _value(text: str) -> Any:
    """A command-line value as TOML would read it: numbers and booleans typed, anything else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items: list[str]) -> dict[str, Any]:
    return {key: _value(value) for key, _, value in (item.partition("=") for item in items)}


def _rule_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """"building.content_weight=3" -> {"building": {"content_weight": 3}}."""
    options: dict[str, dict[str, Any]] = {}
    for key, value in _pairs(items).items():
        region, _, name = key.partition(".")
        options.setdefault(region, {})[name] = value
    return options


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="mobilenet_v2", help="auto, vgg19, random, mobilenet_v2 ...")
    parser.add_argument("--size", "--sizes", type=int, nargs="+", default=[256], dest="sizes",
                        help="long side(s) of the runs (256-384 keeps it fast)")
    parser.add_argument("--iterations", type=int, default=None, help="default: the pipeline's")
    parser.add_argument("--style-weight", type=float, default=None, help="default: the encoder's plan")
    parser.add_argument("--style-loss", nargs="+", default=[None], help="gram, w2, sliced (one run each)")
    parser.add_argument("--photos", nargs="+", default=list(PHOTOS),
                        help="names in ../shared/data/photos, or 'all' for every one of them")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="more settings for make_config, e.g. mask_mode=inside feather=0")
    parser.add_argument("--rule", nargs="*", default=[], metavar="REGION.KEY=VALUE",
                        help="rule keys for one region, e.g. building.content_weight=3")
    parser.add_argument("--segment", action="store_true",
                        help="segment with the bundled network (soft masks) instead of the shared label maps")
    parser.add_argument("--tag", default="", help="added to the configuration's name")
    parser.add_argument("--out", type=Path, default=Path("/tmp"), help="folder for the output PNGs")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 keeps timings sane on a CPU shared with other jobs")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        parser.error(f"the shared data folder {DATA} is absent")
    import torch

    torch.set_num_threads(args.threads)  # OpenMP threads spinning against other processes cost 10x
    photos = args.photos
    if photos == ["all"]:
        photos = sorted(path.stem for path in (DATA / "photos").glob("*.jpg"))
    # threads in the config too: the pipeline's default (one per free core, read when it starts) gave two
    # threads to each of two quality runs started together, which then ran 2-7x slower.
    options = {"encoder": args.encoder, "iterations": args.iterations, "style_weight": args.style_weight,
               "threads": args.threads,
               "encoder_weights": str(MOBILENET_WEIGHTS) if args.encoder == "mobilenet_v2" else None,
               **_pairs(args.set)}
    for size in args.sizes:
        variants = []
        for loss in args.style_loss:
            tag = f"{args.encoder}_{size}" + (f"_sw{args.style_weight:g}" if args.style_weight else "")
            tag += (f"_{loss}" if loss else "") + ("_seg" if args.segment else "")
            tag += f"_{args.tag}" if args.tag else ""
            variants.append(Variant(tag, {**options, "style_loss": loss}, rules=_rule_options(args.rule),
                                    segment=args.segment))
        benchmark(variants, photos=tuple(photos), size=size, out_dir=args.out)


if __name__ == "__main__":
    main()
