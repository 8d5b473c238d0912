"""Layer plans: which taps of each encoder feed the style loss, and which one the content loss.

Plain data (no torch), so the command line can list encoders without loading a network.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerPlan:
    """Which taps feed the style loss (with relative weights) and which one the content loss.

    style_weight: the style/content balance calibrated for this network (see regionstyle.objective).
    softmax_temperature: if set, style and content compare :func:`~regionstyle.encoder.smoothing.
        softmax_channels` of the activations rather than the activations (applied by ``load_encoder``).
    antialias: blur before the network's strided convolutions (applied by ``load_encoder``; see
        :func:`regionstyle.encoder.mobilenet._blur_before_strides`).
    iterations: the coarsest scale's evaluations where the config sets none: how many this network's
        loss needs, measured per network.
    detail_side: the largest long side at which a painting is read; an exemplar sized past it (a painting
        at a 1024 px scale) is enlarged from that size, so the style asks for no finer texture than the
        painting shows there (None: every size read as it is).
    """

    style: tuple[tuple[str, float], ...]
    content: str
    style_weight: float = 100.0
    fine: LayerPlan | None = None
    softmax_temperature: float | None = None
    antialias: bool = False
    iterations: int = 200
    detail_side: int | None = None

    @property
    def taps(self) -> tuple[str, ...]:
        """Every tap this plan (and its fine-scale plan) reads."""
        own = [name for name, _ in self.style] + [self.content]
        return tuple(dict.fromkeys(own + list(self.fine.taps if self.fine else ())))

    @property
    def fine_taps(self) -> frozenset[str]:
        """The style taps a layered style's ``fine`` part drives; the others take its ``coarse`` part.

        The split, defined here once: the shallower half of ``style`` (the first n // 2 taps, in the order
        written, which is shallow to deep) is fine, the deeper half is coarse, the middle tap of an odd count
        included: at stride 4 (VGG relu3_1, MobileNetV2 b4_expand) a tap already sees motifs tens of pixels
        wide rather than grain. VGG: relu1_1, relu2_1 | relu3_1, relu4_1, relu5_1; MobileNetV2: stem,
        b2_expand | b4_expand, b7_expand, b14_expand. A ``fine`` sub-plan follows its parent's split
        (:func:`regionstyle.optimize.optimize` passes it down), so a tap is fine or coarse at every scale.
        """
        names = [name for name, _ in self.style]
        return frozenset(names[:len(names) // 2])

    @property
    def own_taps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([name for name, _ in self.style] + [self.content]))


# MobileNetV2 reads a painting at most 800 px across: at a 1024 px scale The Starry Night's pixel-level
# texture (fine grain 0.114, twice its 512 px one) came back as a coloured 2-4 px speckle (sky grain 0.054);
# read at 800 px and enlarged, 0.025, with the style as strong and more structure kept (four photos at
# 1024 px, benchmarks/README.md, "Paintings read at most 800 px across"). Outputs up to 800 px are unchanged
# at the default `scale`; a larger `scale` sizes the painting past 800 px sooner.
_MOBILENET_DETAIL_SIDE = 800

# Fine scales (see regionstyle.optimize.FINE_ABOVE) refine texture with the shallow layers only: the deep,
# large-scale statistics were settled at the coarse scales, and VGG19 up to relu3_1 costs ~30% of a pass
# to relu5_1; MobileNetV2 to b4_expand about 65% of one to b14_expand (forward+backward at 512x384: 140
# against 200-240 ms), and the Grams of b7_expand and the 576-channel b14_expand go too. (Anchoring the
# fine pass to the upsampled coarser result instead of the photo was tried: it kept the coarse scale's blur.)
_VGG_FINE = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0), ("relu3_1", 1.0)), content="relu3_1")
_VGG_PLAN = LayerPlan(style=(("relu1_1", 1.0), ("relu2_1", 1.0), ("relu3_1", 1.0), ("relu4_1", 1.0),
                             ("relu5_1", 1.0)), content="relu4_2", fine=_VGG_FINE)
LAYER_PLANS: dict[str, LayerPlan] = {
    "vgg19": _VGG_PLAN,
    "vgg16": _VGG_PLAN,
    # Random filters describe fine detail poorly: with relu1_1/relu2_1 at full weight the optimiser meets
    # them with pixel grain; lighter there, the deeper layers' larger patterns lead (benchmarks/README.md).
    "random": LayerPlan(style=(("relu1_1", 0.2), ("relu2_1", 0.5), ("relu3_1", 1.0), ("relu4_1", 1.0),
                               ("relu5_1", 1.0)), content="relu4_2",
                        fine=LayerPlan(style=(("relu1_1", 0.2), ("relu2_1", 0.5), ("relu3_1", 1.0)),
                                       content="relu3_1")),
    # Expanded ReLU6 activations at strides 2, 2, 4, 8, 16: the widest layers of each resolution. Softmax
    # over channels keeps windows on stylised buildings (benchmarks/README.md); taps, layer weights, content
    # tap and style weight were measured too and changed the results less than the run-to-run noise.
    # Blurring before the strided convolutions (antialias) turned pixel speckle into longer strokes.
    # Its fine plan stops the pass at block 4 (stride 4), which also makes the content tap shallower there:
    # a 512 px run took 38-40 s against 45-50 s, with the same quality on the ten shared photos.
    # 140 evaluations at the coarsest scale: on the pixels' Laplacian pyramid (regionstyle/pyramid.py) they
    # styled the ten shared photos as strongly as 200 on the pixels had. With the VGG19-shaped random
    # network the pyramid lowered the loss no faster by the end, so the VGG plans keep 200.
    "mobilenet_v2": LayerPlan(style=(("stem", 1.0), ("b2_expand", 1.0), ("b4_expand", 1.0),
                                     ("b7_expand", 1.0), ("b14_expand", 1.0)), content="b7_expand",
                              softmax_temperature=1.0, antialias=True, iterations=140,
                              detail_side=_MOBILENET_DETAIL_SIDE,
                              fine=LayerPlan(style=(("stem", 1.0), ("b2_expand", 1.0), ("b4_expand", 1.0)),
                                             content="b4_expand", softmax_temperature=1.0, antialias=True,
                                             detail_side=_MOBILENET_DETAIL_SIDE)),
}
