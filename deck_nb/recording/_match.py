"""Which recorded write a live one is: matched by what it asks, not by when it comes.

A live request is redacted as the recorded ones were (secrets are placeholders on both sides) and
compared leaf by leaf with each recorded request of its endpoint: a recorded secret matches any value
in its place (the real one was never kept), except an account's login name, which must be the same
account whenever the replay can tell (``_redact`` keeps salted digests of login names); every other
value (a task's input, a source id, a credential or connection id) must be equal. Among the recorded
requests that agree: the same body first, then the same account, then recorded order. When none
agrees the caller raises a ``ReplayMiss`` naming the nearest and where it differs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._format import SIGNED_PREFIX
from ._redact import SIGNED_HOST

PLACEHOLDER = re.compile(
    r"<redacted:[a-z_]+:\d+>|\b(?:tk|whsec|sk_live|sk_test)_redacted_\d+\b|"
    + re.escape(SIGNED_HOST + SIGNED_PREFIX)
    + r"\d+"
)
SHOWN = 60  # characters of a recorded value a miss quotes (the recording's own, redacted, text)


def differences(asked: Any, recorded: Any, accounts: set[str]) -> tuple[list[str], int]:
    """(where the two differ, how many login names are the same account) for a live and a recorded body."""
    found: list[str] = []
    same = [0]
    _walk(asked, recorded, accounts, "", found, same)
    return found, same[0]


def _walk(asked: Any, recorded: Any, accounts: set[str], where: str, found: list[str], same: list[int]) -> None:
    if isinstance(recorded, str) and PLACEHOLDER.search(recorded):
        if recorded in accounts:
            if asked == recorded:
                same[0] += 1
            elif isinstance(asked, str) and asked in accounts:
                found.append(f"{where or 'the body'} (another account than recorded)")
            return
        if PLACEHOLDER.fullmatch(recorded) or (isinstance(asked, str) and _pattern(recorded).fullmatch(asked)):
            return
        found.append(f"{where or 'the body'} (recorded: {_shown(recorded)})")
    elif isinstance(recorded, dict) and isinstance(asked, dict):
        for key in sorted(set(recorded) | set(asked)):
            inner = f"{where}.{key}" if where else str(key)
            if key not in recorded:
                found.append(f"{inner} (not in the recorded request)")
            elif key not in asked:
                found.append(f"{inner} (recorded: {_shown(recorded[key])}, not sent now)")
            else:
                _walk(asked[key], recorded[key], accounts, inner, found, same)
    elif isinstance(recorded, list) and isinstance(asked, list):
        if len(recorded) != len(asked):
            found.append(f"{where or 'the body'} ({len(recorded)} items recorded, {len(asked)} sent now)")
        for i, (a, r) in enumerate(zip(asked, recorded, strict=False)):
            _walk(a, r, accounts, f"{where}[{i}]", found, same)
    elif asked != recorded or isinstance(asked, bool) != isinstance(recorded, bool):
        found.append(f"{where or 'the body'} (recorded: {_shown(recorded)})")


def _pattern(recorded: str) -> re.Pattern[str]:
    """A recorded text with placeholders inside: any value where each placeholder stands."""
    return re.compile(".*?".join(re.escape(part) for part in PLACEHOLDER.split(recorded)), re.S)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def choose(asked: Any, candidates: list[dict[str, Any]], accounts: set[str]) -> dict[str, Any] | None:
    """The recorded request ``asked`` is, among ``candidates`` (recorded order), or None."""
    wanted = json.dumps(asked, sort_keys=True)
    best: tuple[tuple[bool, int, int], dict[str, Any]] | None = None
    for entry in candidates:
        found, same = differences(asked, entry.get("request"), accounts)
        if found:
            continue
        key = (json.dumps(entry.get("request"), sort_keys=True) != wanted, -same, entry["n"])
        if best is None or key < best[0]:
            best = (key, entry)
    return best[1] if best else None


def nearest(asked: Any, candidates: list[dict[str, Any]], accounts: set[str]) -> tuple[dict[str, Any], list[str]]:
    """The recorded request with the fewest differences from ``asked``, and those differences."""
    ranked = [(differences(asked, e.get("request"), accounts)[0], e) for e in candidates]
    found, entry = min(ranked, key=lambda pair: (len(pair[0]), pair[1]["n"]))
    return entry, found
