"""The media plugin describes the ``source`` record of the caches it extracts."""

from __future__ import annotations

from automm.report.source import describe_source


def test_backbone_parameters_and_weights_from_the_cache_source() -> None:
    media = {"backbones": {"image": {"weights": "random-init (seed 0)", "params": 10},
                           "audio": {"weights": "vox.safetensors", "params": 5}}}
    described = describe_source(media)
    assert described.backbone_params == 15
    assert described.weights == "image: random-init (seed 0); audio: vox.safetensors"
    assert described.random_init == ("image",)
    assert describe_source({"backbones": {"image": {"weights": "x"}}}).backbone_params is None
    assert describe_source({"weights": "synthetic"}).backbone_params is None
    assert describe_source({"weights": "synthetic"}).weights == "synthetic"
    assert describe_source({}).weights is None


def test_backbones_read_as_words() -> None:
    source = {"dataset": {"protocol": "single", "datasets": [{"name": "corpus"}]},
              "backbones": {"image": {"name": "resnet34", "weights": "/m/img_net.pt", "pretrained": True},
                            "audio": {"name": "resnet34", "weights": "random-init (seed 1)"}}}
    assert describe_source(source).describe("Searched", "cache") == (
        "Searched on the features of the dataset corpus cached in cache, extracted by the image backbone "
        "resnet34 (pretrained weights img_net.pt) and the audio backbone resnet34 (randomly initialised).")
