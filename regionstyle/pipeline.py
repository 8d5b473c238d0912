"""The only module that wires every stage together, and the Python API.

photo -> segmentation -> rules resolution -> region masks -> style exemplars and targets -> one multi-style
optimisation -> colour modes -> seam blending -> result (+ a report for manifests).

``stylize`` takes and returns PIL images or numpy arrays; ``run`` is the file-free core that the CLI and
batch mode share; a :class:`Session` keeps models, exemplars and style targets across images.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch

import maskrules
from regionstyle.segment import regions as region_stage
from regionstyle import segment, styles
from regionstyle.datatypes import LoadedImage, RegionMasks, Segmentation, TransferConfig
from regionstyle.errors import BadInput
from regionstyle.style.exemplars import style_source
from regionstyle.optimize import ProgressCallback, StyledRegion, TargetCache
from regionstyle.settings import make_config, working_size
from regionstyle import blend, color, optimize, encoder as encoders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StylizeResult:
    """image: float32 (H, W, 3) in [0, 1]; alpha as read (resized with the image) or None; report: JSON-able."""

    image: np.ndarray
    alpha: np.ndarray | None
    masks: RegionMasks
    segmentation: Segmentation
    report: dict[str, Any]


@dataclass
class Session:
    """Work shared across images: loaded encoders and segmenters, style targets per (style, scale).

    custom_encoder: a prebuilt (FeatureEncoder, LayerPlan) to use instead of the configured encoder
    (tests use a tiny random network; embedders may bring their own).
    """

    custom_encoder: tuple[encoders.FeatureEncoder, encoders.LayerPlan] | None = None
    encoders: dict[tuple, tuple[encoders.FeatureEncoder, str | None]] = field(default_factory=dict)
    segmenters: dict[tuple, Any] = field(default_factory=dict)
    targets: TargetCache = field(default_factory=dict)

    def encoder(self, config: TransferConfig, device: torch.device
                ) -> tuple[encoders.FeatureEncoder, encoders.LayerPlan, str | None]:
        """The feature network for ``config`` on ``device``, its layer plan, and a fallback warning or None."""
        if self.custom_encoder is not None:
            network, plan = self.custom_encoder
            return network.to(device), plan, None
        key = (config.encoder, config.encoder_weights, config.seed, str(device))
        if key not in self.encoders:
            network, warning = encoders.load_encoder(config.encoder, weights_file=config.encoder_weights,
                                                     seed=config.seed)
            self.encoders[key] = (network.to(device).to(memory_format=torch.channels_last), warning)
        network, warning = self.encoders[key]
        return network, encoders.LAYER_PLANS[network.info.name], warning

    def segmenter(self, name: str, spec: maskrules.SegmentationSpec, device: str,
                  weights: str | Path | None = None) -> Any:
        key = (name, spec, device, str(weights))
        if key not in self.segmenters:
            self.segmenters[key] = segment.build_segmenter(name, device=device, spec=spec, weights=weights)
        return self.segmenters[key]


def resolve_device(name: str) -> torch.device:
    """``auto`` = CUDA when present, else CPU; anything else as torch understands it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise BadInput(f"unknown device {name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda was asked for, but this machine has no CUDA GPU; use --device cpu")
    return device


def load_ruleset(rules: maskrules.RuleSet | str | Path) -> maskrules.RuleSet:
    """A RuleSet from a RuleSet, a rules file path, or TOML text (anything containing a newline or '=')."""
    if isinstance(rules, maskrules.RuleSet):
        return rules
    builtin = styles.builtin_param_names()
    text = str(rules)
    if isinstance(rules, str) and ("\n" in text or "=" in text):
        return maskrules.parse_rules(text, builtin_styles=builtin)
    return maskrules.load_rules(Path(rules), builtin_styles=builtin)


def run(photo: LoadedImage, ruleset: maskrules.RuleSet, config: TransferConfig, *,
        labels: str | Path | None = None, segmenter_weights: str | Path | None = None,
        session: Session | None = None, on_progress: ProgressCallback | None = None) -> StylizeResult:
    """Stylise one decoded photo with a parsed rules file (no files are written)."""
    session = session or Session()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    device = resolve_device(config.device)
    pixels, alpha = _working_pixels(photo, config)
    segmentation, segmenter_note = _segment(pixels, ruleset, labels, device, session,
                                            segmenter_weights=segmenter_weights)
    timings["segment"] = time.perf_counter() - clock
    resolution = maskrules.resolve(ruleset, _vocabulary(segmentation, ruleset))
    masks = region_stage.build_region_masks(segmentation, resolution, min_area=ruleset.segmentation.min_area,
                                            feather_px=config.feather)
    stylized, optimise_report = _stylize_regions(pixels, masks, resolution, config, device, session,
                                                 on_progress)
    timings["optimise"] = time.perf_counter() - clock - timings["segment"]
    weight = blend.keep_weight(masks, feather_px=config.feather)
    final = blend.composite(stylized, pixels, weight, feather_px=config.feather)
    labels_map = masks.owner if masks.owner is not None else np.argmax(masks.masks, axis=0)
    timings["total"] = time.perf_counter() - clock
    report = _report(config, segmentation, segmenter_note, masks, resolution, optimise_report,
                     seam=blend.seam_score(final, pixels, labels_map), timings=timings)
    return StylizeResult(final, alpha, masks, segmentation, report)


def _working_pixels(photo: LoadedImage, config: TransferConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """The photo (and alpha) at the working size: the input's own size unless ``long_side`` says otherwise."""
    size = working_size(photo.size, config)
    if size == photo.size:
        return photo.pixels, photo.alpha
    import cv2

    dsize = (size[1], size[0])
    pixels = cv2.resize(photo.pixels, dsize, interpolation=cv2.INTER_AREA)
    alpha = None if photo.alpha is None else cv2.resize(photo.alpha, dsize, interpolation=cv2.INTER_AREA)
    return np.clip(pixels, 0, 1).astype(np.float32), alpha


def _segment(pixels: np.ndarray, ruleset: maskrules.RuleSet, labels: str | Path | None, device: torch.device,
             session: Session, classes: str | Path | None = None, *,
             segmenter_weights: str | Path | None = None) -> tuple[Segmentation, str]:
    """Labels from a label map (argument, then rules) or from a segmenter (rules' choice, or auto)."""
    spec = ruleset.segmentation
    label_file = Path(labels) if labels else spec.labels
    if label_file is not None:
        classes = classes or spec.classes_file or spec.classes or "ade20k"
        seg = segment.load_label_map_segmentation(label_file, classes=classes, image_size=pixels.shape[:2])
        return seg, f"label map {label_file}"
    name, reason = _segmenter_choice(ruleset)
    segmenter = session.segmenter(name, spec, str(device), segmenter_weights)
    log.info("segmenter: %s (%s)", name, reason)
    return segmenter.segment([pixels])[0], f"{name}: {reason}"


def _segmenter_choice(ruleset: maskrules.RuleSet) -> tuple[str, str]:
    spec = ruleset.segmentation
    if spec.model_file is not None:
        return str(spec.model_file), "model file named in the rules"
    if spec.model != "auto":
        return spec.model, "named in the rules"
    return segment.choose_segmenter(ruleset.class_names_used())


def _vocabulary(segmentation: Segmentation, ruleset: maskrules.RuleSet) -> maskrules.Vocabulary:
    """The vocabulary the segmentation's ids are in (a built-in one when the class list matches)."""
    if ruleset.segmentation.vocabulary is not None and ruleset.segmentation.labels is not None:
        return ruleset.segmentation.vocabulary
    try:
        return maskrules.get_vocabulary(segmentation.vocabulary)
    except maskrules.RuleError:
        return maskrules.vocabulary_from_class_list("\n".join(segmentation.class_names))


def _stylize_regions(pixels: np.ndarray, masks: RegionMasks, resolution: maskrules.Resolution,
                     config: TransferConfig, device: torch.device, session: Session,
                     on_progress: ProgressCallback | None) -> tuple[np.ndarray, dict[str, Any]]:
    """One optimisation over every styled region; returns the stylised (H, W, 3) image and a report."""
    network, plan, warning = session.encoder(config, device)
    content = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).to(device)
    mask_tensor = torch.from_numpy(masks.masks).to(device)
    styled = _styled_regions(masks, resolution, content, mask_tensor, config)
    report: dict[str, Any] = {"encoder": vars(network.info), "encoder_warning": warning, "losses": {}}
    if not styled:
        return pixels.copy(), report
    last: dict[str, Any] = {}

    def progress(step: Any) -> None:
        last["losses"] = step.losses
        if on_progress is not None:
            on_progress(step)

    init = _start_image(config, content, mask_tensor, styled)
    result = optimize.optimize(content, mask_tensor, styled, encoder=network, plan=plan, config=config, init=init,
                               on_progress=progress, target_cache=session.targets)
    result = _preserve_colours(result, content, mask_tensor, masks, resolution)
    report["losses"] = last.get("losses", {})
    return result.permute(1, 2, 0).cpu().numpy().astype(np.float32), report


def _start_image(config: TransferConfig, content: torch.Tensor, mask_tensor: torch.Tensor,
                 styled: list[StyledRegion]) -> torch.Tensor:
    """Where the optimisation starts: a given image (resized), or the photo recoloured per region."""
    if config.init not in ("content", "noise"):
        from regionstyle import io

        pixels = io.read_image(config.init).pixels
        start = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))
        return torch.nn.functional.interpolate(start[None], size=tuple(content.shape[-2:]), mode="bilinear",
                                               antialias=True)[0].to(content.device)
    return color.styled_start(content, mask_tensor, [(r.index, r.source) for r in styled if r.use_color])


def _styled_regions(masks: RegionMasks, resolution: maskrules.Resolution, content: torch.Tensor,
                    mask_tensor: torch.Tensor, config: TransferConfig) -> list[StyledRegion]:
    regions = []
    for index, (styled, rule_index) in enumerate(zip(masks.styled, masks.rule_index)):
        if not styled:
            continue
        rule = resolution.regions[rule_index]
        source = style_source(rule.style, long_side=max(content.shape[-2:]), seed=config.seed,
                              color_mode=rule.color, content=content, mask=mask_tensor[index])
        regions.append(StyledRegion(masks.names[index], index, source, rule.strength, rule.content_weight,
                                    use_color=rule.color == "style"))
    return regions


def _preserve_colours(result: torch.Tensor, content: torch.Tensor, mask_tensor: torch.Tensor,
                      masks: RegionMasks, resolution: maskrules.Resolution) -> torch.Tensor:
    """Put the photo's chroma back in ``color = "preserve"`` regions (luminance-only transfer)."""
    for index, (styled, rule_index) in enumerate(zip(masks.styled, masks.rule_index)):
        if styled and resolution.regions[rule_index].color == "preserve":
            weight = mask_tensor[index][None]
            result = result * (1 - weight) + color.keep_photo_chroma(result, content) * weight
    return result


def _report(config: TransferConfig, segmentation: Segmentation, segmenter_note: str, masks: RegionMasks,
            resolution: maskrules.Resolution, optimise_report: dict[str, Any], *, seam: float | None,
            timings: dict[str, float]) -> dict[str, Any]:
    import torchvision

    from regionstyle.version import __version__

    regions = []
    for name, area, styled, rule_index in zip(masks.names, masks.areas, masks.styled, masks.rule_index):
        rule = resolution.regions[rule_index] if rule_index >= 0 else None
        regions.append({"name": name, "area": round(area, 5), "styled": styled,
                        "style": rule.style.name if rule is not None and rule.style is not None else None,
                        "color": rule.color if rule is not None else None})
    return {
        "versions": {"regionstyle": __version__, "torch": torch.__version__,
                     "torchvision": torchvision.__version__},
        "settings": {k: v for k, v in vars(config).items()},
        "segmenter": {"source": segmentation.source, "vocabulary": segmentation.vocabulary,
                      "choice": segmenter_note},
        **optimise_report,
        "regions": regions,
        "seam": None if seam is None else round(seam, 4),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def _as_loaded(image: Any) -> tuple[LoadedImage, str]:
    """Accept a PIL image, a numpy array (uint8/uint16 or float in [0, 1]) or a path; say which it was."""
    from regionstyle import io

    if isinstance(image, (str, Path)):
        return io.read_image(image), "path"
    if hasattr(image, "mode") and hasattr(image, "size"):  # a PIL image, without importing PIL here
        return io.from_pil(image), "pil"
    if isinstance(image, np.ndarray):
        return io.from_array(image), "array"
    raise BadInput(f"stylize() takes a PIL image, a numpy array or a path; got {type(image).__name__}")


def stylize(image: Any, rules: maskrules.RuleSet | str | Path, *, labels: str | Path | None = None,
            size: int | None = None, iterations: int | None = None, encoder: str | None = None,
            encoder_weights: str | Path | None = None, device: str | None = None, seed: int | None = None,
            preview: bool | None = None, session: Session | None = None,
            on_progress: ProgressCallback | None = None) -> Any:
    """Stylise one image in memory: PIL in -> PIL out, numpy in -> numpy (same dtype) out.

    rules: a RuleSet, a rules-file path, or TOML text. The other options override the rules' [defaults].
    """
    photo, kind = _as_loaded(image)
    ruleset = load_ruleset(rules)
    config = make_config(ruleset.defaults, size=size, iterations=iterations, encoder=encoder,
                         encoder_weights=encoder_weights, device=device, seed=seed, preview=preview)
    result = run(photo, ruleset, config, labels=labels, session=session, on_progress=on_progress)
    from regionstyle import io

    if kind == "pil":
        return io.to_pil(result.image, result.alpha)
    return io.to_array_like(result.image, result.alpha, like=image if kind == "array" else None)


def stylize_many(images: Iterable[Any], rules: maskrules.RuleSet | str | Path, *,
                 labels: str | Path | None = None, size: int | None = None, iterations: int | None = None,
                 encoder: str | None = None, encoder_weights: str | Path | None = None, device: str | None = None,
                 seed: int | None = None, preview: bool | None = None, session: Session | None = None,
                 on_progress: ProgressCallback | None = None) -> Iterator[Any]:
    """Stylise a stream of images lazily (one result per image, in order), as :func:`stylize` does one.

    Models, exemplars and style targets are built once and shared (one :class:`Session`); the rules are
    parsed once. Files on disk, resumable, with manifests: :mod:`regionstyle.batch`.
    """
    session = session if session is not None else Session()
    ruleset = load_ruleset(rules)
    for image in images:
        yield stylize(image, ruleset, labels=labels, size=size, iterations=iterations, encoder=encoder,
                      encoder_weights=encoder_weights, device=device, seed=seed, preview=preview,
                      session=session, on_progress=on_progress)


def explain(pixels: np.ndarray, ruleset: maskrules.RuleSet, *, labels: str | Path | None = None,
            classes: str | Path | None = None, segmenter_weights: str | Path | None = None,
            device: str = "auto", session: Session | None = None
            ) -> tuple[dict[str, Any], RegionMasks, Segmentation]:
    """What the rules do to this photo, without stylising: regions, classes found, shares, unused rules."""
    seg, note = _segment(pixels, ruleset, labels, resolve_device(device), session or Session(), classes,
                         segmenter_weights=segmenter_weights)
    vocabulary = _vocabulary(seg, ruleset) if classes is None else _vocabulary_named(classes, seg)
    resolution = maskrules.resolve(ruleset, vocabulary)
    masks = region_stage.build_region_masks(seg, resolution, min_area=ruleset.segmentation.min_area)
    share = np.bincount(seg.labels.ravel(), minlength=len(vocabulary.classes)) / seg.labels.size
    present = {cid for cid in np.flatnonzero(share) if cid < len(vocabulary.classes)}
    regions = [{"region": r.name, "rule": r.key_path, "style": r.style.name if r.style else "keep",
                "share": round(float(sum(share[c] for c in r.class_ids if c < len(share))), 5),
                "classes": {vocabulary.classes[c]: round(float(share[c]), 5) for c in sorted(r.class_ids & present)}}
               for r in resolution.regions]
    idle = [r["rule"] for r in regions if not r["classes"]]
    data = {"segmenter": note, "vocabulary": vocabulary.name, "regions": regions,
            "unused_rules": [ruleset.rules[i].key_path for i in resolution.unused_rules] + idle,
            "unknown_names": [f"{path}: {name}" for path, name in resolution.unknown_names],
            "uncovered_classes": {vocabulary.classes[c]: round(float(share[c]), 5)
                                  for c in sorted(present - resolution.claimed_ids)}}
    return data, masks, seg


def _vocabulary_named(classes: str | Path, segmentation: Segmentation) -> maskrules.Vocabulary:
    """A vocabulary from a built-in name or a class-list file."""
    if Path(classes).is_file():
        return maskrules.load_class_list(classes)
    return maskrules.get_vocabulary(str(classes))
