"""The only module that wires the stages together, for one decoded photo (no files: see files.py).

photo -> segmentation -> rules resolution -> region masks (or a folder of edited region masks instead) ->
built-ins rendered from their regions and laid in; the other regions' style exemplars and targets through one
multi-style optimisation (:mod:`regionstyle.optimized_regions`) -> colour modes -> seam blending ->
:class:`~regionstyle.datatypes.StylizeResult`.

Torch loads only when some region needs the optimiser: a run of built-ins with the bundled segmenter (or a
label map) never imports it, which is most of a preview's time (3-4 s on a 2-core CPU).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import maskrules
from regionstyle import blend, color, limits, segment
from regionstyle.config import TransferConfig, make_config, region_setting, working_size
from regionstyle.datatypes import LoadedImage, RegionMasks, Segmentation, StylizeResult
from regionstyle.report import build_report, explain_report
from regionstyle.segment import mask_folder
from regionstyle.segment import regions as region_stage
from regionstyle.devices import resolve_device
from regionstyle.session import Session
from regionstyle.style import matching, rendered
from regionstyle.threads import use_threads

if TYPE_CHECKING:  # torch loads only when a region needs the optimiser (regionstyle.optimized_regions)
    from regionstyle.optimize import ProgressCallback

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
    optimising = limits.needs_encoder(ruleset, config)
    # A run that does not optimise keeps "auto" for the segmenter to resolve: nothing loads torch to ask.
    device = resolve_device(config.device, keep_auto=not optimising)
    clock = time.perf_counter()
    limits.check_run(photo.size, config, what=str(photo.path or "the photo"), device=_memory_device(device),
                     style_images=limits.image_styles(ruleset), encoder=session.custom_encoder,
                     optimising=optimising)
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


def _memory_device(device: str) -> str:
    """Where the run's big arrays live: a run that keeps ``auto`` renders its built-ins on the CPU."""
    return "cpu" if device == "auto" else device


def _regions(pixels: np.ndarray, ruleset: maskrules.RuleSet, config: TransferConfig, labels: str | Path | None,
             device: str, session: Session, *, segmenter_weights: str | Path | None
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


def segment_photo(pixels: np.ndarray, ruleset: maskrules.RuleSet, labels: str | Path | None, device: str,
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


def segment_painting(leaf: maskrules.StyleRef, ruleset: maskrules.RuleSet, device: str, session: Session,
                     *, segmenter_weights: str | Path | None = None) -> tuple[Segmentation, maskrules.Vocabulary]:
    """The painting of an image style (cropped as the rules say) segmented for a ``match``, and its vocabulary.

    The segmenter is the one the photo would use (the rules' model, else auto); a photo labelled from a
    label map or a mask folder has no model of its own, so its painting gets the rules' choice too. Kept in
    the session per painting and segmenter: a batch segments each painting once. A painting with a label map
    of its own (``labels``) is read from it instead (:func:`painting_label_map`).
    """
    from regionstyle.style.exemplars import exemplar  # torch: a painting is only matched when optimised

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
    from regionstyle.style.exemplars import cropped, painting_size

    vocabulary = segment.load_vocabulary(_label_map_classes(ruleset.segmentation))
    whole = segment.load_label_map_segmentation(leaf.labels, classes=vocabulary, image_size=painting_size(leaf))
    return dataclasses.replace(whole, labels=np.ascontiguousarray(cropped(whole.labels, leaf.crop))), vocabulary


def _label_map_classes(spec: maskrules.SegmentationSpec) -> str | Path:
    """The classes a label map named in the rules is in: its class list, its vocabulary, else ADE20K."""
    return spec.classes_file or spec.classes or "ade20k"


def _painting_labels(ruleset: maskrules.RuleSet, device: str, session: Session, *,
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


def _stylize_regions(pixels: np.ndarray, masks: RegionMasks, resolution: maskrules.Resolution,
                     config: TransferConfig, device: str, session: Session,
                     on_progress: ProgressCallback | None, *, paintings: matching.PaintingLabels | None = None,
                     groups: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Every styled region stylised; returns the (H, W, 3) image and a report.

    Regions styled by built-ins only are laid in as rendered from their own pixels (unless
    ``optimize_builtins``); all the others go through one optimisation together.

    paintings: segments a painting for a ``match`` style; groups: the rules' [groups] (match names).
    """
    styled = [(index, resolution.regions[rule_index])
              for index, (is_styled, rule_index) in enumerate(zip(masks.styled, masks.rule_index)) if is_styled]
    laid_in = {} if config.optimize_builtins else {
        index: rendered.render(rule.style, pixels, masks.masks[index], seed=config.seed,
                               color_mode=region_setting(rule, config, "color"))
        for index, rule in styled if rendered.builtins_only(rule.style)}
    report: dict[str, Any] = {"encoder": dict(NO_ENCODER), "losses": {},
                              "laid_in": [masks.names[index] for index in laid_in]}
    palettes = [(index, laid_in[index].palette()) for index, rule in styled
                if index in laid_in and region_setting(rule, config, "color") == "style"]
    optimised = [(index, rule) for index, rule in styled if index not in laid_in]
    if optimised:
        from regionstyle import optimized_regions  # torch and the encoder load here, and only here

        image = optimized_regions.stylize(pixels, masks, optimised, config, device, session, on_progress,
                                          palettes=palettes, paintings=paintings, groups=groups, report=report)
    else:
        image = color.styled_start(pixels, masks.masks, palettes)
    # A laid-in rendering is as opaque as its rule's strength (up to 1): ``strength = 0.5`` shows it half
    # over the photo (recoloured as the colour mode says).
    layers = [(index, laid_in[index].blended(), min(1.0, rule.strength)) for index, rule in styled if index in laid_in]
    image = rendered.lay_in(image, masks.masks, layers)
    return _preserve_colours(image, pixels, masks, resolution, config), report


def _preserve_colours(result: np.ndarray, pixels: np.ndarray, masks: RegionMasks,
                      resolution: maskrules.Resolution, config: TransferConfig) -> np.ndarray:
    """Put the photo's chroma back in ``color = "preserve"`` regions (luminance-only transfer)."""
    for index, (styled, rule_index) in enumerate(zip(masks.styled, masks.rule_index)):
        if styled and region_setting(resolution.regions[rule_index], config, "color") == "preserve":
            weight = masks.masks[index][..., None]
            result = result * (1 - weight) + color.keep_photo_chroma(result, pixels) * weight
    return result.astype(np.float32, copy=False)


def explain(pixels: np.ndarray, ruleset: maskrules.RuleSet, *, labels: str | Path | None = None,
            classes: str | Path | None = None, segmenter_weights: str | Path | None = None,
            device: str = "auto", session: Session | None = None
            ) -> tuple[dict[str, Any], RegionMasks, Segmentation]:
    """What the rules do to this photo, without stylising: regions, classes found, shares, unused rules."""
    session, where = session or Session(), resolve_device(device, keep_auto=True)
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
