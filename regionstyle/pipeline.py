"""The only module that wires the stages together, for one decoded photo (no files: see files.py).

photo -> segmentation -> rules resolution -> region masks (or a folder of edited region masks instead) -> style
exemplars and targets -> one multi-style optimisation -> colour modes -> seam blending ->
:class:`~regionstyle.datatypes.StylizeResult`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import maskrules
from regionstyle import blend, color, limits, optimize, segment
from regionstyle.config import TransferConfig, make_config, working_size
from regionstyle.datatypes import LoadedImage, RegionMasks, Segmentation, StylizeResult
from regionstyle.optimize import ProgressCallback, StyledRegion
from regionstyle.report import build_report, explain_report
from regionstyle.segment import mask_folder
from regionstyle.segment import regions as region_stage
from regionstyle.session import Session, resolve_device
from regionstyle.threads import ThreadBalance, use_threads
from regionstyle.style import matching
from regionstyle.style import region as region_styles
from regionstyle.style.exemplars import cropped, exemplar, painting_size, style_source

log = logging.getLogger(__name__)
# The report's encoder when no region needed one (every styled region a built-in, laid in as rendered).
NO_ENCODER = {"name": None, "weights": None,
              "choice": "none loaded: no styled region needed the optimiser (built-ins are laid in as rendered "
                        "unless optimize_builtins is set)"}


def run(photo: LoadedImage, ruleset: maskrules.RuleSet, config: TransferConfig, *,
        labels: str | Path | None = None, segmenter_weights: str | Path | None = None,
        session: Session | None = None, on_progress: ProgressCallback | None = None) -> StylizeResult:
    """Stylise one decoded photo with a parsed rules file and a checked config (no files are written)."""
    session = session or Session()
    clock = time.perf_counter()
    device = resolve_device(config.device)
    limits.check_run(photo.size, config, what=str(photo.path or "the photo"), device=str(device),
                     style_images=limits.image_styles(ruleset), encoder=session.custom_encoder,
                     optimising=limits.needs_encoder(ruleset, config))
    threads = use_threads(config.threads)
    pixels, alpha = _working_pixels(photo, config)
    segmentation, segmenter_note, resolution, masks = _regions(pixels, ruleset, config, labels, device, session,
                                                               segmenter_weights=segmenter_weights)
    timings = {"segment": time.perf_counter() - clock}
    paintings = _painting_labels(ruleset, device, session, segmenter_weights=segmenter_weights)
    stylized, optimise_report = _stylize_regions(pixels, masks, resolution, config, device, session, on_progress,
                                                 paintings=paintings, groups=ruleset.groups)
    timings["optimise"] = time.perf_counter() - clock - timings["segment"]
    weight = blend.keep_weight(masks, feather_px=config.feather)
    final = blend.composite(stylized, pixels, weight, feather_px=config.feather)
    labels_map = masks.owner if masks.owner is not None else np.argmax(masks.masks, axis=0)
    timings["total"] = time.perf_counter() - clock
    report = build_report(config, segmentation, segmenter_note, masks, resolution, optimise_report,
                          seam=blend.seam_score(final, pixels, labels_map), timings=timings, threads=threads)
    return StylizeResult(final, alpha, pixels, masks, segmentation, report)


def _regions(pixels: np.ndarray, ruleset: maskrules.RuleSet, config: TransferConfig, labels: str | Path | None,
             device: torch.device, session: Session, *, segmenter_weights: str | Path | None
             ) -> tuple[Segmentation, str, maskrules.Resolution, RegionMasks]:
    """Region masks from a folder of edited masks (``labels`` naming a folder, ``[segmentation] masks``),
    else by segmenting; with the segmentation, a note saying which, and the rules' resolution."""
    folder = mask_folder.chosen_folder(labels, ruleset.segmentation)
    if folder is not None:
        spec = ruleset.segmentation
        resolution = maskrules.resolve(ruleset, spec.vocabulary or maskrules.get_vocabulary(spec.classes or "ade20k"))
        segmentation, masks = mask_folder.regions_from_folder(folder, resolution, size=pixels.shape[:2],
                                                              feather_px=config.feather)
        return segmentation, f"region masks {folder}", resolution, masks
    segmentation, note = segment_photo(pixels, ruleset, labels, device, session, segmenter_weights=segmenter_weights)
    resolution = maskrules.resolve(ruleset, vocabulary_of(segmentation, ruleset))
    masks = region_stage.build_region_masks(segmentation, resolution, min_area=ruleset.segmentation.min_area,
                                            feather_px=config.feather, min_island=config.min_island)
    return segmentation, note, resolution, masks


def _working_pixels(photo: LoadedImage, config: TransferConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """The photo (and alpha) at the working size: the input's own size unless ``config.size`` says otherwise."""
    size = working_size(photo.size, config)
    if size == photo.size:
        return photo.pixels, photo.alpha
    import cv2

    dsize = (size[1], size[0])
    # Area averaging shrinks without aliasing, but enlarging with it repeats pixels (OpenCV's INTER_AREA acts
    # as nearest neighbour then): a 1024 px photo run at 4096 px came out in 4x4 blocks that the style
    # then traced. Bicubic enlarges smoothly; the clip removes its overshoot.
    method = cv2.INTER_AREA if max(size) < max(photo.size) else cv2.INTER_CUBIC
    pixels = cv2.resize(photo.pixels, dsize, interpolation=method)
    alpha = None if photo.alpha is None else np.clip(cv2.resize(photo.alpha, dsize, interpolation=method), 0, 1)
    return np.clip(pixels, 0, 1).astype(np.float32), alpha


def segment_photo(pixels: np.ndarray, ruleset: maskrules.RuleSet, labels: str | Path | None, device: torch.device,
                  session: Session, classes: str | Path | None = None, *,
                  segmenter_weights: str | Path | None = None) -> tuple[Segmentation, str]:
    """Labels from a label map (argument, then rules) or from a segmenter (the rules' choice, or auto),
    and a note saying which ran and why."""
    spec = ruleset.segmentation
    label_file = Path(labels) if labels else spec.labels
    if label_file is not None:
        classes = classes or _label_map_classes(spec)
        seg = segment.load_label_map_segmentation(label_file, classes=classes, image_size=pixels.shape[:2])
        return seg, f"label map {label_file}"
    name, reason = _segmenter_choice(ruleset)
    segmenter = session.segmenter(name, spec, str(device), segmenter_weights)
    log.info("segmenter: %s (%s)", name, reason)
    return segmenter.segment([pixels])[0], reason


def segment_painting(leaf: maskrules.StyleRef, ruleset: maskrules.RuleSet, device: torch.device, session: Session,
                     *, segmenter_weights: str | Path | None = None) -> tuple[Segmentation, maskrules.Vocabulary]:
    """The painting of an image style (cropped as the rules say) segmented for a ``match``, and its vocabulary.

    The segmenter is the one the photo would use (the rules' model, else auto); a photo labelled from a
    label map or a mask folder has no model of its own, so its painting gets the rules' choice too. Kept in
    the session per painting and segmenter: a batch segments each painting once. A painting with a label map
    of its own (``labels``) is read from it instead (:func:`painting_label_map`).
    """
    if leaf.labels is not None:
        return painting_label_map(leaf, ruleset)
    name, _ = _segmenter_choice(ruleset)
    key = (str(leaf.image), leaf.crop, name, ruleset.segmentation, str(device), str(segmenter_weights))
    if key not in session.paintings:
        pixels = np.ascontiguousarray(exemplar(leaf).permute(1, 2, 0).numpy())
        segmenter = session.segmenter(name, ruleset.segmentation, str(device), segmenter_weights)
        labels = segmenter.segment([pixels])[0]
        try:
            vocabulary = maskrules.get_vocabulary(labels.vocabulary)
        except maskrules.RuleError:
            vocabulary = maskrules.vocabulary_from_class_list("\n".join(labels.class_names))
        session.paintings[key] = (labels, vocabulary)
    return session.paintings[key]


def painting_label_map(leaf: maskrules.StyleRef, ruleset: maskrules.RuleSet
                       ) -> tuple[Segmentation, maskrules.Vocabulary]:
    """The user's label map of a painting (``labels`` on its image style) in the rules' classes, cropped as
    the painting is: it is made for the whole painting, so it is fitted to the whole painting first."""
    vocabulary = segment.load_vocabulary(_label_map_classes(ruleset.segmentation))
    whole = segment.load_label_map_segmentation(leaf.labels, classes=vocabulary, image_size=painting_size(leaf))
    return dataclasses.replace(whole, labels=np.ascontiguousarray(cropped(whole.labels, leaf.crop))), vocabulary


def _label_map_classes(spec: maskrules.SegmentationSpec) -> str | Path:
    """The classes a label map named in the rules is in: its class list, its vocabulary, else ADE20K."""
    return spec.classes_file or spec.classes or "ade20k"


def _painting_labels(ruleset: maskrules.RuleSet, device: torch.device, session: Session, *,
                     segmenter_weights: str | Path | None) -> matching.PaintingLabels:
    return lambda leaf: segment_painting(leaf, ruleset, device, session, segmenter_weights=segmenter_weights)


def _segmenter_choice(ruleset: maskrules.RuleSet) -> tuple[str, str]:
    spec = ruleset.segmentation
    if spec.model_file is not None:
        return str(spec.model_file), f"{spec.model_file}: the model file named in the rules"
    if spec.model != "auto":
        return spec.model, f"{spec.model}: named in the rules"
    return segment.choose_segmenter(ruleset.class_names_used())


def vocabulary_of(segmentation: Segmentation, ruleset: maskrules.RuleSet) -> maskrules.Vocabulary:
    """The vocabulary the segmentation's ids are in (a built-in one when the class list matches)."""
    if ruleset.segmentation.vocabulary is not None and ruleset.segmentation.labels is not None:
        return ruleset.segmentation.vocabulary
    try:
        return maskrules.get_vocabulary(segmentation.vocabulary)
    except maskrules.RuleError:
        return maskrules.vocabulary_from_class_list("\n".join(segmentation.class_names))


def region_setting(region: maskrules.ResolvedRegion, config: TransferConfig, name: str) -> Any:
    """A per-rule setting of a region: the rule's own value, else the run's."""
    return region.settings.get(name, getattr(config, name))


def _stylize_regions(pixels: np.ndarray, masks: RegionMasks, resolution: maskrules.Resolution,
                     config: TransferConfig, device: torch.device, session: Session,
                     on_progress: ProgressCallback | None, *, paintings: matching.PaintingLabels | None = None,
                     groups: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Every styled region stylised; returns the (H, W, 3) image and a report.

    Regions styled by built-ins only are laid in as rendered from their own pixels (unless
    ``optimize_builtins``); all the others go through one optimisation together.

    paintings: segments a painting for a ``match`` style; groups: the rules' [groups] (match names).
    """
    content = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).to(device)
    mask_tensor = torch.from_numpy(masks.masks).to(device)
    matches: dict[str, list[dict]] = {}
    styled = _styled_regions(masks, resolution, content, mask_tensor, config, paintings=paintings,
                             groups=groups or {}, matches=matches)
    laid_in = [] if config.optimize_builtins else [r for r in styled if _laid_in(r)]
    optimised = [r for r in styled if r not in laid_in]
    report: dict[str, Any] = {"encoder": dict(NO_ENCODER), "losses": {}, "laid_in": [r.name for r in laid_in]}
    if matches:
        report["matches"] = matches
    if not styled:
        return pixels.copy(), report
    init = _start_image(config, content, mask_tensor, styled, painted=optimised)
    if not optimised:  # no network is loaded (nor torchvision imported): a preview of built-ins takes seconds
        return _finish(_lay_in(init, mask_tensor, laid_in), content, mask_tensor, masks, resolution, config), report
    network, plan, why = session.encoder(config, device)
    report["encoder"] = {**vars(network.info), "choice": why}
    last: dict[str, Any] = {}
    balance = ThreadBalance() if config.threads == 0 and device.type == "cpu" else None

    def progress(step: Any) -> None:
        last["losses"] = step.losses
        if balance is not None:
            balance.check()
        if on_progress is not None:
            on_progress(step)

    # Built-ins rendered from the regions are laid in again at every finer scale (their grout and hatching
    # do not survive the coarse scales); their targets belong to this photo only. A layered style gets back
    # only its fine part's detail, so its coarse part's motifs survive (docs/rules.md).
    anchor = region_styles.anchor(content, mask_tensor, [(r.index, r.source) for r in optimised if r.coarse is None])
    detail_anchor = region_styles.anchor(content, mask_tensor,
                                         [(r.index, r.source) for r in optimised if r.coarse is not None])
    try:
        result = optimize.optimize(content, mask_tensor, optimised, encoder=network, plan=plan, config=config,
                                   init=init, on_progress=progress, target_cache=session.targets, anchor=anchor,
                                   detail_anchor=detail_anchor)
    finally:
        session.forget_photo_targets()
    report["losses"] = last.get("losses", {})
    return _finish(_lay_in(result, mask_tensor, laid_in), content, mask_tensor, masks, resolution, config), report


def _lay_in(image: torch.Tensor, mask_tensor: torch.Tensor, laid_in: list[StyledRegion]) -> torch.Tensor:
    """``image`` with each laid-in region's rendering over it, as opaque as the rule's strength (up to 1):
    ``strength = 0.5`` shows the rendering half over the photo (recoloured as the colour mode says)."""
    opacity = torch.ones(mask_tensor.shape[0], 1, 1, dtype=mask_tensor.dtype, device=mask_tensor.device)
    for region in laid_in:
        opacity[region.index] = min(1.0, region.strength)
    return region_styles.paint_starts(image, mask_tensor * opacity, [(r.index, r.source) for r in laid_in])


def _finish(result: torch.Tensor, content: torch.Tensor, mask_tensor: torch.Tensor, masks: RegionMasks,
            resolution: maskrules.Resolution, config: TransferConfig) -> np.ndarray:
    """The stylised (3, H, W) tensor with ``color = "preserve"`` applied, as an (H, W, 3) float32 array."""
    result = _preserve_colours(result, content, mask_tensor, masks, resolution, config)
    return result.permute(1, 2, 0).cpu().numpy().astype(np.float32)


def _laid_in(region: StyledRegion) -> bool:
    """A region whose style is built-ins only (no coarse part): its rendering is laid in as the result."""
    return region.coarse is None and region_styles.finished(region.source)


def _start_image(config: TransferConfig, content: torch.Tensor, mask_tensor: torch.Tensor,
                 styled: list[StyledRegion], *, painted: list[StyledRegion]) -> torch.Tensor:
    """Where the optimisation starts: a given image (resized), or the photo recoloured per region with the
    renderings of the ``painted`` regions' built-ins laid in."""
    if config.init not in ("content", "noise"):
        from regionstyle import io

        pixels = io.read_image(config.init).pixels
        start = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))
        return torch.nn.functional.interpolate(start[None], size=tuple(content.shape[-2:]), mode="bilinear",
                                               antialias=True)[0].to(content.device)
    start = color.styled_start(content, mask_tensor, [(r.index, r.source) for r in styled if r.use_color])
    return region_styles.paint_starts(start, mask_tensor, [(r.index, r.source) for r in painted])


def _styled_regions(masks: RegionMasks, resolution: maskrules.Resolution, content: torch.Tensor,
                    mask_tensor: torch.Tensor, config: TransferConfig, *,
                    paintings: matching.PaintingLabels | None = None, groups: Any = None,
                    matches: dict[str, list[dict]] | None = None) -> list[StyledRegion]:
    """The styled regions with their style sources; ``matches`` collects, per region, what each ``match``
    read of its painting."""
    regions = []
    for index, (styled, rule_index) in enumerate(zip(masks.styled, masks.rule_index)):
        if not styled:
            continue
        rule = resolution.regions[rule_index]
        mode = region_setting(rule, config, "color")
        found = matching.match_region(rule, paintings, groups or {}) if paintings is not None else {}
        if found and matches is not None:
            matches[masks.names[index]] = [m.row() for m in found.values()]
        # A layered style: the fine part gives the fine taps, the colour and the start; the coarse part the
        # deep taps (regionstyle.style.layered).
        fine, coarse = rule.style.layers if rule.style.kind == "layers" else (rule.style, None)
        sources = [None if ref is None else _source(ref, content, mask_tensor[index], config.seed, mode,
                                                    matching.painting_masks(found))
                   for ref in (fine, coarse)]
        regions.append(StyledRegion(masks.names[index], index, sources[0], rule.strength,
                                    rule.settings.get("content_weight"), use_color=mode == "style",
                                    coarse=sources[1], style_loss=region_setting(rule, config, "style_loss"),
                                    edge_weight=_edge_weight(rule, fine, coarse)))
    return regions


def _edge_weight(rule: maskrules.ResolvedRegion, fine: maskrules.StyleRef, coarse: maskrules.StyleRef | None
                 ) -> float | None:
    """A region's own edge weight: its rule's; else 0 for a plain built-in (None: the run's).

    A built-in is rendered from the region's own pixels and laid in again at every scale: its tiles and
    cells already follow the region's shape, and holding it to the photo's Laplacian as well would pull it
    away from that rendering. A layered style keeps the run's weight: its coarse painting needs the edges.
    """
    own = rule.settings.get("edge_weight")
    if own is None and coarse is None and region_styles.renders_from_region(fine):
        return 0.0
    return own


def _source(ref: maskrules.StyleRef, content: torch.Tensor, mask: torch.Tensor, seed: int, mode: str,
            painting_masks: dict) -> Any:
    """A style's StyleSource: built-ins rendered from the region's own pixels, paintings as exemplars
    (masked where a ``match`` chose a part)."""
    if region_styles.renders_from_region(ref):
        return region_styles.region_source(ref, content=content, mask=mask, seed=seed, color_mode=mode,
                                           painting_masks=painting_masks)
    return style_source(ref, color_mode=mode, content=content, mask=mask, painting_masks=painting_masks)


def _preserve_colours(result: torch.Tensor, content: torch.Tensor, mask_tensor: torch.Tensor,
                      masks: RegionMasks, resolution: maskrules.Resolution, config: TransferConfig) -> torch.Tensor:
    """Put the photo's chroma back in ``color = "preserve"`` regions (luminance-only transfer)."""
    for index, (styled, rule_index) in enumerate(zip(masks.styled, masks.rule_index)):
        if styled and region_setting(resolution.regions[rule_index], config, "color") == "preserve":
            weight = mask_tensor[index][None]
            result = result * (1 - weight) + color.keep_photo_chroma(result, content) * weight
    return result


def explain(pixels: np.ndarray, ruleset: maskrules.RuleSet, *, labels: str | Path | None = None,
            classes: str | Path | None = None, segmenter_weights: str | Path | None = None,
            device: str = "auto", session: Session | None = None
            ) -> tuple[dict[str, Any], RegionMasks, Segmentation]:
    """What the rules do to this photo, without stylising: regions, classes found, shares, unused rules."""
    session, where = session or Session(), resolve_device(device)
    seg, note = segment_photo(pixels, ruleset, labels, where, session, classes, segmenter_weights=segmenter_weights)
    vocabulary = vocabulary_of(seg, ruleset) if classes is None else _vocabulary_named(classes)
    resolution = maskrules.resolve(ruleset, vocabulary)
    masks = region_stage.build_region_masks(seg, resolution, min_area=ruleset.segmentation.min_area,
                                            min_island=make_config(ruleset.defaults).min_island)
    report = explain_report(seg, note, vocabulary, resolution, ruleset)
    paintings = _painting_labels(ruleset, where, session, segmenter_weights=segmenter_weights)
    for row, region in zip(report["regions"], resolution.regions):
        found = matching.match_region(region, paintings, ruleset.groups)
        if found:  # which share of each matched painting the region reads
            row["matches"] = [m.row() for m in found.values()]
    return report, masks, seg


def _vocabulary_named(classes: str | Path) -> maskrules.Vocabulary:
    """A vocabulary from a built-in name or a class-list file."""
    if Path(classes).is_file():
        return maskrules.load_class_list(classes)
    return maskrules.get_vocabulary(str(classes))
