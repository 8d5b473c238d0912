"""The package as users install it: a built wheel carries the bundled models, their licences, the sample and
the page of `regionstyle serve`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.paths import PROJECT

EXPECTED = [
    "regionstyle/weights/bundled/deeplabv3_mnv2_ade20k/model.tflite",
    "regionstyle/weights/bundled/deeplabv3_mnv2_ade20k/model.toml",
    "regionstyle/weights/bundled/deeplabv3_mnv2_ade20k/labels.txt",
    "regionstyle/weights/bundled/deeplabv3_mnv2_ade20k/LICENSE",
    "regionstyle/weights/bundled/deeplabv3_mnv2_ade20k/PROVENANCE.md",
    "regionstyle/weights/bundled/mobilenet_v2_imagenet/mobilenet_v2_fp16.safetensors",
    "regionstyle/weights/bundled/mobilenet_v2_imagenet/model.toml",
    "regionstyle/weights/bundled/mobilenet_v2_imagenet/LICENSE",
    "regionstyle/weights/bundled/mobilenet_v2_imagenet/PROVENANCE.md",
    "regionstyle/data/sample_photo.jpg",
    "regionstyle/serve/static/index.html",
    "regionstyle/serve/static/app.js",
    "regionstyle/serve/static/app.css",
    "maskrules/__init__.py",
]


@pytest.mark.slow
def test_a_built_wheel_holds_the_bundled_models_and_the_sample(tmp_path):
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for name in ("regionstyle", "maskrules"):
        shutil.copytree(PROJECT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, source / name)
    # No build isolation: the test needs no network (setuptools comes with the test extra).
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("regionstyle-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in EXPECTED if name not in names]
    assert not missing, missing
    sizes = {info.filename: info.file_size for info in zipfile.ZipFile(wheel).infolist()}
    for name in EXPECTED:
        original = PROJECT / name
        assert sizes[name] == original.stat().st_size, name
