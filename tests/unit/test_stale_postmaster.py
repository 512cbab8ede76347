"""A killed postmaster left as a zombie must not keep the standalone's PostgreSQL down:
its pid file goes once no process of the old server is left (and not before)."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from launcher.postgres import clear_stale_pid_file, postmaster_alive
from launcher.waiting import wait_until


def pid_file(folder, pid: int) -> None:
    (folder / "postmaster.pid").write_text(f"{pid}\n{folder}\n")


def test_a_zombie_postmaster_s_pid_file_is_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # not waited for: a zombie
    try:
        wait_until(lambda: psutil.Process(dead.pid).status() == psutil.STATUS_ZOMBIE,
                   timeout=10, interval=0.01, what="the child to exit")  # fmt: skip
        pid_file(tmp_path, dead.pid)
        assert not postmaster_alive(tmp_path)
        clear_stale_pid_file(tmp_path)
        assert not (tmp_path / "postmaster.pid").exists()
    finally:
        dead.wait()


def test_the_file_stays_while_a_process_of_the_old_server_works_in_its_folder(tmp_path):
    pid_file(tmp_path, 2**22 + 17)  # no such process: the postmaster is gone
    backend = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                               cwd=tmp_path)  # fmt: skip
    try:
        with pytest.raises(RuntimeError, match=str(backend.pid)):
            clear_stale_pid_file(tmp_path)
        assert (tmp_path / "postmaster.pid").exists()
    finally:
        backend.kill()
        backend.wait()
    clear_stale_pid_file(tmp_path)
    assert not (tmp_path / "postmaster.pid").exists()


def test_a_live_postmaster_s_file_is_left_alone(tmp_path):
    pid_file(tmp_path, os.getpid())
    clear_stale_pid_file(tmp_path)
    assert (tmp_path / "postmaster.pid").exists()
