"""forecast.output_path: an output path is refused before the work when it can never be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from modreg.errors import UsageError
from modreg.forecast.output_path import check_output_file


def test_a_new_file_in_new_folders_is_fine(tmp_path: Path) -> None:
    check_output_file(tmp_path / "new" / "deeper" / "out.csv", "--output", "out.csv")
    check_output_file(tmp_path / "out.csv", "--output", "out.csv")
    assert list(tmp_path.iterdir()) == []  # checking makes nothing


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--save names a folder, not a file.") as raised:
        check_output_file(tmp_path, "--save", "model.npz")
    assert raised.value.hint == f"name a file inside it, e.g. {tmp_path / 'model.npz'}."


@pytest.mark.parametrize("link", [False, True])
def test_a_path_under_a_file_or_a_dangling_link_is_refused(tmp_path: Path, link: bool) -> None:
    blocker = tmp_path / "blocker"
    if link:
        blocker.symlink_to(tmp_path / "missing")
    else:
        blocker.write_text("x")
    with pytest.raises(UsageError, match=f"{blocker} is a file, not a folder.") as raised:
        check_output_file(blocker / "sub" / "out.csv", "--output", "out.csv")
    assert raised.value.hint == f"choose a path beside it, e.g. {tmp_path / 'out.csv'}."
