"""The pipeline's optimised half: the regions whose style needs the optimiser (paintings, layered styles,
built-ins with ``optimize_builtins``), their style sources, start image and anchors, and one multi-style
optimisation over all of them.

Split from :mod:`regionstyle.pipeline` so that torch and the encoder load only when a region needs them: a
run whose styled regions are all built-ins lays their renderings in (:mod:`regionstyle.style.rendered`)
without either.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import maskrules
from regionstyle import color, optimize
from regionstyle.config import TransferConfig, region_setting
from regionstyle.datatypes import RegionMasks
from regionstyle.optimize import ProgressCallback, StyledRegion
from regionstyle.session import Session
from regionstyle.style import matching
from regionstyle.style import region as region_styles
from regionstyle.style.exemplars import style_source
from regionstyle.style.rendered import renders_from_region
from regionstyle.threads import ThreadBalance


def stylize(pixels: np.ndarray, masks: RegionMasks, chosen: list[tuple[int, maskrules.ResolvedRegion]],
             config: TransferConfig, device: str, session: Session, on_progress: ProgressCallback | None, *,
             palettes: list[tuple[int, color.Moments]], paintings: matching.PaintingLabels | None,
             groups: Any, report: dict[str, Any]) -> np.ndarray:
    """The photo (H, W, 3) with the ``chosen`` (mask row, rule) regions optimised together; float32 (H, W, 3).

    palettes: the colours the other styled regions start from (the optimiser sees the whole picture);
    report: gets the encoder, the final losses and what each ``match`` read.
    """
    where = torch.device(device)
    content = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).to(where)
    mask_tensor = torch.from_numpy(masks.masks).to(where)
    matches: dict[str, list[dict]] = {}
    regions = [_styled_region(index, rule, masks, content, mask_tensor, config, paintings=paintings,
                              groups=groups, matches=matches) for index, rule in chosen]
    if matches:
        report["matches"] = matches
    init = _start_image(config, pixels, masks, regions, palettes).to(where)
    network, plan, why = session.encoder(config, where)
    report["encoder"] = {**vars(network.info), "choice": why}
    last: dict[str, Any] = {}
    balance = ThreadBalance() if config.threads == 0 and where.type == "cpu" else None

    def progress(step: Any) -> None:
        last["losses"] = step.losses
        if balance is not None:
            balance.check()
        if on_progress is not None:
            on_progress(step)

    # Built-ins rendered from the regions are laid in again at every finer scale (their grout and hatching
    # do not survive the coarse scales); their targets belong to this photo only. A layered style gets back
    # only its fine part's detail, so its coarse part's motifs survive (docs/rules.md).
    anchor = _on(where, region_styles.anchor(pixels, masks.masks,
                                             [(r.index, r.source) for r in regions if r.coarse is None]))
    detail_anchor = _on(where, region_styles.anchor(pixels, masks.masks,
                                                    [(r.index, r.source) for r in regions if r.coarse is not None]))
    try:
        result = optimize.optimize(content, mask_tensor, regions, encoder=network, plan=plan, config=config,
                                   init=init, on_progress=progress, target_cache=session.targets, anchor=anchor,
                                   detail_anchor=detail_anchor)
    finally:
        session.forget_photo_targets()
    report["losses"] = last.get("losses", {})
    return result.permute(1, 2, 0).cpu().numpy().astype(np.float32)


def _start_image(config: TransferConfig, pixels: np.ndarray, masks: RegionMasks, regions: list[StyledRegion],
                 palettes: list[tuple[int, color.Moments]]) -> torch.Tensor:
    """Where the optimisation starts, (3, H, W) on the CPU: a given image (resized), or the photo recoloured
    per region (the optimised regions' styles' palettes and the ``palettes`` of the others) with the
    renderings of the optimised regions' built-ins laid in."""
    if config.init not in ("content", "noise"):
        from regionstyle import io

        start = torch.from_numpy(np.ascontiguousarray(io.read_image(config.init).pixels.transpose(2, 0, 1)))
        return torch.nn.functional.interpolate(start[None], size=pixels.shape[:2], mode="bilinear",
                                               antialias=True)[0]
    own = [(r.index, _palette(r.source)) for r in regions if r.use_color]
    start = color.styled_start(pixels, masks.masks, sorted(own + palettes, key=lambda pair: pair[0]))
    start = region_styles.paint_starts(start, masks.masks, [(r.index, r.source) for r in regions])
    return torch.from_numpy(np.ascontiguousarray(start.transpose(2, 0, 1)))


def _on(device: torch.device, anchor: tuple[torch.Tensor, ...] | None) -> tuple[torch.Tensor, ...] | None:
    """An anchor moved to the optimiser's device (it is resized there at every scale)."""
    return None if anchor is None else tuple(part.to(device) for part in anchor)


def _palette(source: Any) -> color.Moments:
    """A StyleSource's colours: its images' moments, weighted by their shares."""
    return color.blended_moments([image.permute(1, 2, 0).numpy() for image in source.images], source.weights)


def _styled_region(index: int, rule: maskrules.ResolvedRegion, masks: RegionMasks, content: torch.Tensor,
                   mask_tensor: torch.Tensor, config: TransferConfig, *, paintings: matching.PaintingLabels | None,
                   groups: Any, matches: dict[str, list[dict]]) -> StyledRegion:
    """One optimised region with its style sources; ``matches`` collects what each ``match`` read of its
    painting."""
    mode = region_setting(rule, config, "color")
    found = matching.match_region(rule, paintings, groups or {}) if paintings is not None else {}
    if found:
        matches[masks.names[index]] = [m.row() for m in found.values()]
    # A layered style: the fine part gives the fine taps, the colour and the start; the coarse part the
    # deep taps (regionstyle.style.layered).
    fine, coarse = rule.style.layers if rule.style.kind == "layers" else (rule.style, None)
    sources = [None if ref is None else _source(ref, content, mask_tensor[index], config.seed, mode,
                                                matching.painting_masks(found))
               for ref in (fine, coarse)]
    return StyledRegion(masks.names[index], index, sources[0], rule.strength, rule.settings.get("content_weight"),
                        use_color=mode == "style", coarse=sources[1],
                        style_loss=region_setting(rule, config, "style_loss"),
                        edge_weight=_edge_weight(rule, fine, coarse))


def _edge_weight(rule: maskrules.ResolvedRegion, fine: maskrules.StyleRef, coarse: maskrules.StyleRef | None
                 ) -> float | None:
    """A region's own edge weight: its rule's; else 0 for a plain built-in (None: the run's).

    A built-in is rendered from the region's own pixels and laid in again at every scale: its tiles and
    cells already follow the region's shape, and holding it to the photo's Laplacian as well would pull it
    away from that rendering. A layered style keeps the run's weight: its coarse painting needs the edges.
    """
    own = rule.settings.get("edge_weight")
    if own is None and coarse is None and renders_from_region(fine):
        return 0.0
    return own


def _source(ref: maskrules.StyleRef, content: torch.Tensor, mask: torch.Tensor, seed: int, mode: str,
            painting_masks: dict) -> Any:
    """A style's StyleSource: built-ins rendered from the region's own pixels, paintings as exemplars
    (masked where a ``match`` chose a part)."""
    if renders_from_region(ref):
        return region_styles.region_source(ref, content=content, mask=mask, seed=seed, color_mode=mode,
                                           painting_masks=painting_masks)
    return style_source(ref, color_mode=mode, content=content, mask=mask, painting_masks=painting_masks)
