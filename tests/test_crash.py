"""Crash safety: SIGKILL at any moment of add, remove or rebuild leaves the previous index loading and answering."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = [pytest.mark.model, pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")]

# A speech long enough that embedding it takes a few seconds: the kills land in reading, embedding and writing.
NEW_SPEECH = "在全市安全生产工作会议上的讲话\n——2025年1月8日\n" + "\n".join(
    f"{'一二三四五六'[i]}、第{i + 1}方面的要求\n" + "".join(
        f"第{i + 1}方面第{j + 1}条：安全生产责任重于泰山，必须把第{j + 1}项措施落实到每一个岗位和每一个环节。" for j in range(8)
    )
    for i in range(6)
)


def _answers(qa_command, where) -> dict:
    """The serving index answers (no update, so only what is on disk counts)."""
    proc = subprocess.run([qa_command, "ask", "党的力量来自哪里", "--json", "-k", "1", "--no-update", *where],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    hit = json.loads(proc.stdout)["hits"][0]
    assert "党的力量来自组织" in hit["text"]
    status = subprocess.run([qa_command, "status", "--json", *where], capture_output=True, text=True, timeout=300)
    assert status.returncode == 0, status.stderr
    return json.loads(status.stdout)


def _killed_at(cmd, delay: float) -> int:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


@pytest.fixture
def copy(seed_copy, tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "安全生产讲话.txt").write_text(NEW_SPEECH, encoding="utf-8")
    return tmp_path, ["--data", str(tmp_path / "data"), "--index", str(tmp_path / "index")]


@pytest.mark.parametrize("action", ["add", "remove", "rebuild"])
def test_sigkill_at_any_moment_keeps_the_previous_index(qa_command, copy, action):
    root, where = copy
    new = str(root / "new" / "安全生产讲话.txt")
    if action == "add":
        cmd = [qa_command, "add", new, *where]
    elif action == "remove":
        subprocess.run([qa_command, "add", new, *where], check=True, capture_output=True, timeout=600)
        cmd = [qa_command, "remove", "安全生产讲话.txt", *where]
    else:
        cmd = [qa_command, "build", "--force", *where]
    before = _answers(qa_command, where)

    started = time.perf_counter()
    trial = subprocess.run(cmd, capture_output=True, text=True, timeout=600)  # how long an undisturbed run takes
    duration = time.perf_counter() - started
    assert trial.returncode == 0, trial.stderr
    after = _answers(qa_command, where)
    # undo, then kill the same work at moments spread over its whole length
    if action == "add":
        subprocess.run([qa_command, "remove", "安全生产讲话.txt", *where], check=True, capture_output=True, timeout=600)
    elif action == "remove":
        subprocess.run([qa_command, "add", new, *where], check=True, capture_output=True, timeout=600)
    for fraction in (0.2, 0.45, 0.7, 0.85, 0.97):
        state = _answers(qa_command, where)
        assert state["documents"] in (before["documents"], after["documents"])
        _killed_at(cmd, duration * fraction)
        state = _answers(qa_command, where)  # loads and answers after every kill
        assert state["documents"] in (before["documents"], after["documents"])
    # and the work, run again where a kill stopped it, finishes where the undisturbed run did
    if _answers(qa_command, where)["documents"] != after["documents"] or action == "rebuild":
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    assert _answers(qa_command, where)["documents"] == after["documents"]
