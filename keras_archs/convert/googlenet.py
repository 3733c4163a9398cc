"""torchvision `googlenet` -> `keras_archs.models.googlenet` (`variant="torchvision"`).

torchvision's `Inception` holds `branch1` (one `BasicConv2d`) and `branch2`-`branch4`
(`nn.Sequential`s; `branch4.0` is the max pooling); each `BasicConv2d` has `.conv` and
`.bn`. Our branch steps are numbered from 1: `inception_3a_b2_2_conv` is
`inception3a.branch2.1.conv`. The auxiliary heads (`aux_logits=True`) are
`aux{1,2}.conv`, `.fc1` and `.fc2`.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

def _branch_step(match):
    module, branch, step, part = match.groups()
    prefix = f"inception{module}.branch{branch}"
    if branch != "1":
        prefix = f"{prefix}.{int(step) - 1}"
    return f"{prefix}.{part}"


def layer_map(model, reference):
    del reference
    return layer_map_from_rules(model, [
        (r"(conv[123])_(conv|bn)", r"\1.\2"),
        (r"inception_(\d[a-e])_b([1-4])_(\d)_(conv|bn)", _branch_step),
        (r"(aux[12])_conv1_(conv|bn)", r"\1.conv.\2"),
        (r"(aux[12])_fc", r"\1.fc1"),
        (r"(aux[12])_predictions", r"\1.fc2"),
        ("predictions", "fc"),
    ])
