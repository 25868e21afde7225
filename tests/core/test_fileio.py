import os
import stat

import pytest

from automm.errors import AutommError
from automm.fileio import atomic_path, write_text


def test_written_files_get_the_umask_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        with atomic_path(tmp_path / "d", directory=True) as tmp:
            (tmp / "f").write_text("y")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_failure_leaves_the_old_file_and_no_temp(tmp_path):
    write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_unwritable_parent_is_a_one_line_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(AutommError, match="cannot write"):
        write_text(tmp_path / "file" / "sub" / "a.txt", "x")
