"""The built-in class lists and aliases, as plain data (written for maskrules from the datasets' docs).

Each class is (name, synonyms). Names are readable full names ("coffee table"); the first word of each
ADE20K name is what the TensorFlow DeepLab labels.txt prints ("coffee"), which is how class-list files
are recognised. Synonyms come from ADE20K's objectInfo150 where they are unambiguous (a synonym shared
by two classes, such as "screen" or "ground", is left out).
"""

from __future__ import annotations

ClassList = tuple[tuple[str, tuple[str, ...]], ...]

# ADE20K scene parsing, 150 classes in the benchmark's order (ids 1..150 in the "ade20k" convention).
ADE20K_150: ClassList = (
    ("wall", ()), ("building", ("edifice",)), ("sky", ()), ("floor", ("flooring",)), ("tree", ()),
    ("ceiling", ()), ("road", ("route",)), ("bed", ()), ("windowpane", ("window",)), ("grass", ()),
    ("cabinet", ()), ("sidewalk", ("pavement",)), ("person", ("individual", "someone", "somebody")),
    ("earth", ()), ("door", ("double door",)), ("table", ()), ("mountain", ("mount",)),
    ("plant", ("flora", "plant life")), ("curtain", ("drape", "drapery")), ("chair", ()),
    ("car", ("auto", "automobile")), ("water", ()), ("painting", ("picture",)), ("sofa", ("couch",)),
    ("shelf", ()), ("house", ()), ("sea", ()), ("mirror", ()), ("rug", ("carpet",)), ("field", ()),
    ("armchair", ()), ("seat", ()), ("fence", ("fencing",)), ("desk", ()), ("rock", ("stone",)),
    ("wardrobe", ("closet",)), ("lamp", ()), ("bathtub", ("bath", "tub")), ("railing", ("rail",)),
    ("cushion", ()), ("base", ("pedestal",)), ("box", ()), ("column", ("pillar",)),
    ("signboard", ("sign",)), ("chest of drawers", ("dresser", "bureau")), ("counter", ()),
    ("sand", ()), ("sink", ()), ("skyscraper", ()), ("fireplace", ("hearth",)),
    ("refrigerator", ("fridge", "icebox")), ("grandstand", ("covered stand",)), ("path", ()),
    ("stairs", ("steps",)), ("runway", ()), ("case", ("display case", "showcase", "vitrine")),
    ("pool table", ("billiard table", "snooker table")), ("pillow", ()), ("screen door", ()),
    ("stairway", ("staircase",)), ("river", ()), ("bridge", ()), ("bookcase", ()), ("blind", ()),
    ("coffee table", ("cocktail table",)), ("toilet", ()), ("flower", ()), ("book", ()), ("hill", ()),
    ("bench", ()), ("countertop", ()), ("stove", ("kitchen stove",)), ("palm", ("palm tree",)),
    ("kitchen island", ()), ("computer", ()), ("swivel chair", ()), ("boat", ()), ("bar", ()),
    ("arcade machine", ()), ("hovel", ("hut", "shack")), ("bus", ()), ("towel", ()),
    ("light", ("light source",)), ("truck", ()), ("tower", ()), ("chandelier", ()),
    ("awning", ("sunshade",)), ("streetlight", ("street lamp",)), ("booth", ("kiosk", "cubicle")),
    ("television", ("television receiver", "tv")), ("airplane", ("aeroplane", "plane")),
    ("dirt track", ()), ("apparel", ("clothes",)), ("pole", ()), ("land", ("soil",)),
    ("bannister", ("banister", "balustrade", "handrail")), ("escalator", ()), ("ottoman", ("pouf",)),
    ("bottle", ()), ("buffet", ("sideboard",)), ("poster", ("placard",)), ("stage", ()), ("van", ()),
    ("ship", ()), ("fountain", ()), ("conveyer belt", ("conveyor belt",)), ("canopy", ()),
    ("washer", ("washing machine",)), ("plaything", ("toy",)), ("swimming pool", ()), ("stool", ()),
    ("barrel", ("cask",)), ("basket", ()), ("waterfall", ("falls",)), ("tent", ()), ("bag", ()),
    ("minibike", ("motorbike",)), ("cradle", ()), ("oven", ()), ("ball", ()), ("food", ()),
    ("step", ("stair",)), ("tank", ("storage tank",)), ("trade name", ("brand name", "brand")),
    ("microwave", ()), ("pot", ("flowerpot",)), ("animal", ()), ("bicycle", ("bike",)), ("lake", ()),
    ("dishwasher", ()), ("screen", ("projection screen",)), ("blanket", ()), ("sculpture", ()),
    ("hood", ("exhaust hood",)), ("sconce", ()), ("vase", ()), ("traffic light", ("traffic signal",)),
    ("tray", ()), ("ashcan", ("trash can", "garbage can", "dustbin")), ("fan", ()),
    ("pier", ("wharf", "dock")), ("crt screen", ()), ("plate", ()), ("monitor", ()),
    ("bulletin board", ("notice board",)), ("shower", ()), ("radiator", ()),
    ("glass", ("drinking glass",)), ("clock", ()), ("flag", ()),
)

# Cityscapes, the 19 evaluation classes by train id.
CITYSCAPES_19: ClassList = (
    ("road", ()), ("sidewalk", ("pavement",)), ("building", ()), ("wall", ()), ("fence", ()),
    ("pole", ()), ("traffic light", ()), ("traffic sign", ()), ("vegetation", ()), ("terrain", ()),
    ("sky", ()), ("person", ()), ("rider", ()), ("car", ()), ("truck", ()), ("bus", ()), ("train", ()),
    ("motorcycle", ("motorbike",)), ("bicycle", ("bike",)),
)

# Pascal VOC 2012 segmentation, 21 ids with 0 = background; the dataset's own spellings first.
VOC_21: ClassList = (
    ("background", ()), ("aeroplane", ("airplane", "plane")), ("bicycle", ("bike",)), ("bird", ()),
    ("boat", ()), ("bottle", ()), ("bus", ()), ("car", ()), ("cat", ()), ("chair", ()), ("cow", ()),
    ("diningtable", ("dining table", "table")), ("dog", ()), ("horse", ()),
    ("motorbike", ("motorcycle",)), ("person", ()), ("pottedplant", ("potted plant", "plant")),
    ("sheep", ()), ("sofa", ("couch",)), ("train", ()), ("tvmonitor", ("tv monitor", "tv", "monitor")),
)

# Aliases shared by every vocabulary; each resolves to whichever members a vocabulary has (members are
# matched like any class name, synonyms included). A name that is also a class stays selectable on its
# own through the overlap rule: a class named directly beats the same class reached through an alias.
_BUILDINGS = ("building", "house", "skyscraper", "tower", "hovel")
_GREENERY = ("tree", "palm", "plant", "grass", "flower", "vegetation", "pottedplant")
_ROADS = ("road", "sidewalk", "path")
_PEOPLE = ("person", "rider")
_VEHICLES = ("car", "truck", "bus", "van", "train", "motorcycle", "minibike", "bicycle")
_ANIMALS = ("animal", "bird", "cat", "cow", "dog", "horse", "sheep")

BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "building": _BUILDINGS,
    "buildings": _BUILDINGS,
    "water": ("water", "sea", "river", "lake", "waterfall", "swimming pool"),
    "greenery": _GREENERY,
    "vegetation": _GREENERY,
    "trees": ("tree", "palm", "vegetation"),
    "road": _ROADS,
    "roads": _ROADS,
    "ground": _ROADS + ("earth", "land", "dirt track", "field", "sand", "terrain", "runway"),
    "mountains": ("mountain", "hill"),
    "person": _PEOPLE,
    "people": _PEOPLE,
    "vehicle": _VEHICLES,
    "vehicles": _VEHICLES,
    "boats": ("boat", "ship"),
    "animals": _ANIMALS,
    "signs": ("signboard", "traffic sign", "poster", "bulletin board"),
    "furniture": ("chair", "armchair", "swivel chair", "sofa", "table", "coffee table", "desk", "bed",
                  "cabinet", "wardrobe", "bookcase", "shelf", "diningtable", "ottoman", "stool",
                  "bench", "chest of drawers"),
    "background": ("background", "others"),
}
