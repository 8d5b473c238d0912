"""Writing a :class:`~regionstyle.layers.stack.LayerStack` as a Photoshop document (PSD) with psd-tools.

The document is 8-bit RGB: the photo as the bottom layer, then one pixel layer per styled region (top
layer = first rule) whose soft region mask is a real *layer mask* (not baked-in transparency), so it can
be painted, disabled or inverted in an editor. psd-tools also stores the merged image it composites from
the layers, which viewers without layer support (file browsers, Preview) show.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from regionstyle.errors import BadInput, MissingDependency
from regionstyle.io import atomic_write, refuse_protected
from regionstyle.layers.stack import LayerStack

PHOTO_LAYER = "photo"
PSD_MAX_SIDE = 30000  # the PSD format's own limit (PSB goes further; psd-tools writes PSD)


def check_path(path: str | os.PathLike[str]) -> None:
    """BadInput unless ``path`` names a ``.psd`` file (checked before any work)."""
    if Path(path).suffix.lower() != ".psd":
        raise BadInput(f"--layers {path}: expected a .psd file name (layered files are Photoshop documents)")


def check_size(size: tuple[int, int]) -> None:
    """BadInput when an image of ``size`` (height, width) is larger than a PSD can hold."""
    if max(size) > PSD_MAX_SIDE:
        raise BadInput(f"layered output: PSD holds at most {PSD_MAX_SIDE} px a side, got {size[1]}x{size[0]}; "
                       "use --size")


def write_psd(path: str | os.PathLike[str], stack: LayerStack, *, protect: Iterable[str | os.PathLike[str]] = ()
              ) -> Path:
    """Write ``stack`` to ``path`` atomically and return the path. Raises BadInput for an unusable path."""
    path = Path(path)
    check_path(path)
    check_size(stack.size)
    refuse_protected(path, protect)
    document = build_document(stack)
    atomic_write(path, document.save)
    return path


def build_document(stack: LayerStack):  # -> psd_tools.PSDImage (not imported at module level)
    """The psd-tools document of ``stack`` (photo layer, then each styled layer with its mask)."""
    PSDImage, PixelLayer = _psd_tools()
    from PIL import Image

    height, width = stack.size
    document = PSDImage.new("RGB", (width, height))
    PixelLayer.frompil(Image.fromarray(stack.photo), document, name=PHOTO_LAYER)
    colour = Image.fromarray(stack.color)
    for name, alpha in reversed(list(zip(stack.names, stack.alphas))):  # appended = stacked on top
        layer = PixelLayer.frompil(colour, document, name=name)
        layer.create_mask(Image.fromarray(alpha))
    return document


def _psd_tools():
    try:
        from psd_tools import PSDImage
        from psd_tools.api.layers import PixelLayer
    except ImportError as exc:  # a dependency of regionstyle; only a broken install lacks it
        raise MissingDependency(f"layered PSD output needs psd-tools ({exc}): pip install 'psd-tools>=1.26'") from None
    return PSDImage, PixelLayer
