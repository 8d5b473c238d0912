"""How large (and how small) a run may be: checked from sizes alone, before any model loads or any allocation.

Two limits, each with a message that says the limit and how to get under it:

- the **smallest usable side**: the encoder's deepest tapped layer must keep at least one position. It is
  derived from the network's own geometry (the convolutions and pools before each tap, replayed on sizes
  by :func:`regionstyle.encoder.guides.output_size`): VGG's four 2x2 pools need 16 px. The optimiser's
  coarse scales never go below it either (:func:`regionstyle.optimize.scale_sizes`' ``min_side``).
- the **memory** a run needs, from the working size: measured peak resident memory grows by about 2.7 kB
  per working pixel for MobileNetV2 and 4.0 kB for VGG19-sized networks (fp32, L-BFGS, two styled regions;
  256 -> 768 px and 256 -> 640 px runs), on top of about 1 GB for the program and its models. Scales over
  1.6 Mpx are optimised window by window (:mod:`regionstyle.tiling`), so that figure applies to the largest
  piece optimised at once, plus the full-size images the run keeps (``HELD_BYTES_PER_PIXEL``). It is
  compared with the memory available now (``MemAvailable``, a cgroup limit, a CUDA device's free memory).

Style images get the same checks at the sizes their ``scale`` (and ``crop``) make them.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from regionstyle.config import MAX_SIDE, TransferConfig, working_size
from regionstyle.errors import BadInput
from regionstyle.tiling import largest_piece

log = logging.getLogger(__name__)

BASE_BYTES = 1 << 30
BYTES_PER_PIXEL = {"mobilenet_v2": 2800, "vgg19": 4096, "vgg16": 4096, "random": 4096}
DEFAULT_BYTES_PER_PIXEL = 4096
MAX_STYLE_PIXELS = 100_000_000  # read_image's own limit
# Full-size images a run keeps while it works, per working pixel: the photo, its start and result, the
# anchor (float32 RGB: 12 B each), a mask per region and the built-ins' renderings (16 B per styled region).
# Counted from the tensors the pipeline holds, for about five regions, not measured.
HELD_BYTES_PER_PIXEL = 160
SEGMENT_BYTES_PER_PIXEL = 2048  # a model file's input and its logits (150 classes x 4 bytes) per input pixel


def available_memory(device: str = "cpu") -> int | None:
    """Bytes this process could still allocate on ``device`` (None where the system does not say)."""
    limits = [value for value in (_meminfo_available(), _cgroup_room()) if value is not None]
    if device.startswith("cuda"):
        limits.append(_cuda_free(device))
    limits = [value for value in limits if value is not None]
    return min(limits) if limits else None


def check_memory(pixels: int, *, bytes_per_pixel: int, what: str, fix: str, device: str = "cpu") -> None:
    """BadInput when ``pixels`` of work at ``bytes_per_pixel`` (plus the program) exceed the memory available."""
    room = available_memory(device)
    need = BASE_BYTES + pixels * bytes_per_pixel
    if room is None or need <= room:
        return
    fits = max(0, room - BASE_BYTES) // bytes_per_pixel
    raise BadInput(f"{what} needs about {_gb(need)} of memory and {_gb(room)} are free here "
                   f"(at most about {fits / 1e6:.1f} Mpx fit): {fix}")


def smallest_side(encoder: Any, taps: Iterable[str]) -> int:
    """The smallest square input side at which every tap of ``encoder`` (anything with ``spatial_ops``)
    keeps at least one position."""
    from regionstyle.encoder.guides import output_size

    ops = [encoder.spatial_ops(tap) for tap in taps]
    for side in range(1, 4097):
        if all(min(output_size(chain, (side, side))) >= 1 for chain in ops):
            return side
    raise BadInput(f"encoder {getattr(getattr(encoder, 'info', None), 'name', encoder)}: no input side up to "
                   "4096 px reaches all of its taps")


@functools.lru_cache(maxsize=8)
def registered_smallest_side(name: str) -> int:
    """:func:`smallest_side` of a registered encoder, from its architecture alone (built on the meta device:
    no weights are read and no memory is filled)."""
    import torch
    import torchvision

    from regionstyle.encoder.network import FeatureEncoder
    from regionstyle.encoder.registry import ENCODERS

    with torch.device("meta"):
        if name == "mobilenet_v2":
            from regionstyle.encoder.mobilenet import mobilenet_layer_names

            body, names = torchvision.models.mobilenet_v2().features, mobilenet_layer_names()
        else:
            from regionstyle.encoder.vgg import VGG_CONFIGS, vgg_layer_names

            arch = "vgg19" if name == "random" else name
            body = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs[VGG_CONFIGS[arch]])
            names = vgg_layer_names(body)
    plan = ENCODERS[name].plan
    # spatial_ops reads only ``body`` and ``taps``: the skeleton needs no FeatureEncoder (which runs a probe).
    skeleton = SimpleNamespace(body=body, taps={tap: names[tap] for tap in plan.taps})
    return smallest_side(SimpleNamespace(spatial_ops=lambda tap: FeatureEncoder.spatial_ops(skeleton, tap)),
                         plan.taps)


def needs_encoder(ruleset: Any, config: TransferConfig) -> bool:
    """Whether the rules may run the optimiser (and so the encoder): a style image or a layered style in
    some rule, or ``optimize_builtins``. Styles of built-ins only are laid in as rendered."""
    return bool(config.optimize_builtins) or any(ref.kind in ("image", "layers") for ref in _style_refs(ruleset))


def image_styles(ruleset: Any) -> list[Any]:
    """The image styles (StyleRefs with ``image``) the rules of ``ruleset`` use, blends flattened."""
    return [ref for ref in _style_refs(ruleset) if ref.image is not None]


def _style_refs(ruleset: Any) -> Iterator[Any]:
    """Every StyleRef the rules use: each rule's style, then blend members and layered parts, depth first."""
    refs = [rule.style for rule in ruleset.rules if rule.style is not None]
    while refs:
        ref = refs.pop()
        refs += list(ref.children)
        yield ref


def check_run(size: tuple[int, int], config: TransferConfig, *, what: str, device: str,
              style_images: Iterable[Any] = (), encoder: Any = None, optimising: bool = True) -> None:
    """Refuse, before any work, a run whose sizes the encoder or the memory cannot take.

    size: (height, width) of the photo as read; what: how to name it ("photo.jpg"); device: the resolved
    device ("cpu", "cuda:0").
    style_images: the rules' image styles (see :func:`image_styles`).
    encoder: a prebuilt (encoder, plan) pair (a Session's custom encoder), else the configured one is used.
    optimising: False when no region will be optimised (:func:`needs_encoder`): nothing to check then.
    """
    if not optimising:
        return
    from regionstyle.encoder.build import resolve_auto
    from regionstyle.optimize import scale_sizes

    height, width = working_size(size, config)
    name = resolve_auto(config.encoder, weights_file=config.encoder_weights)[0] if encoder is None else None
    minimum = registered_smallest_side(name) if encoder is None else smallest_side(encoder[0], encoder[1].taps)
    encoder_name = name or encoder[0].info.name
    _check_short_side((height, width), size, minimum, what=what, encoder=encoder_name, config=config)
    _check_run_memory(height, width, config, minimum=minimum, encoder=encoder_name, what=what, device=device)
    sizes = scale_sizes(height, width, coarse_start=config.coarse_start, scales=config.scales, min_side=minimum)
    coarse, fine = max(sizes[0]), max(height, width)
    for ref in style_images:
        _check_style_image(ref, coarse=coarse, fine=fine, minimum=minimum, encoder=encoder_name, device=device)


def _check_short_side(working: tuple[int, int], size: tuple[int, int], minimum: int, *, what: str, encoder: str,
                      config: TransferConfig) -> None:
    height, width = working
    if min(height, width) >= minimum:
        return
    long_needed = math.ceil(minimum * max(size) / min(size))
    how = (f"give --size {long_needed} or more" if long_needed <= MAX_SIDE else
           f"crop it to an aspect ratio of at most {MAX_SIDE // minimum}:1 (sides up to {MAX_SIDE} px)")
    scaled = "" if (height, width) == tuple(size) else f" (at the working size {width}x{height})"
    raise BadInput(f"{what} is {size[1]}x{size[0]} px{scaled}: its short side, {min(height, width)} px, is under "
                   f"the {minimum} px the {encoder} encoder needs; {how}")


def _check_style_image(ref: Any, *, coarse: int, fine: int, minimum: int, encoder: str, device: str) -> None:
    """A style image's exemplar at the coarsest and finest scales: not thinner than the encoder's smallest
    side, not larger than MAX_SIDE or the memory."""
    width, height = _cropped_size(Path(ref.image), ref.crop)
    aspect = min(width, height) / max(width, height)
    sides = [max(16, round(long * ref.scale)) for long in (coarse, fine)]
    name = Path(ref.image).name
    if min(sides) * aspect < minimum:
        raise BadInput(f"style image {name} ({width}x{height} px{' after its crop' if ref.crop else ''}) would be "
                       f"{sides[0]}x{max(1, round(sides[0] * aspect))} px at the coarsest scale: thinner than the "
                       f"{minimum} px the {encoder} encoder needs; raise its scale (now {ref.scale:g}) or crop a "
                       "less elongated part")
    if max(sides) > MAX_SIDE:
        raise BadInput(f"style image {name} with scale = {ref.scale:g} would be {max(sides)} px long, more than "
                       f"{MAX_SIDE} px: use a scale of at most {MAX_SIDE / fine:.3g}")
    short = round(max(sides) * aspect)
    exemplar_size = (short, max(sides)) if width >= height else (max(sides), short)
    # A print-sized exemplar is read window by window (regionstyle.style.targets.exemplar_parts): what it
    # holds at once is one window, not the whole image (4096 px paintings were refused here for 25 GB).
    check_memory(largest_piece(exemplar_size), bytes_per_pixel=BYTES_PER_PIXEL.get(encoder, DEFAULT_BYTES_PER_PIXEL),
                 device=device, what=f"style image {name} at scale = {ref.scale:g}", fix="use a smaller scale")


def _cropped_size(path: Path, crop: tuple[float, float, float, float] | None) -> tuple[int, int]:
    """(width, height) of an image file's pixels (header only), after ``crop`` (fractions l, t, r, b)."""
    from PIL import Image, UnidentifiedImageError

    from regionstyle.io.inputs import input_file

    try:
        with warnings.catch_warnings():  # the pixel count is judged below, in one line
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(input_file(path, what="style image")) as image:
                width, height = image.size
    except Image.DecompressionBombError as err:
        raise BadInput(f"style image {path} refused as a possible decompression bomb: {err}") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise BadInput(f"style image {path} is not a readable image: {err}") from None
    if width * height > MAX_STYLE_PIXELS:  # what read_image would refuse, after the segmentation
        raise BadInput(f"style image {path} has {width}x{height} px, more than {MAX_STYLE_PIXELS} (refused as a "
                       "possible decompression bomb): downscale it")
    if crop is not None:
        left, top, right, bottom = crop
        width, height = max(1, round((right - left) * width)), max(1, round((bottom - top) * height))
    return width, height


def run_memory(height: int, width: int, config: TransferConfig, *, minimum: int, bytes_per_pixel: int) -> int:
    """Bytes a run at ``height`` x ``width`` needs: the program, the largest piece optimised at once (a whole
    scale, or one window of a tiled scale, see :mod:`regionstyle.tiling`) at ``bytes_per_pixel``, and the
    full-size images it keeps throughout."""
    from regionstyle.optimize import scale_sizes

    sizes = scale_sizes(height, width, coarse_start=config.coarse_start, scales=config.scales, min_side=minimum)
    worked = max(largest_piece(size, full=(height, width)) for size in sizes)
    return BASE_BYTES + worked * bytes_per_pixel + height * width * HELD_BYTES_PER_PIXEL


def _check_run_memory(height: int, width: int, config: TransferConfig, *, minimum: int, encoder: str, what: str,
                      device: str) -> None:
    room = available_memory(device)
    per_pixel = BYTES_PER_PIXEL.get(encoder, DEFAULT_BYTES_PER_PIXEL)
    need = run_memory(height, width, config, minimum=minimum, bytes_per_pixel=per_pixel)
    if room is None or need <= room:
        return
    # Tiling makes the need grow slowly and not always with the size: look for the largest side that fits.
    fitting = next((side for side in range(max(height, width) // 16 * 16, 15, -16)
                    if run_memory(*_sized(height, width, side), config, minimum=minimum,
                                  bytes_per_pixel=per_pixel) <= room), 16)
    raise BadInput(f"{what} at {width}x{height} px needs about {_gb(need)} of memory and {_gb(room)} are free "
                   f"here: give a smaller --size (about {fitting} fits)")


def _sized(height: int, width: int, long_side: int) -> tuple[int, int]:
    factor = long_side / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def _gb(count: float) -> str:
    return f"{count / 2**30:.1f} GB" if count < 2**40 else f"{count / 2**40:.1f} TB"


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    """What the process's memory cgroup still allows (v2, then v1), or None without a limit."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 1 << 60:
            return None
        return max(0, int(limit) - usage)
    return None


def _cuda_free(device: str) -> int | None:
    try:
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0]) if torch.cuda.is_available() else None
    except (RuntimeError, ValueError, AssertionError):
        return None
