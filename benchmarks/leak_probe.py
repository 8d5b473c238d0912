"""Where does each region's style force act? The share of its style gradient that lands outside its region.

    python benchmarks/leak_probe.py --photo dc_eastern_market_ccbysa30 --size 512 [--losses gram w2 sliced]

For each style loss (and mask mode) it builds the quality benchmark's problem (benchmarks/quality.py rules)
at the finest scale, takes the gradient of each styled region's style term alone with respect to the
pixels of the start image, and prints the share of its magnitude (sum of |grad|) on pixels outside the
region's hard mask beyond the feather band (4 px), and the part of that within 4x the band.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_losses import problem_for  # noqa: E402

BAND = 4.0  # the default feather width: the blend mixes within it anyway


def outside_share(grad: np.ndarray, owner: np.ndarray, index: int, band: float) -> tuple[float, float]:
    """(share of grad beyond ``band`` px outside region ``index``, share within band..4*band)."""
    distance = cv2.distanceTransform((owner != index).astype(np.uint8), cv2.DIST_L2, 5)
    total = max(float(grad.sum()), 1e-30)
    far = distance > band
    return float(grad[far].sum() / total), float(grad[far & (distance <= 4 * band)].sum() / total)


def region_gradients(problem, encoder, start: torch.Tensor):
    """Per styled region: (name, |d style term / d pixels| summed over channels, (h, w))."""
    from regionstyle.objective import _region_style

    for term in problem.regions:
        pixels = start.clone().requires_grad_(True)
        features = encoder(pixels.contiguous(memory_format=torch.channels_last), taps=problem.plan.own_taps)
        rows = {tap: f[0].permute(1, 2, 0).reshape(-1, f.shape[1]) for tap, f in features.items()}
        _region_style(rows, term, problem.plan).backward()
        yield term.name, pixels.grad[0].abs().sum(0).numpy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo", nargs="+", default=["dc_eastern_market_ccbysa30"])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--losses", nargs="+", default=["gram", "w2", "sliced"])
    parser.add_argument("--modes", nargs="+", default=["soft"], help="mask modes: simple, soft, inside")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from regionstyle.session import Session

    session = Session()
    for photo in args.photo:
        for mode in args.modes:
            for loss in args.losses:
                problem, encoder, start, owner = problem_for(photo, loss, encoder_name=args.encoder, size=args.size,
                                                             session=session, extra={"mask_mode": mode},
                                                             with_owner=True)
                for index, (name, grad) in enumerate(region_gradients(problem, encoder, start)):
                    far, near = outside_share(grad, owner, index, BAND)
                    print(f"{photo[:20]:<20} {mode:<6} {loss:<6} {name:<9} style gradient outside its region: "
                          f"beyond {BAND:g} px {far:.4f}  (of which {BAND:g}-{4 * BAND:g} px: {near:.4f})", flush=True)


if __name__ == "__main__":
    main()
