"""deploy/aws/fluxa.yaml through the field's linters: cfn-lint (AWS's own) and checkov.

Both live in `.venv-checks` (`make test` creates it: checkov pins older boto3 and packaging
than Fluxa uses, so it cannot share Fluxa's environment).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TEMPLATES = sorted((ROOT / "deploy" / "aws").glob("*.yaml"))
TOOLS = ROOT / ".venv-checks" / "bin"

pytestmark = pytest.mark.skipif(
    not (TOOLS / "checkov").exists(), reason="make test creates .venv-checks first"
)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_cfn_lint_finds_nothing_not_even_informational(template):
    result = subprocess.run(
        [TOOLS / "cfn-lint", "--include-checks", "I", "--format", "json", "--", template],
        capture_output=True,
        timeout=300,
    )
    findings = json.loads(result.stdout or b"[]")
    assert findings == [], json.dumps(findings, indent=2)
    assert result.returncode == 0


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_checkov_fails_nothing_and_every_suppression_says_why(template):
    result = subprocess.run(
        [TOOLS / "checkov", "-f", template, "--framework", "cloudformation", "--skip-download",
         "--output", "json"],
        capture_output=True, timeout=600,
    )  # fmt: skip
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    skipped = report["results"]["skipped_checks"]
    assert skipped, "the suppressions are read (a report without them would prove nothing)"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) > 20, check["check_id"]
    assert report["summary"]["passed"] >= 10
