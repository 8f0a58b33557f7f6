"""The package as a new user gets it: built (sdist, then the wheel from it), installed into a fresh
venv, and run from a folder outside the checkout."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
import requests

CHECKOUT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "app.py", "ddsite", "templates", "static")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the built wheel installed (and its dependencies, from the index)."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"  # a copy, so the build writes nothing into the checkout
    for name in SOURCES:
        if (CHECKOUT / name).is_dir():
            shutil.copytree(CHECKOUT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(CHECKOUT / name, source / name)
    dist = folder / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], timeout=600)
    venv = folder / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    wheel = next(dist.glob("ddsite-*.whl"))
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], timeout=600)
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DDSITE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(XDG_DATA_HOME=str(folder / "home-data"), PYTHONUNBUFFERED="1")
    return {"dist": dist, "venv": venv, "wheel": wheel, "cwd": elsewhere, "env": env,
            "home_data": folder / "home-data"}


def _run(command: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _shipped_files() -> set[str]:
    return {str(path.relative_to(CHECKOUT)) for folder in ("templates", "static")
            for path in (CHECKOUT / folder).rglob("*") if path.is_file()}


def test_wheel_and_sdist_carry_every_template_and_static_file(installed):
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        in_wheel = {name.removeprefix("ddsite/") for name in wheel.namelist()
                    if name.startswith(("ddsite/templates/", "ddsite/static/"))}
    assert in_wheel == _shipped_files()
    sdist = next(installed["dist"].glob("ddsite-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert _shipped_files() <= in_sdist


def test_installed_demo_serves_pages_static_files_and_the_sandbox_shell(installed):
    process = subprocess.Popen([str(installed["venv"] / "bin" / "ddsite"), "demo"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=installed["env"], cwd=installed["cwd"])
    try:
        assert process.stdout.readline().startswith("ddsite demo is running")
        sandbox = re.search(r"Open (http://localhost:\d+)/", process.stdout.readline()).group(1)
        site = re.search(r"the site at (http://127\.0\.0\.1:\d+)", process.stdout.readline()).group(1)
        shell = requests.get(f"{sandbox}/portal/", timeout=10)
        assert shell.status_code == 200 and "<iframe" in shell.text
        with requests.get(f"{sandbox}/static/sandbox.css", timeout=10) as sandbox_css:
            assert sandbox_css.status_code == 200
        with requests.get(f"{site}/static/ddsite.css", timeout=10) as stylesheet:
            assert stylesheet.status_code == 200 and stylesheet.headers["Content-Type"].startswith(
                "text/css")
        nothing_yet = requests.get(f"{site}/", timeout=10)
        assert nothing_yet.status_code == 400 and "Open this page from DeskDirector" in nothing_yet.text
        # the shell's iframe: intake, then a real page (the handle in the URL: plain HTTP here)
        src = html.unescape(re.search(r'<iframe id="site"[^>]*src="([^"]+)"', shell.text).group(1))
        page = requests.get(src, timeout=15)
        assert page.status_code == 200 and re.search(r'href="/static/ddsite.css\?v=[0-9a-f]{12}"', page.text)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()


def test_installed_package_keeps_its_data_in_the_user_data_folder(installed):
    code = ("from ddsite import create_app; "
            "app = create_app({'SECRET_KEY': 's', 'DESKDIRECTOR_HOSTS': ['https://dd.example.com']}); "
            "app.test_client().get('/readyz'); print(app.instance_path)")
    python = str(installed["venv"] / "bin" / "python")
    instance = _run([python, "-c", code], env=installed["env"], cwd=installed["cwd"]).stdout.strip()
    assert Path(instance) == installed["home_data"] / "ddsite"
    assert (Path(instance) / "sessions").is_dir()
    site_packages = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         env=installed["env"]).stdout.strip()
    written = [path for path in Path(site_packages).rglob("*")
               if path.name in ("instance", "sessions")]
    assert written == [] and not instance.startswith(sysconfig.get_path("purelib"))
