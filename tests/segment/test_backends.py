"""Every backend's code path with random weights, loaded through the real loading code, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from maskrules import SegmentationSpec, get_vocabulary
from regionstyle import threads
from regionstyle.weights import torch_hub
from regionstyle.errors import BadInput, MissingDependency, WeightsUnavailable
from regionstyle.segment import build_segmenter, get_segmenter_info, load_label_map_segmentation

SMALL = SegmentationSpec(input_size=(64, 64))


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """Tiny forwards: with the 2 shared cores busy, OpenMP's spinning threads make them 50x slower. (A torch
    backend gives torch the count a run chose: an earlier test's run must not bring back two.)"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setattr(threads, "_chosen", [1])
    yield
    torch.set_num_threads(before)


def images(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((40, 56, 3), dtype=np.float32), rng.random((33, 30, 3), dtype=np.float32)]


def expected_labels(scores_khw: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    up = F.interpolate(scores_khw[None].double(), size=size, mode="bilinear", align_corners=False)
    return up[0].argmax(0).numpy()


def imagenet_input(image: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (x - mean) / std


def check_against(network, segmentations, imgs, *, k: int) -> None:
    """Each Segmentation matches the network run by hand: probs = softmax, labels = upsampled argmax."""
    for seg, image in zip(segmentations, imgs):
        with torch.no_grad():
            out = network(imagenet_input(image, (64, 64)))
        scores = (out["out"] if isinstance(out, dict) else out)[0]
        assert seg.probs.shape == (k, 64, 64) and seg.labels.shape == image.shape[:2]
        np.testing.assert_allclose(seg.probs, scores.softmax(0).numpy(), atol=1e-4)
        assert (seg.labels == expected_labels(scores, image.shape[:2])).mean() > 0.999


# ---- torchvision DeepLabV3 -----------------------------------------------------------------------------


def test_deeplab_loads_a_cached_checkpoint_and_segments(offline_caches):
    import torchvision.models.segmentation as tv_seg

    torch.manual_seed(0)
    network = tv_seg.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21,
                                                  aux_loss=True).eval()
    cache_file = torch_hub.cache_candidates(get_segmenter_info("deeplabv3_mobilenet_v3_large").weights)[-1]
    assert str(cache_file).startswith(str(offline_caches / "torch"))
    cache_file.parent.mkdir(parents=True)
    torch.save(network.state_dict(), cache_file)

    segmenter = build_segmenter("deeplabv3_mobilenet_v3_large", spec=SMALL)
    assert segmenter.vocabulary.name == "voc" and segmenter.name == "deeplabv3_mobilenet_v3_large"
    imgs = images()
    segmentations = segmenter.segment(imgs)
    check_against(network, segmentations, imgs, k=21)
    assert segmentations[0].class_names == get_vocabulary("voc").classes
    assert segmentations[0].source == "torchvision:deeplabv3_mobilenet_v3_large"


def test_deeplab_offline_error_names_file_cache_and_ways_out(offline_caches):
    with pytest.raises(WeightsUnavailable) as info:
        build_segmenter("deeplabv3_mobilenet_v3_large")
    message = str(info.value)
    assert "deeplabv3_mobilenet_v3_large-fc3c493d.pth" in message
    assert str(offline_caches / "torch" / "hub" / "checkpoints") in message
    assert "regionstyle weights fetch deeplabv3_mobilenet_v3_large" in message
    assert "--segmenter-weights PATH" in message and "label map" in message


def test_deeplab_checkpoint_of_the_wrong_network_is_refused_clearly(offline_caches, tmp_path):
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(BadInput, match="weights do not fit deeplabv3_mobilenet_v3_large"):
        build_segmenter("deeplabv3_mobilenet_v3_large", weights=wrong)


# ---- segmentation-models-pytorch hub (SegFormer) -------------------------------------------------------


def tiny_segformer(classes: int = 150):
    import segmentation_models_pytorch as smp

    torch.manual_seed(1)
    return smp.Segformer(encoder_name="mit_b0", encoder_weights=None, classes=classes).eval()


def put_in_hf_cache(network, cache: Path, repo: str, *, config_overrides: dict | None = None) -> Path:
    """Lay files out as huggingface_hub does: refs/main -> snapshots/<commit>/{config.json,model.safetensors}."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / ("0" * 40)
    network.save_pretrained(snapshot)
    config = json.loads((snapshot / "config.json").read_text())
    (snapshot / "config.json").write_text(json.dumps({**config, **(config_overrides or {})}))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("0" * 40)
    return snapshot


def test_segformer_loads_from_the_hf_cache_without_downloading_encoder_weights(offline_caches):
    network = tiny_segformer()
    # A config asking for ImageNet encoder weights would download them; we must build with None.
    put_in_hf_cache(network, offline_caches / "hf" / "hub", "smp-hub/segformer-b0-512x512-ade-160k",
                    config_overrides={"encoder_weights": "imagenet"})
    segmenter = build_segmenter("ade20k-b0", spec=SMALL)
    assert segmenter.vocabulary.name == "ade20k-150" and len(segmenter.vocabulary.classes) == 150
    imgs = images(1)
    check_against(network, segmenter.segment(imgs), imgs, k=150)


def test_segformer_from_a_local_folder_or_bare_file(offline_caches, tmp_path):
    network = tiny_segformer(classes=19)
    network.save_pretrained(tmp_path / "folder")
    bare = tmp_path / "bare.pth"
    torch.save(network.state_dict(), bare)  # no config.json beside it: the built-in default config applies
    for local in (tmp_path / "folder", bare):
        # 50x60 is not a SegFormer size: it is rounded up to multiples of 32 rather than failing inside smp.
        segmenter = build_segmenter("cityscapes-b0", weights=local, spec=SegmentationSpec(input_size=(50, 60)))
        assert segmenter.conventions.size == (64, 64) and segmenter.vocabulary.name == "cityscapes"
        imgs = images(2)[:1]
        check_against(network, segmenter.segment(imgs), imgs, k=19)


def test_segformer_offline_error_names_hub_id_cache_and_ways_out(offline_caches):
    with pytest.raises(WeightsUnavailable) as info:
        build_segmenter("ade20k", download=True)  # download allowed, but HF_HUB_OFFLINE=1
    message = str(info.value)
    assert "smp-hub/segformer-b2-512x512-ade-160k" in message and "HF_HUB_OFFLINE is set" in message
    assert str(offline_caches / "hf" / "hub" / "models--smp-hub--segformer-b2-512x512-ade-160k") in message
    assert "regionstyle weights fetch ade20k-b2" in message and "--segmenter-weights PATH" in message
    assert "--model PATH.tflite" in message and "--labels PATH.png" in message


# ---- model files ---------------------------------------------------------------------------------------


def conv_onnx(path: Path, weight: np.ndarray, bias: np.ndarray, *, argmax: bool = False) -> None:
    """A 1x1-convolution segmentation model (N, 3, H, W) -> (N, K, H, W) logits, or ids with argmax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    k = weight.shape[0]
    nodes = [helper.make_node("Conv", ["image", "w", "b"], ["logits"])]
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", k, "h", "w"])
    if argmax:
        nodes.append(helper.make_node("ArgMax", ["logits"], ["ids"], axis=1, keepdims=0))
        out = helper.make_tensor_value_info("ids", TensorProto.INT64, ["n", "h", "w"])
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, "h", "w"])], [out],
        initializer=[numpy_helper.from_array(weight.reshape(k, 3, 1, 1), "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


@pytest.fixture
def onnx_model(tmp_path):
    rng = np.random.default_rng(5)
    weight, bias = rng.normal(size=(21, 3)).astype(np.float32), rng.normal(size=21).astype(np.float32)
    conv_onnx(tmp_path / "seg.onnx", weight, bias)
    (tmp_path / "model.toml").write_text(
        'file = "seg.onnx"\nclasses = "voc"\ninput_size = [24, 32]\ninput_layout = "NCHW"\n'
        'channel_order = "BGR"\ninput_range = [-1.0, 1.0]\noutput = "logits"\n')
    return tmp_path / "seg.onnx", weight, bias


def test_onnx_model_with_descriptor_matches_an_independent_computation(onnx_model):
    path, weight, bias = onnx_model
    segmenter = build_segmenter(str(path))
    assert segmenter.vocabulary.name == "voc" and segmenter.conventions.size == (24, 32)
    imgs = images(3)
    for seg, image in zip(segmenter.segment(imgs), imgs):
        x = torch.from_numpy(image).permute(2, 0, 1)[None]
        x = F.interpolate(x, size=(24, 32), mode="bilinear", align_corners=False, antialias=True)[0]
        x = x.flip(0).numpy() * 2 - 1  # BGR in [-1, 1]
        logits = torch.from_numpy(np.einsum("kc,chw->khw", weight, x) + bias[:, None, None])
        np.testing.assert_allclose(seg.probs, logits.softmax(0).numpy(), atol=1e-5)
        assert (seg.labels == expected_labels(logits, image.shape[:2])).mean() > 0.999
        assert seg.source == f"onnx:{path}"


def test_spec_settings_override_the_descriptor(onnx_model):
    path, _, _ = onnx_model
    segmenter = build_segmenter(str(path.parent), spec=SegmentationSpec(input_size=(8, 8), channel_order="RGB"))
    assert segmenter.conventions.size == (8, 8) and segmenter.conventions.channel_order == "RGB"
    assert segmenter.segment(images()[:1])[0].probs.shape == (21, 8, 8)


def test_onnx_ids_output_without_descriptor_uses_spec_conventions(tmp_path):
    conv_onnx(tmp_path / "ids.onnx", np.eye(3, dtype=np.float32), np.zeros(3, np.float32), argmax=True)
    spec = SegmentationSpec(classes_file=None, classes="custom-unused", output="ids", input_range=(0.0, 1.0))
    with pytest.raises(BadInput, match="not a class list file, and unknown vocabulary"):
        build_segmenter(str(tmp_path / "ids.onnx"), spec=spec)
    (tmp_path / "rgb.txt").write_text("red\ngreen\nblue\n")
    spec = SegmentationSpec(classes_file=tmp_path / "rgb.txt", output="ids", input_range=(0.0, 1.0))
    image = np.zeros((10, 12, 3), np.float32)
    image[:, 6:, 2] = 1.0  # right half blue
    seg = build_segmenter(str(tmp_path / "ids.onnx"), spec=spec).segment([image])[0]
    assert seg.probs is None and seg.class_names == ("red", "green", "blue")
    assert (seg.labels[:, 6:] == 2).all() and (seg.labels[:, :6] == 0).all()


def test_model_file_without_classes_says_how_to_declare_them(tmp_path):
    conv_onnx(tmp_path / "bare.onnx", np.eye(3, dtype=np.float32), np.zeros(3, np.float32))
    with pytest.raises(BadInput, match=r"needs a class list: put classes = \"labels.txt\""):
        build_segmenter(str(tmp_path / "bare.onnx"))


@pytest.mark.parametrize("suffix, module, install", [(".tflite", "ai_edge_litert", "ai-edge-litert"),
                                                     (".onnx", "onnxruntime", r"regionstyle\[onnx\]")])
def test_a_missing_runtime_says_what_to_install(tmp_path, monkeypatch, suffix, module, install):
    model = tmp_path / f"model{suffix}"
    model.write_bytes(b"not read: the runtime import fails first")
    (tmp_path / "model.toml").write_text(f'file = "{model.name}"\nclasses = "voc"\ninput_range = [0, 1]\n')
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(MissingDependency, match=rf"pip install {install}"):
        build_segmenter(str(model))


# ---- label maps ----------------------------------------------------------------------------------------


def save_ids(path: Path, ids: np.ndarray) -> Path:
    Image.fromarray(ids.astype(np.uint8), mode="L").save(path)
    return path


def test_label_map_is_resized_nearest_with_a_warning(tmp_path, caplog):
    ids = np.zeros((20, 30), np.uint8)
    ids[:10] = 3  # sky on top in the ade20k convention
    path = save_ids(tmp_path / "map.png", ids)
    seg = load_label_map_segmentation(path, classes="ade20k", image_size=(40, 60))
    assert seg.labels.shape == (40, 60) and seg.probs is None and seg.vocabulary == "ade20k"
    assert (seg.labels[:20] == 3).all() and (seg.labels[20:] == 0).all()
    assert seg.class_names[3] == "sky"
    assert "resizing the map" in caplog.text


def test_label_map_with_another_aspect_ratio_is_refused_with_both_sizes(tmp_path):
    path = save_ids(tmp_path / "map.png", np.zeros((20, 30), np.uint8))
    with pytest.raises(BadInput, match="is 30x20 but the photo is 30x30"):
        load_label_map_segmentation(path, classes="ade20k", image_size=(30, 30))


def test_label_map_ids_outside_the_vocabulary_point_at_the_ade20k_conventions(tmp_path):
    ids = np.full((4, 4), 150, np.uint8)
    path = save_ids(tmp_path / "map.png", ids)
    with pytest.raises(BadInput, match=r"holds id\(s\) \[150\] but the ade20k-150 vocabulary has ids 0..149; "
                                       r"ids 0..150 look like the scene-parsing convention"):
        load_label_map_segmentation(path, classes="ade20k-150", image_size=(4, 4))
    assert load_label_map_segmentation(path, classes="ade20k", image_size=(4, 4)).class_names[150] != ""


def test_label_map_segmenter_serves_every_image(tmp_path):
    path = save_ids(tmp_path / "map.png", np.tile(np.arange(4, dtype=np.uint8), (4, 1)))
    segmenter = build_segmenter(str(path), spec=SegmentationSpec(classes="voc"))
    out = segmenter.segment([np.zeros((8, 8, 3), np.float32)])
    assert out[0].labels.shape == (8, 8) and out[0].labels[0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    with pytest.raises(BadInput, match="needs its classes"):
        build_segmenter(str(path))


def test_colour_coded_label_map_reads_through_its_legend(tmp_path):
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[:3] = (135, 206, 235)  # sky
    rgb[3:] = (128, 64, 0)  # building
    Image.fromarray(rgb).save(tmp_path / "map.png")
    (tmp_path / "map.legend.txt").write_text("# colours of map.png\n#87CEEB sky\n128 64 0 building\n")
    seg = load_label_map_segmentation(tmp_path / "map.png", classes="ade20k", image_size=(6, 8))
    assert (seg.labels[:3] == 3).all() and (seg.labels[3:] == 2).all()
    (tmp_path / "map.legend.txt").write_text("#87CEEB skyy\n")
    with pytest.raises(BadInput, match=r"map.legend.txt:1: 'skyy' is not a class"):
        load_label_map_segmentation(tmp_path / "map.png", classes="ade20k", image_size=(6, 8))
    (tmp_path / "map.legend.txt").unlink()
    with pytest.raises(BadInput, match="map.legend.txt"):
        load_label_map_segmentation(tmp_path / "map.png", classes="ade20k", image_size=(6, 8))
