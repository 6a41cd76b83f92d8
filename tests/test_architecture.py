"""Import boundaries, checked by tools: import-linter contracts (pyproject.toml) and a
generic rule that no domain imports another domain's models or routes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_DOMAINS = {"core", "web", "migrations", "__pycache__"}


def domains(package_dir: Path) -> list[str]:
    """Domain packages: folders of sandan with a models.py or service.py."""
    return sorted(
        p.name
        for p in package_dir.iterdir()
        if p.is_dir()
        and p.name not in NOT_DOMAINS
        and ((p / "models.py").exists() or (p / "service.py").exists())
    )


_CHECK = """
import json, sys
import grimp
graph = grimp.build_graph("sandan", cache_dir=None)
names = json.loads(sys.argv[1])
found = []
for source in names:
    for target in names:
        for private in (f"sandan.{target}.models", f"sandan.{target}.api"):
            if source == target or private not in graph.modules:
                continue
            for importer in sorted(graph.find_modules_that_directly_import(private)):
                if importer == f"sandan.{source}" or importer.startswith(f"sandan.{source}."):
                    found.append(f"{importer} imports {private}")
print(json.dumps(found))
"""


def cross_domain_violations(package_dir: Path) -> list[str]:
    """Imports from one domain into another domain's models or api modules (in a fresh
    interpreter, so the tree under test is the one analysed)."""
    env = {**os.environ, "PYTHONPATH": str(package_dir.parent)}
    result = subprocess.run(
        [sys.executable, "-c", _CHECK, json.dumps(domains(package_dir))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: list[str] = json.loads(result.stdout)
    return found


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_linter_contracts_hold() -> None:
    result = _lint(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_importing_a_domain_breaks_the_contract(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "sandan", copy / "sandan", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (copy / "sandan" / "core" / "errors.py").open("a") as handle:
        handle.write("\nfrom sandan.registry import models as _models  # a broken boundary\n")
    result = _lint(tmp_path, copy)
    assert result.returncode != 0
    assert "core imports no domain BROKEN" in result.stdout


def test_no_domain_imports_another_domains_models_or_routes() -> None:
    assert cross_domain_violations(ROOT / "src" / "sandan") == []


def test_a_cross_domain_model_import_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "sandan"
    for name in ("core", "alpha", "beta"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "alpha" / "models.py").write_text("X = 1\n")
    (package / "alpha" / "service.py").write_text("from sandan.alpha.models import X\n")
    (package / "beta" / "service.py").write_text("from sandan.alpha.models import X\n")
    assert cross_domain_violations(package) == ["sandan.beta.service imports sandan.alpha.models"]


def test_test_modules_have_unique_names() -> None:
    """Test directories are not packages (pytest puts each on sys.path), so two test modules
    of one name make pytest refuse to collect the whole suite."""
    seen: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        if "__pycache__" not in path.parts and path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
