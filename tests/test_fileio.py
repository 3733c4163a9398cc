import os
import stat

import pytest

from keras_archs.fileio import atomic_write, atomic_write_dir, write_json


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "metrics.json"
    write_json({"accuracy": 0.5}, target)

    def crash(temp_path):
        with open(temp_path, "w") as handle:
            handle.write('{"accuracy": 0.9')  # half written
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_text().strip() == '{\n  "accuracy": 0.5\n}'
    assert os.listdir(tmp_path) == ["metrics.json"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o044, "artifacts are readable by others, as with open()"


def test_a_folder_is_swapped_in_whole(tmp_path):
    target = tmp_path / "saved_model"

    def write(folder):
        os.makedirs(folder)
        (open(os.path.join(folder, "a"), "w")).close()

    atomic_write_dir(target, write)
    atomic_write_dir(target, write)
    assert os.listdir(target) == ["a"] and os.listdir(tmp_path) == ["saved_model"]
