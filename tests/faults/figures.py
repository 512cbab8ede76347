"""Each scenario prints its ledger figures, collected into docs/reliability.md by hand."""

from __future__ import annotations

import json


def report(scenario: str, **figures: object) -> None:
    print(f"\nFAULT-FIGURES {json.dumps({'scenario': scenario, **figures})}")
