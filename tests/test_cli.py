import numpy as np
import pytest

import keras
import keras_archs
from keras_archs import cli


def test_list_build_prints_measured_counts_next_to_the_references(capsys):
    assert cli.main(["list", "lenet5*", "--build"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "constructor", "input", "trainable"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"lenet5", "lenet5_paper"}
    assert "61,706" in rows["lenet5"] and " yes " in rows["lenet5"]
    assert "60,000" in rows["lenet5_paper"] and "LeNet5(variant='paper')" in rows["lenet5_paper"]


def test_list_build_prints_one_progress_line_per_model_on_stderr(capsys):
    assert cli.main(["list", "lenet5*", "--build"]) == 0
    assert capsys.readouterr().err.splitlines() == ["[1/2] measuring lenet5", "[2/2] measuring lenet5_paper"]


def test_list_build_markdown_and_unmatched_pattern(capsys):
    assert cli.main(["list", "nin_cifar1*", "--markdown", "--build"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| name | paper |") and out[1].startswith("|---|")
    assert "Network In Network" in out[2]
    assert len(out) == 4 and "966,986" in out[2]
    assert cli.main(["list", "zzz*"]) == 1


def test_list_answers_from_the_registry_without_building(capsys, layers_created):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "constructor", "input", "params"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert list(rows) == keras_archs.list_models()
    assert rows["resnet50"][1:7] == ["ResNet50()", "224x224x3", "25,583,592", "-", "75.3", "2016"]
    assert rows["resnet50"][7:] == ["ResNet50", "-", "keras"]
    assert rows["tv_resnet50"][3:5] == ["25,557,032", "4.089"] and rows["tv_resnet50"][-1] == "torchvision"
    assert not layers_created


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--family", "dpn"], keras_archs.list_models(family="dpn")),
        (["--twin"], keras_archs.list_models(twin=True)),
        (["vgg*", "--pretrained", "--has-reference"], keras_archs.list_models("vgg*", pretrained=True,
                                                                             has_reference=True)),
    ],
)
def test_list_filters_are_list_models_filters(flags, expected, capsys):
    assert cli.main(["list", *flags]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == expected
    assert expected


def test_list_without_a_match_says_which_filters(capsys):
    assert cli.main(["list", "lenet*", "--pretrained"]) == 1
    assert capsys.readouterr().err.strip() == "No model matches 'lenet*', pretrained=True."


def test_info_and_summary(capsys):
    assert cli.main(["info", "vgg16"]) == 0
    out = capsys.readouterr().out
    assert "1409.1556" in out and "138,357,544" in out and "VGG16" in out
    assert cli.main(["summary", "lenet5_paper"]) == 0
    out = capsys.readouterr().out
    assert "Trainable params: 60,000" in out and "GMACs" in out and "ConnectionTableConv2D" in out


def test_unknown_model_exits_with_a_message(capsys):
    assert cli.main(["info", "resnet9000"]) == 2
    assert "resnet9000" in capsys.readouterr().err


def test_zoo_row_match_flag():
    row = cli.ZooRow("m", "M()", "1x1x1", 5, 6, 0.0, 2000)
    assert row.match == "NO"
    assert cli.ZooRow("m", "M()", "1x1x1", 5, None, 0.0, 2000).match == "-"


def test_preprocessing_modes():
    pixels = np.array([[[[0.0], [255.0]]]], dtype="float32")
    lenet = keras.ops.convert_to_numpy(keras_archs.preprocess_input(pixels, "lenet"))
    np.testing.assert_allclose(lenet.ravel(), [-0.1, 1.175], rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_archs.preprocess_input(pixels, "unit")).ravel(), [0, 1])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_archs.preprocess_input(pixels, "raw")).ravel(), [0, 255])
    assert keras_archs.model_info("mobilenet_v3_small").preprocessing == "raw"  # it rescales inside
    rgb = np.full((1, 2, 2, 3), 255.0, dtype="float32")
    expected = keras.applications.imagenet_utils.preprocess_input(rgb.copy(), mode="torch")
    np.testing.assert_allclose(keras_archs.preprocess_input(rgb.copy(), "torch"), expected)
    with pytest.raises(ValueError, match="mode"):
        keras_archs.preprocess_input(pixels, "imagenet")


def test_export_writes_the_layout_and_a_report(tmp_path, capsys):
    import json

    output = tmp_path / "run"
    code = cli.main([
        "export", "lenet5", "--format", "tflite", "--quantize", "int8", "--calibration-samples", "40",
        "--latency-runs", "3", "--output", str(output),
    ])
    assert code == 0
    assert sorted(p.name for p in output.iterdir()) == ["export_report.json", "model.tflite", "model_int8.tflite"]
    report = json.loads((output / "export_report.json").read_text())
    assert report["model.tflite"]["max_abs_diff"] <= 1e-4
    assert report["model_int8.tflite"]["size_ratio_to_float32"] < 0.5
    # The parity report covers the whole held-out split (the digits' 359 test images) and says so.
    assert report["model.tflite"]["images"] == report["model_int8.tflite"]["images"] == 359
    assert report["model_int8.tflite"]["calibration_images"] == 40
    assert report["model.tflite"]["calibration_images"] is None
    out = capsys.readouterr().out
    assert "model_int8.tflite" in out
    assert "parity and accuracy over 359 images of digits 'test' (the whole split); int8 calibrated on 40 images" in out
    assert cli.main(["export", str(tmp_path / "missing.keras")]) == 2


def test_export_of_a_saved_keras_file_writes_next_to_it(tmp_path, capsys):
    import json

    path = tmp_path / "lenet5.keras"
    keras_archs.get_model("lenet5").save(path)
    assert cli.main(["export", str(path), "--samples", "16", "--latency-runs", "1"]) == 0
    assert {"model.tflite", "export_report.json"} <= {p.name for p in tmp_path.iterdir()}
    assert "random weights" not in capsys.readouterr().err
    assert json.loads((tmp_path / "export_report.json").read_text())["model.tflite"]["images"] == 16


def test_info_names_the_registry_training_presets(capsys):
    assert cli.main(["info", "resnet20"]) == 0
    assert "training preset: resnet_cifar (recipes/train.py); CIFAR: resnet_cifar" in capsys.readouterr().out
    assert cli.main(["info", "densenet121"]) == 0
    assert "training preset: densenet (recipes/train.py); CIFAR: densenet_cifar" in capsys.readouterr().out


def test_weights_lists_each_published_checkpoint_without_building(capsys, layers_created):
    assert cli.main(["weights", "tv_resnet50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "weights=", "source"]
    assert [line.split()[1:4] for line in lines[1:]] == [
        ["imagenet,", "torchvision.IMAGENET1K_V2", "torchvision"], ["torchvision.IMAGENET1K_V1", "torchvision",
                                                                  "ResNet50_Weights.IMAGENET1K_V1"],
    ]
    assert "80.858" in lines[1] and "resize 232, crop 224, bilinear; torch" in lines[1]
    assert not layers_created
    assert cli.main(["weights", "lenet5*"]) == 1
    assert "No model with published weights matches 'lenet5*'" in capsys.readouterr().err


def test_info_shows_the_weights_entries(capsys):
    assert cli.main(["info", "resnet50"]) == 0
    out = capsys.readouterr().out
    assert ('pretrained weights: weights="imagenet" or "keras": keras ResNet50, top-1 74.9% '
            "(keras.io/api/applications); license MIT") in out
    assert cli.main(["info", "lenet5"]) == 0
    assert "pretrained weights: none published" in capsys.readouterr().out
