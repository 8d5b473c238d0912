"""Fuzzing: whatever the text, parse_rules either succeeds or raises RuleError; located lines are right."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskrules import RuleError, get_vocabulary, parse_rules, resolve
from regionstyle.config import rules_settings

SETTINGS = rules_settings()  # regionstyle's schema, as regionstyle hands it to the parser
from maskrules.names import normalize_name

SOURCE = "/nonexistent-maskrules-fuzz/rules.toml"  # relative paths resolve under a folder that is not there
FUZZ = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

_KEYS = ["classes", "style", "strength", "content_weight", "color", "feather", "priority", "name", "builtin",
         "image", "blend", "scale", "crop", "tile", "model", "labels", "min_area", "input_size", "input_range",
         "mean", "std", "output", "input_layout", "size", "iterations", "scales", "preview", "seed",
         "encoder_weights", "sky", "tree", "building", "greenery", "*", "watercolor", "oil", "keep", "a", "b"]
_WORDS = _KEYS + ["x.jpg", "dir/x.png", "ade20k", "voc", "cityscapes", "NHWC", "RGB", "logits", "match",
                  "preserve", "lbfgs", "soft", "model.onnx", "classes.txt", ""]

keys = st.sampled_from(_KEYS) | st.text(max_size=6)
scalars = (st.sampled_from(_WORDS) | st.text(max_size=8) | st.booleans()
           | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=12)
tables = st.dictionaries(keys, values, max_size=5)
documents = st.fixed_dictionaries({}, optional={
    "map": tables, "styles": tables, "groups": tables, "segmentation": tables, "defaults": tables,
    "rule": st.lists(tables, max_size=3) | values, "extra": values})


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(document: dict) -> str:
    out = []
    for name, body in document.items():
        if name == "rule" and isinstance(body, list) and all(isinstance(t, dict) for t in body):
            out += [f"[[rule]]\n" + "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in t.items())
                    for t in body]
        elif isinstance(body, dict):
            out.append(f"[{name}]\n" + "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in body.items()))
        else:
            out.insert(0, f"{name} = {_toml_value(body)}\n")
    return "\n".join(out)


def _parse_or_rule_error(text: str) -> None:
    try:
        ruleset = parse_rules(text, source=SOURCE, settings=SETTINGS)
    except RuleError as exc:
        assert "\n" not in str(exc) and exc.message
        assert exc.line is None or 1 <= exc.line <= text.count("\n") + 1
        return
    for name in ("ade20k", "cityscapes", "voc"):  # whatever parses must also resolve
        resolve(ruleset, get_vocabulary(name))


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_gives_only_rule_errors(text: str):
    _parse_or_rule_error(text)


@FUZZ
@given(st.lists(st.sampled_from(["[map]", "[[rule]]", "[styles]", "[groups]", "[defaults]", "[segmentation]",
                                 "sky = ", "classes = ", "style = ", '"oil"', '"keep"', "{", "}", "[", "]", ",",
                                 "=", "\n", '"', "'''", "#", "blend = ", "1", "-0.5", "inf", "true", "*"]),
                max_size=40))
def test_toml_fragments_give_only_rule_errors(parts: list[str]):
    _parse_or_rule_error(" ".join(parts))


@FUZZ
@given(documents)
def test_toml_documents_give_only_rule_errors(document: dict):
    _parse_or_rule_error(_toml(document))


@settings(deadline=None, max_examples=100)
@given(st.integers(1, 6), st.data())
def test_error_line_points_at_the_bad_key(count: int, data: st.DataObject):
    bad = data.draw(st.integers(1, count))
    key, value = data.draw(st.sampled_from([("strength", "-1"), ("color", '"red"'), ("style", '"nope"'),
                                            ("priority", '"high"'), ("feather", "nan")]))
    lines: list[str] = ['# rules', '[map]', 'sky = "oil"']
    expected = 0
    for i in range(1, count + 1):
        blank = data.draw(st.integers(0, 2))
        lines += [""] * blank + ["[[rule]]", 'classes = ["tree", "grass"]  # comment = [x]']
        lines.append(f"{key} = {value}" if i == bad else 'style = "pencil"')
        if i == bad:
            expected = len(lines)
            if key != "style":
                lines.append('style = "pencil"')
    try:
        parse_rules("\n".join(lines) + "\n", settings=SETTINGS)
    except RuleError as exc:
        assert (exc.line, exc.key_path) == (expected, f"rule[{bad}].{key}")
    else:
        raise AssertionError("expected a RuleError")


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=20), st.lists(st.sampled_from([" ", "_", "-", "\t"]), max_size=4), st.data())
def test_normalize_ignores_case_and_separators(name: str, seps: list[str], data: st.DataObject):
    spot = data.draw(st.integers(0, len(name)))
    noisy = (name[:spot] + "".join(seps) + name[spot:]).upper()
    assert normalize_name(noisy) == normalize_name(name.upper()) == normalize_name(normalize_name(name.upper()))
