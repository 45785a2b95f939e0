"""Progress lines: on a terminal they go to stderr; piped, nothing is printed there."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import graphlabor

EXAMPLE = [graphlabor.example_path("edges"), "--nodes", graphlabor.example_path("nodes")]


def test_progress_on_a_terminal(tmp_path):
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "graphlabor", "attribute", *EXAMPLE, "-o", str(tmp_path / "o.parquet")],
            stdout=subprocess.PIPE, stderr=slave, timeout=300,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    assert proc.returncode == 0
    text = b"".join(chunks).decode()
    for stage in ("read edges", "encode ids", "build graph", "solve", "write"):
        assert f"graphlabor: {stage} ..." in text
    assert "GiB" in text


def test_quiet_when_piped(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "graphlabor", "attribute", *EXAMPLE, "-o", str(tmp_path / "o.parquet")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "total injected" in proc.stdout
