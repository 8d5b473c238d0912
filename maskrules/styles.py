"""Turn style values of a rules file into :class:`StyleRef` objects.

A bare style string resolves in this order: a [styles] name, "keep" (where allowed), a built-in style
name, an image path (recognised by an image extension or a "/"). A table has exactly one of
``builtin``, ``image``, ``blend`` or ``layers``. Blends may nest; a [styles] entry that leads back to
itself is an error naming the cycle. A ``layers`` table gives one style to the encoder's fine layers and
one to its coarse ones; its parts are any style but "keep" or another layered style, and a blend may not
take a layered member (blend inside the parts instead: the split is per layer, a blend is per statistic).
An image style's ``match`` (a class name, or true for the region's own classes) is checked against the
class names the file may use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from maskrules import values as v
from maskrules.model import StyleRef
from maskrules.names import KeyPath, did_you_mean

if TYPE_CHECKING:
    from maskrules.groups import Names

# regionstyle passes its registry with each style's parameter names. Without it these names are known
# but their parameters are not, so any parameter is accepted (None = "unknown, accept all").
DEFAULT_BUILTIN_STYLES: Mapping[str, frozenset[str] | None] = {
    name: None for name in ("watercolor", "mosaic", "pointillism", "pencil", "ink-wash",
                            "stained-glass", "oil", "woodcut")
}
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"})
_IMAGE_KEYS = frozenset({"image", "scale", "crop", "match", "labels"})
_KINDS = ("builtin", "image", "blend", "layers")


def looks_like_image(text: str) -> bool:
    """True for strings that name an image file rather than a style ("paintings/x.jpg", "x.PNG")."""
    return "/" in text or "\\" in text or PurePath(text).suffix.lower() in IMAGE_EXTENSIONS


class StyleResolver:
    """Resolves style values against one file's [styles] table and the known built-in styles."""

    def __init__(self, ctx: v.Context, styles: dict,
                 builtins: Mapping[str, frozenset[str] | None], names: Names | None = None) -> None:
        self.ctx = ctx
        self.names = names  # class names ``match`` may use (None: any name)
        self.raw = styles
        self.builtins = builtins
        self.done: dict[str, StyleRef] = {}
        self.stack: list[str] = []

    def resolve_all(self) -> dict[str, StyleRef]:
        """Every [styles] entry, resolved (so mistakes in unused styles are reported too)."""
        for name in self.raw:
            if name == "keep":
                self.ctx.fail(("styles", name), "'keep' is reserved (it means: leave the photo as is)")
            self.named(name, ("styles", name))
        return dict(self.done)

    def named(self, name: str, at: KeyPath) -> StyleRef:
        if name in self.done:
            return self.done[name]
        if name in self.stack:
            cycle = " -> ".join(self.stack[self.stack.index(name):] + [name])
            self.ctx.fail(at, f"style cycle: {cycle}")
        self.stack.append(name)
        ref = self.value(("styles", name), self.raw[name], allow_keep=False, name=name)
        self.stack.pop()
        self.done[name] = ref
        return ref

    def value(self, path: KeyPath, value: object, *, allow_keep: bool, name: str | None = None) -> StyleRef | None:
        """A style value: a string or a table; None means "keep" (only where ``allow_keep``)."""
        if isinstance(value, str):
            ref = self.string(path, value, allow_keep=allow_keep)
            return ref if ref is None or name is None else _renamed(ref, name)
        if isinstance(value, dict):
            return self.table(path, value, name)
        self.ctx.fail(path, f"expected a style name or a style table, got {v.describe(value)}")

    def string(self, path: KeyPath, text: str, *, allow_keep: bool) -> StyleRef | None:
        if text in self.raw:
            return self.named(text, path)
        if text == "keep":
            if allow_keep:
                return None
            self.ctx.fail(path, "'keep' is not a style here (use it as a rule's style)")
        if text in self.builtins:
            return StyleRef(kind="builtin", name=text, builtin=text)
        if looks_like_image(text):
            image = v.file_path(self.ctx, path, text, what="style image")
            return StyleRef(kind="image", name=image.name, image=image)
        known = [*self.raw, *self.builtins] + (["keep"] if allow_keep else [])
        self.ctx.fail(path, f"unknown style '{text}'{did_you_mean(text, known)}")

    def table(self, path: KeyPath, table: dict, name: str | None) -> StyleRef:
        kinds = [kind for kind in _KINDS if kind in table]
        if len(kinds) != 1:
            self.ctx.fail(path, "a style table needs exactly one of 'builtin', 'image', 'blend' or 'layers'"
                                f"{f' (got {len(kinds)})' if kinds else ''}")
        readers = {"builtin": self.builtin, "image": self.image, "blend": self.blend, "layers": self.layered}
        return readers[kinds[0]](path, table, name)

    def builtin(self, path: KeyPath, table: dict, name: str | None) -> StyleRef:
        style = v.string(self.ctx, path + ("builtin",), table["builtin"])
        if style not in self.builtins:
            self.ctx.fail(path + ("builtin",), f"unknown built-in style '{style}'"
                                               f"{did_you_mean(style, self.builtins)}"
                                               f" (valid: {', '.join(sorted(self.builtins))})")
        allowed = self.builtins[style]
        params = []
        for key, value in sorted((k, x) for k, x in table.items() if k != "builtin"):
            if allowed is not None and key not in allowed:
                valid = ", ".join(sorted(allowed)) or "none"
                self.ctx.fail(path + (key,), f"unknown parameter '{key}' for built-in style '{style}'"
                                             f"{did_you_mean(key, allowed)} (valid: {valid})")
            params.append((key, _frozen(self.ctx, path + (key,), value)))
        return StyleRef(kind="builtin", name=name or style, builtin=style, params=tuple(params))

    def image(self, path: KeyPath, table: dict, name: str | None) -> StyleRef:
        v.table(self.ctx, path, table, _IMAGE_KEYS)
        image = v.file_path(self.ctx, path + ("image",), table["image"], what="style image")
        scale = v.number(self.ctx, path + ("scale",), table.get("scale", 1.0), low=0.0, low_open=True)
        crop = _crop(self.ctx, path + ("crop",), table["crop"]) if "crop" in table else None
        match = self.match(path + ("match",), table["match"]) if "match" in table else None
        labels = None
        if "labels" in table:
            # A photo-trained segmenter rarely finds a painted sky: the user's own map of the painting.
            if match is None:
                self.ctx.fail(path + ("labels",), "labels is the painting's label map for 'match'; add match = "
                                                  "\"CLASS\" (or true) to say which part of the painting to use")
            labels = v.file_path(self.ctx, path + ("labels",), table["labels"], what="painting label map")
        return StyleRef(kind="image", name=name or image.name, image=image, scale=scale, crop=crop, match=match,
                        labels=labels)

    def match(self, path: KeyPath, value: object) -> str | bool | None:
        """``match``: true (the region's own classes), false (the whole painting) or a class name."""
        if isinstance(value, bool):
            return True if value else None
        if not isinstance(value, str) or not value.strip() or value == "*":
            self.ctx.fail(path, "match is true (the region's own classes), false, or a class, alias or group "
                                f"name such as \"sky\", got {v.describe(value)}")
        if self.names is not None:
            self.names.check(self.ctx, path, value)
        return value

    def layered(self, path: KeyPath, table: dict, name: str | None) -> StyleRef:
        """``{ layers = { fine = ..., coarse = ... } }``: both parts required, neither "keep" nor layered."""
        v.table(self.ctx, path, table, {"layers"})
        parts = v.table(self.ctx, path + ("layers",), table["layers"], ("fine", "coarse"))
        for part in ("fine", "coarse"):
            if part not in parts:
                self.ctx.fail(path + ("layers",), f"layers needs both 'fine' and 'coarse' (missing '{part}')")
        fine, coarse = (self.value(path + ("layers", part), parts[part], allow_keep=False)
                        for part in ("fine", "coarse"))
        for part, ref in (("fine", fine), ("coarse", coarse)):
            if ref.kind == "layers":
                self.ctx.fail(path + ("layers", part), f"a layer part cannot itself be layered ('{ref.name}')")
        label = name or f"layers(fine {fine.name}, coarse {coarse.name})"
        return StyleRef(kind="layers", name=label, layers=(fine, coarse))

    def blend(self, path: KeyPath, table: dict, name: str | None) -> StyleRef:
        v.table(self.ctx, path, table, {"blend"})
        members = v.table(self.ctx, path + ("blend",), table["blend"])
        if not members:
            self.ctx.fail(path + ("blend",), "a blend needs at least one member style")
        parts = []
        for member, weight in members.items():
            at = path + ("blend", member)
            weight = v.number(self.ctx, at, weight, low=0.0, low_open=True)
            ref = self.string(at, member, allow_keep=False)
            if ref.kind == "layers":
                self.ctx.fail(at, f"a blend member cannot be a layered style ('{member}'); blend inside the "
                                  "layers' fine and coarse parts instead")
            parts.append((ref, weight))
        total = sum(w for _, w in parts)
        blend = tuple((ref, w / total) for ref, w in parts)
        label = name or "blend(" + ", ".join(f"{ref.name} {w:.2g}" for ref, w in blend) + ")"
        return StyleRef(kind="blend", name=label, blend=blend)


def _renamed(ref: StyleRef, name: str) -> StyleRef:
    return replace(ref, name=name)


def _crop(ctx: v.Context, path: KeyPath, value: object) -> tuple[float, float, float, float]:
    left, top, right, bottom = v.numbers(ctx, path, value, count=4, low=0.0)
    if max(left, top, right, bottom) > 1.0 or not (left < right and top < bottom):
        ctx.fail(path, "crop is [left, top, right, bottom] as fractions in [0, 1] with left < right "
                       f"and top < bottom, got {value}")
    return left, top, right, bottom


def _frozen(ctx: v.Context, path: KeyPath, value: object) -> object:
    """A parameter value made hashable: scalars as they are, arrays as tuples; tables are refused."""
    if isinstance(value, list):
        return tuple(_frozen(ctx, path, item) for item in value)
    if isinstance(value, dict):
        ctx.fail(path, "a built-in style parameter cannot be a table")
    if isinstance(value, float) and value != value:
        ctx.fail(path, "a built-in style parameter cannot be nan")
    return value
