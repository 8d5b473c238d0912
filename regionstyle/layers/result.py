"""A :class:`~regionstyle.datatypes.StylizeResult` as files for photo editors: its layered PSD and its masks.

Everything the layer and mask files need from a run is in the result: the photo at the working size
(``result.photo``), the flat output as it is written (8-bit), the styled regions' soft masks and names,
and the photo's weight in the output (:func:`regionstyle.blend.keep_weight`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from regionstyle import blend
from regionstyle.config import TransferConfig
from regionstyle.datatypes import StylizeResult
from regionstyle.io import to_uint8
from regionstyle.layers import maskfiles
from regionstyle.layers.psd import write_psd
from regionstyle.layers.stack import LayerStack, build_stack

log = logging.getLogger(__name__)
SEPARATOR = " \u2014 "  # an em dash: "sky — watercolor"


def layer_name(region: str, style: str | None, color: str | None = None) -> str:
    """``sky — watercolor``; a region whose colours are kept says so (``tree — pencil, photo colours``)."""
    extra = ", photo colours" if color == "preserve" else ", colours matched" if color == "match" else ""
    return f"{region}{SEPARATOR}{style or 'styled'}{extra}"


def stack_from_result(result: StylizeResult, config: TransferConfig) -> LayerStack:
    """The layer stack of ``result``, a run under ``config`` (its ``feather`` sets the photo's weight)."""
    masks = result.masks
    styled = [i for i, s in enumerate(masks.styled) if s]
    rows = {r["name"]: r for r in result.report.get("regions", [])}
    names = [layer_name(masks.names[i], rows.get(masks.names[i], {}).get("style"),
                        rows.get(masks.names[i], {}).get("color")) for i in styled]
    weight = blend.keep_weight(masks, feather_px=config.feather)
    shares = masks.masks[styled] if styled else np.zeros((0, *masks.masks.shape[1:]), np.float32)
    return build_stack(to_uint8(result.photo), to_uint8(result.image), shares, weight, names)


def write_layers(path: str | os.PathLike[str], result: StylizeResult, config: TransferConfig, *,
                 protect: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Write the layered PSD of ``result``."""
    if result.alpha is not None:
        log.warning("%s: the layered file is opaque; the photo's transparency is kept in the flat output only", path)
    return write_psd(path, stack_from_result(result, config), protect=protect)


def write_masks(folder: str | os.PathLike[str], result: StylizeResult, *, overwrite: bool = False,
                protect: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Write every region's mask of ``result`` as a PNG into ``folder`` (see :mod:`~regionstyle.layers.maskfiles`)."""
    styles = {r["name"]: r.get("style") for r in result.report.get("regions", [])}
    return maskfiles.write_region_masks(folder, result.masks, overwrite=overwrite, styles=styles, protect=protect)
