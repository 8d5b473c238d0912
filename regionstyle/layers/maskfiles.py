"""Region masks as files a person can edit (``--masks DIR``): one 8-bit PNG per region, and ``regions.json``.

For every region of a result (styled, kept, and the "unstyled" remainder) a greyscale PNG, white where
the region owns the pixel, black elsewhere: the hard partition *before* feathering, so a brush in an
editor has a crisp edge to work on. ``regions.json`` beside them names the region of each file (file
names are made safe for any file system). Reading such a folder back, in place of a segmentation, is
:mod:`regionstyle.segment.mask_folder`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from regionstyle.datatypes import RegionMasks
from regionstyle.errors import BadInput
from regionstyle.io import atomic_write, refuse_protected
from regionstyle.segment.mask_folder import INDEX, safe_name


def check_folder(folder: str | os.PathLike[str], *, protect: Iterable[str | os.PathLike[str]] = (),
                 overwrite: bool = False) -> None:
    """May masks be written into ``folder``? BadInput, before any work, for a folder that is an input (a mask
    folder being read), a file, a path below a file, or one already holding masks or PNGs, unless ``overwrite``.
    """
    folder = Path(folder)
    refuse_protected(folder, protect)
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"--masks {folder} is a file; give a folder for the region masks")
    blocking = next((parent for parent in folder.parents if parent.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise BadInput(f"cannot write masks into {folder}: {blocking} is a file, not a folder")
    if folder.is_dir() and not overwrite:
        there = sorted(p.name for p in folder.iterdir() if p.name == INDEX or p.suffix.lower() == ".png")
        if there:
            raise BadInput(f"{folder} already holds {there[0]}" + (f" and {len(there) - 1} more" if len(there) > 1
                           else "") + "; pass --overwrite to replace the masks there, or choose another folder")


def write_region_masks(folder: str | os.PathLike[str], masks: RegionMasks, *, overwrite: bool = False,
                       styles: dict[str, str | None] | None = None,
                       protect: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Write one PNG per region of ``masks`` and ``regions.json`` into ``folder``; return the PNG paths.

    styles: region name -> style name (None for kept regions), recorded in the index for people to read.
    Raises BadInput when a file would be replaced and not ``overwrite``, or would replace one of ``protect``.
    """
    from PIL import Image

    folder = Path(folder)
    owner = masks.owner if masks.owner is not None else masks.masks.argmax(axis=0)
    files = file_names(masks.names)
    for name in [*files, INDEX]:
        refuse_protected(folder / name, protect)
    clash = [f for f in [*files, INDEX] if (folder / f).exists()]
    if clash and not overwrite:
        raise BadInput(f"{folder / clash[0]} exists; pass --overwrite to replace the masks there, or choose "
                       "another folder")
    written = []
    for index, file in enumerate(files):
        image = Image.fromarray(np.where(owner == index, 255, 0).astype(np.uint8), mode="L")
        atomic_write(folder / file, lambda handle, image=image: image.save(handle, format="PNG"))
        written.append(folder / file)
    index = {"size": [int(owner.shape[0]), int(owner.shape[1])],
             "regions": [{"name": n, "file": f, "styled": s, "style": (styles or {}).get(n)}
                         for n, f, s in zip(masks.names, files, masks.styled)]}
    atomic_write(folder / INDEX, lambda handle: handle.write(json.dumps(index, indent=2).encode("utf-8")))
    return written


def file_names(names: tuple[str, ...] | list[str]) -> list[str]:
    """One distinct PNG name per region name (distinct on case-insensitive file systems too)."""
    files: list[str] = []
    for name in names:
        stem, count = safe_name(name), 1
        while f"{stem}.png".lower() in {f.lower() for f in files}:
            count += 1
            stem = f"{safe_name(name)}_{count}"
        files.append(f"{stem}.png")
    return files
