"""Clients generated from the app's OpenAPI document come out clean: openapi-python-client
makes a Python client without a single warning, and openapi-typescript's types compile a
small typed program (tour.ts) under `tsc --strict`, with docs/examples/verify_webhook.ts
beside it when that exists.

The tools live outside the repository, in SALESCORE_CLIENTS_CACHE (default
~/.cache/salescore-clients): the Python generator in a virtualenv of its own (it pins an
older httpx than the project's), node_modules as typescript/package-lock.json pins them,
each kept under a key of what it was made from, so only the first run installs."""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from salescore.api.app import create_app
from salescore.settings import Settings

HERE = Path(__file__).parent
TYPESCRIPT = HERE / "typescript"
WEBHOOK_EXAMPLE = HERE.parents[1] / "docs" / "examples" / "verify_webhook.ts"
PYTHON_GENERATOR = "openapi-python-client==0.29.1"
CACHE = Path(os.environ.get("SALESCORE_CLIENTS_CACHE",
                            Path.home() / ".cache" / "salescore-clients"))
NO_NODE = ("node and npm are needed to check the TypeScript types: install Node.js 20 or "
           "later (https://nodejs.org, or `apt-get install nodejs npm`)")


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = create_app(Settings(jwt_secret="unused"), "postgresql+asyncpg://unused@x/unused")
    path = tmp_path_factory.mktemp("spec") / "openapi.json"
    path.write_text(json.dumps(app.openapi(), indent=2))
    return path


def _run(*command: str | Path, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> str:
    """The command's output (stdout and stderr together); the test fails if it does."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                          check=False)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}"
    return done.stdout


@contextmanager
def _prepared(name: str) -> Iterator[tuple[Path, bool]]:
    """CACHE/name, and whether it is ready; held under a lock, so that runs side by side
    build it once. A directory left half made (no `.ready`) is made again."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        place = CACHE / name
        ready = (place / ".ready").exists()
        if not ready and place.exists():
            shutil.rmtree(place)
        yield place, ready
        (place / ".ready").touch()


def _python_generator() -> Path:
    key = hashlib.sha256(PYTHON_GENERATOR.encode()).hexdigest()[:12]
    with _prepared(f"python-{key}") as (venv, ready):
        if not ready:
            _run(sys.executable, "-m", "venv", venv)
            _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", PYTHON_GENERATOR)
    return venv / "bin" / "python"


def _node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(NO_NODE)
    lock = (TYPESCRIPT / "package-lock.json").read_bytes()
    with _prepared(f"typescript-{hashlib.sha256(lock).hexdigest()[:12]}") as (place, ready):
        if not ready:
            place.mkdir()
            for name in ("package.json", "package-lock.json"):
                shutil.copy(TYPESCRIPT / name, place / name)
            _run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=place)
    return place / "node_modules"


def test_the_python_client_is_generated_without_a_warning(spec_file: Path, tmp_path: Path):
    generator = _python_generator()
    # The generator formats what it made with ruff (the project's own, from its venv).
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    client = tmp_path / "salescore_client"
    output = _run(generator, "-m", "openapi_python_client", "generate", "--path", spec_file,
                  "--output-path", client, "--meta", "none", "--config",
                  HERE / "openapi-python-client.yaml", "--fail-on-warning", env=env)
    assert "warning" not in output.lower(), output
    assert "skipping" not in output.lower(), output
    for module in ("opportunities/list_opportunities", "opportunities/create_opportunity",
                   "opportunities/move_opportunity", "reports/get_pipeline_report",
                   "imports/start_import", "quotes/get_quote_pdf"):
        assert (client / "api" / f"{module}.py").is_file(), module


def test_the_typescript_types_compile_a_typed_program(spec_file: Path, tmp_path: Path):
    node_modules = _node_modules()
    work = tmp_path / "typescript"
    work.mkdir()
    (work / "node_modules").symlink_to(node_modules)
    output = _run("node", node_modules / "openapi-typescript" / "bin" / "cli.js", spec_file,
                  "--output", work / "salescore.ts")
    assert "warn" not in output.lower(), output
    programs = [TYPESCRIPT / "tour.ts", *([WEBHOOK_EXAMPLE] if WEBHOOK_EXAMPLE.exists() else [])]
    for program in programs:
        shutil.copy(program, work / program.name)
    _run("node", node_modules / "typescript" / "bin" / "tsc", "--strict", "--noEmit",
         "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
         "--lib", "es2022,dom", "--types", "node", "--skipLibCheck",
         "salescore.ts", *(program.name for program in programs), cwd=work)
