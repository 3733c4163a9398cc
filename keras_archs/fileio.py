"""Writing artifacts so that a crash never leaves half a file: temp path, then rename."""

import json
import os
import shutil
import tempfile

__all__ = ["atomic_write", "atomic_write_dir", "write_json"]


def _umask_permissions(path, mode):
    # mkstemp/mkdtemp make owner-only files; artifacts get the usual umask permissions.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def atomic_write(path, write, suffix=None):
    """Calls `write(temp_path)` for a temp file beside `path`, then renames it to `path`.

    Args:
        path: destination file.
        write: callable that writes the whole artifact to the path it is given.
        suffix: what the temp file's name ends in, for writers that insist on one (Keras'
            `save_weights` needs ".weights.h5"); default `path`'s extension.

    Returns:
        `path`. On any error the temp file is removed and `path` is left as it was.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, extension = os.path.splitext(name)
    handle, temp_path = tempfile.mkstemp(prefix=f".{stem}-", suffix=f".tmp{suffix or extension}", dir=folder)
    os.close(handle)
    try:
        write(temp_path)
        _umask_permissions(temp_path, 0o666)
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)
    return path


def atomic_write_dir(path, write):
    """Calls `write(temp_dir)` for a folder beside `path`, then swaps it in for `path`."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    staging_root = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}-")
    try:
        staging = os.path.join(staging_root, "artifact")
        write(staging)
        _umask_permissions(staging, 0o777)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    return path


def write_json(data, path):
    """Writes `data` as indented JSON through `atomic_write`."""

    def write(temp_path):
        with open(temp_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")

    return atomic_write(path, write)
