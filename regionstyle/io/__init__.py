"""Images in and out: decoding, encoding, PNG/TIFF details, atomic writes, PIL/numpy conversion.

    photo = read_image("photo.jpg")                 # LoadedImage: float32 RGB in [0, 1], upright
    write_image("out.png", pixels, exif=photo.exif)  # atomic, never over a protected path

Modules: :mod:`~regionstyle.io.read` and :mod:`~regionstyle.io.write` (the public functions),
:mod:`~regionstyle.io.pixels` (modes, 16-bit, orientation), :mod:`~regionstyle.io.encode` (one writer per
format), :mod:`~regionstyle.io.png` and :mod:`~regionstyle.io.tiff` (16-bit metadata details),
:mod:`~regionstyle.io.atomic` (all-or-nothing writes and the "may I write here" check) and
:mod:`~regionstyle.io.arrays` (PIL images and numpy arrays for the Python API).
"""

from regionstyle.io.arrays import from_array, from_pil, to_array_like, to_pil
from regionstyle.io.atomic import (
    all_or_nothing, atomic_write, check_inside, check_writable, refuse_protected, write_text_atomic)
from regionstyle.io.encode import SUFFIX_FORMATS, output_format
from regionstyle.io.pixels import orient, to_uint8, to_uint16
from regionstyle.io.read import read_color_label_map, read_image, read_label_map
from regionstyle.io.write import write_image, write_label_map

__all__ = [
    "SUFFIX_FORMATS", "all_or_nothing", "atomic_write", "check_inside", "check_writable", "from_array", "from_pil", "orient", "output_format", "read_color_label_map",
    "read_image", "read_label_map", "refuse_protected", "to_array_like", "to_pil", "to_uint16", "to_uint8",
    "write_image", "write_label_map", "write_text_atomic",
]
