"""Vocabularies: built-in class orders, names and synonyms, aliases per vocabulary, class-list files."""

from __future__ import annotations

from pathlib import Path

import pytest

from maskrules import (
    VOCABULARY_NAMES,
    RuleError,
    Vocabulary,
    get_vocabulary,
    load_class_list,
    missing_by_vocabulary,
    vocabulary_from_class_list,
)
from maskrules.names import normalize_name
from maskrules.vocab_data import BUILTIN_ALIASES
from tests.paths import SHARED_DATA

SHARED = SHARED_DATA
ADE_LABELS = SHARED / "models" / "deeplabv3_mnv2_ade20k" / "labels.txt"


def test_builtin_sizes_and_landmark_ids():
    ade, ade150 = get_vocabulary("ade20k"), get_vocabulary("ade20k-150")
    city, voc = get_vocabulary("cityscapes"), get_vocabulary("voc")
    assert [len(v.classes) for v in (ade, ade150, city, voc)] == [151, 150, 19, 21]
    assert VOCABULARY_NAMES == ("ade20k", "ade20k-150", "cityscapes", "voc")
    # Ids quoted by the shared data README and the task (scene-parsing convention).
    expected = {0: "others", 1: "wall", 2: "building", 3: "sky", 5: "tree", 7: "road", 13: "person",
                22: "water", 59: "screen door", 65: "coffee table", 110: "swimming pool", 131: "screen",
                137: "traffic light", 150: "flag"}
    assert {i: ade.classes[i] for i in expected} == expected
    assert (city.classes[0], city.classes[6], city.classes[10], city.classes[18]) == (
        "road", "traffic light", "sky", "bicycle")
    assert (voc.classes[0], voc.classes[11], voc.classes[15], voc.classes[20]) == (
        "background", "diningtable", "person", "tvmonitor")


def test_the_two_ade20k_conventions_differ_by_one():
    ade, ade150 = get_vocabulary("ade20k"), get_vocabulary("ade20k-150")
    assert ade.classes[1:] == ade150.classes
    for name in ("sky", "traffic light", "flag", "wall", "greenery"):
        assert {i - 1 for i in ade.ids_for(name)} == set(ade150.ids_for(name))


@pytest.mark.parametrize("vocab_name", VOCABULARY_NAMES)
def test_every_spelling_selects_exactly_one_class(vocab_name: str):
    vocab = get_vocabulary(vocab_name)
    spellings = [c for c in vocab.classes if c] + [s for syn in vocab.synonyms.values() for s in syn]
    for spelling in spellings:
        assert len(vocab.exact_ids(spelling)) == 1, spelling
    assert len({normalize_name(c) for c in vocab.classes}) == len(vocab.classes)


def test_names_ignore_case_spaces_underscores_and_hyphens():
    ade = get_vocabulary("ade20k")
    for spelling in ("traffic light", "Traffic Light", "traffic_light", "TRAFFIC-LIGHT", " traffic  light "):
        assert ade.ids_for(spelling) == frozenset({137})
    assert get_vocabulary("ADE20K_150") is get_vocabulary("ade20k-150")


def test_synonyms_select_their_class():
    ade, voc, city = get_vocabulary("ade20k"), get_vocabulary("voc"), get_vocabulary("cityscapes")
    assert ade.exact_ids("individual") == ade.exact_ids("person") == frozenset({13})
    assert ade.exact_ids("palm tree") == frozenset({73}) and ade.exact_ids("tv") == frozenset({90})
    readable = {"airplane": 1, "dining table": 11, "motorcycle": 14, "potted plant": 16, "tv": 20}
    assert {name: set(voc.exact_ids(name)) for name in readable} == {n: {i} for n, i in readable.items()}
    assert city.exact_ids("motorbike") == frozenset({17})


def test_aliases_resolve_to_the_members_each_vocabulary_has():
    ade, ade150 = get_vocabulary("ade20k"), get_vocabulary("ade20k-150")
    city, voc = get_vocabulary("cityscapes"), get_vocabulary("voc")
    assert ade.ids_for("building") == {2, 26, 49, 80, 85}  # building house skyscraper hovel tower
    assert ade.ids_for("water") == {22, 27, 61, 110, 114, 129}
    assert ade.ids_for("road") == {7, 12, 53} and ade.exact_ids("road") == {7}
    assert ade.ids_for("greenery") == {5, 10, 18, 67, 73}
    assert ade150.ids_for("building") == {1, 25, 48, 79, 84}
    assert city.ids_for("building") == {2} and city.ids_for("road") == {0, 1}
    assert city.ids_for("person") == {11, 12} and city.ids_for("greenery") == {8}
    assert not city.knows("water") and "water" not in city.aliases
    assert voc.ids_for("greenery") == {16} and voc.ids_for("vehicles") == {2, 6, 7, 14, 19}
    assert not voc.knows("sky") and voc.ids_for("background") == {0} and ade.ids_for("background") == {0}


def test_every_alias_member_exists_somewhere():
    everywhere = set().union(*(get_vocabulary(n).names(aliases=False) for n in VOCABULARY_NAMES))
    for alias, members in BUILTIN_ALIASES.items():
        assert [m for m in members if normalize_name(m) not in everywhere] == [], alias


def test_get_vocabulary_miss_lists_valid_names():
    with pytest.raises(RuleError) as info:
        get_vocabulary("cityscape")
    assert str(info.value) == ("unknown vocabulary 'cityscape'; did you mean 'cityscapes'? "
                               "(valid: ade20k, ade20k-150, cityscapes, voc)")


def _first_words(vocab: Vocabulary) -> list[str]:
    return [name.split(" ")[0] for name in vocab.classes]


def test_truncated_class_lists_are_recognised_as_builtins():
    ade = get_vocabulary("ade20k")
    id_tab = "\n".join(f"{i}\t{word}" for i, word in enumerate(_first_words(ade)))
    assert vocabulary_from_class_list(id_tab) is ade
    bare = "# ADE20K-150\n\n" + "\n".join(_first_words(get_vocabulary("ade20k-150")))
    assert vocabulary_from_class_list(bare) is get_vocabulary("ade20k-150")
    city = "\n".join(f"{i}: {name}" for i, name in enumerate(get_vocabulary("cityscapes").classes))
    assert vocabulary_from_class_list(city) is get_vocabulary("cityscapes")
    voc = "\n".join(get_vocabulary("voc").classes).replace("tvmonitor", "TV-Monitor")
    assert vocabulary_from_class_list(voc) is get_vocabulary("voc")


@pytest.mark.shared
@pytest.mark.skipif(not ADE_LABELS.is_file(), reason="needs ../shared/data (the DeepLab ADE20K labels.txt)")
def test_shared_deeplab_labels_file_is_ade20k_with_full_names():
    vocab = load_class_list(ADE_LABELS)
    assert vocab is get_vocabulary("ade20k")
    assert (vocab.classes[65], vocab.classes[110], vocab.classes[137]) == (
        "coffee table", "swimming pool", "traffic light")


def test_custom_class_list_keeps_ids_gaps_and_aliases():
    vocab = vocabulary_from_class_list("# my model\n0 backdrop\n2 Sea\n3\tlake  # fresh water\n5 house\n")
    assert vocab.name == "custom" and vocab.classes == ("backdrop", "", "Sea", "lake", "", "house")
    assert vocab.ids_for("water") == {2, 3} and vocab.ids_for("building") == {5}
    assert vocab.ids_for("") == frozenset() and not vocab.knows("sky")
    plain = vocabulary_from_class_list("road\nsky\n", name="mine")
    assert (plain.name, plain.classes, plain.ids_for("ground")) == ("mine", ("road", "sky"), {0})


@pytest.mark.parametrize(("text", "message"), [
    ("", "class list is empty"),
    ("# only a comment\n\n", "class list is empty"),
    ("0 sky\n0 sea\n", "class list gives id 0 twice ('sky' and 'sea')"),
    ("0 sky\nsea\n", "class list mixes 'id name' lines and bare names; use one form"),
    ("99999999 sky\n", "class list has an id above 65535"),
])
def test_class_list_errors(text: str, message: str):
    with pytest.raises(RuleError) as info:
        vocabulary_from_class_list(text)
    assert info.value.message == message


def test_load_class_list_errors_name_the_file(tmp_path: Path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(RuleError) as info:
        load_class_list(tmp_path / "empty.txt")
    assert str(info.value) == f"{tmp_path / 'empty.txt'}: class list is empty"
    with pytest.raises(RuleError) as info:
        load_class_list(tmp_path / "nope.txt")
    assert info.value.path == tmp_path / "nope.txt" and "cannot read class list" in info.value.message


def test_missing_by_vocabulary_for_auto_segmenter_choice():
    custom = vocabulary_from_class_list("sky\nrider\n", name="two")
    result = missing_by_vocabulary(["sky", "water", "rider", "greenery", "*", "sky"],
                                   ["ade20k", "cityscapes", "voc", custom])
    assert result == {"ade20k": ("rider",), "cityscapes": ("water",), "voc": ("sky", "water", "rider"),
                      "two": ("water", "greenery")}
    assert min(result, key=lambda k: len(result[k])) == "ade20k"
