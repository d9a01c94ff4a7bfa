"""Shared pytest fixtures and the environment every test process runs in."""
import logging
import os

# Before Prefect is imported anywhere: no telemetry, and room for the ephemeral API
# server to start on a loaded 2-core machine (Prefect's default wait is 20 s).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

# Prefect stops its ephemeral API server at interpreter exit and logs that to a stream
# pytest has already closed: without this, logging prints a traceback after the summary.
logging.raiseExceptions = False

import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from pg import pg_url  # noqa: E402,F401  (PostgreSQL database per test, see tests/pg.py)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty operational store's URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite'}"
    return request.getfixturevalue("pg_url")


# Set by others, not by a test: pytest around every test; opencv's cv2/__init__ on its first
# import (the one Qt build of opencv-python; whichever test imports cv2 first sets them).
NOT_A_TESTS = {"PYTEST_CURRENT_TEST", "LD_LIBRARY_PATH", "QT_QPA_FONTDIR", "QT_QPA_PLATFORM_PLUGIN_PATH"}


def _prefect_settings() -> object | None:
    """The settings context Prefect reads now (a temporary one, else the process-wide one), if
    Prefect is imported: a test must neither replace the global one nor leave its own entered."""
    context = sys.modules.get("prefect.context")
    return context.SettingsContext.get() if context else None


@pytest.fixture(autouse=True, scope="module")
def leaves_no_environment_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module of flow tests, its fixtures included, leaves os.environ, the working directory
    and Prefect's global settings as it found them: flow tests point PREFECT_HOME at a
    temporary folder, and a later module must not inherit it."""
    module = request.node
    if not any(item.get_closest_marker("flow") for item in request.session.items if item.module is module.obj):
        yield
        return
    environ, cwd, settings = dict(os.environ), os.getcwd(), _prefect_settings()
    yield
    changed = sorted(k for k in environ.keys() | os.environ.keys()
                     if environ.get(k) != os.environ.get(k) and k not in NOT_A_TESTS)
    problems = [f"environment variables changed: {', '.join(changed)}"] if changed else []
    if os.getcwd() != cwd:
        problems.append(f"working directory changed: {cwd} -> {os.getcwd()}")
    if settings is not None and _prefect_settings() is not settings:
        problems.append("Prefect's settings context was replaced or left entered")
    if problems:
        for key in changed:  # so that the next module starts clean
            if key in environ:
                os.environ[key] = environ[key]
            else:
                os.environ.pop(key, None)
        os.chdir(cwd)
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A temporary PREFECT_HOME for one module's flow runs, undone after it.

    Set both ways: in Prefect's settings context for this process (Prefect read the environment
    when it was first imported, maybe while tests were collected), and in os.environ for the
    processes a run starts (its API server, Dask workers)."""
    from prefect.settings import PREFECT_HOME, PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    home = tmp_path_factory.mktemp("prefect")
    values = {PREFECT_HOME: str(home), PREFECT_LOCAL_STORAGE_PATH: str(home / "storage")}
    with pytest.MonkeyPatch.context() as env, temporary_settings(updates=values):
        for setting, value in values.items():
            env.setenv(setting.name, value)
        yield home
