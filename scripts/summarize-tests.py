#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Adds up what the test runs counted, from Meson's testlog.json of each build
directory given: for a doctest executable, doctest's own test-case counts (read
from its summary line); for any other test, Meson's verdict counts as one. A
doctest run that died before its summary counts one failure more than it
reported. The last line printed is 'tests: N passed, N failed'."""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")


def count(build_dir):
    passed = failed = 0
    path = f"{build_dir}/meson-logs/testlog.json"
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as error:
        print(f"{build_dir}: no test log ({error})", file=sys.stderr)
        return 0, 1
    for line in lines:
        if not line.strip():
            continue
        test = json.loads(line)
        ok = test.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
        summaries = SUMMARY.findall(test.get("stdout", "") or "")
        if summaries:
            _, p, f = (int(x) for x in summaries[-1])
            if not ok and f == 0:
                f = 1  # crashed, timed out or leaked after its summary
            passed, failed = passed + p, failed + f
        elif ok:
            passed += 1
        else:
            failed += 1
        print(f"{build_dir}: {test['name']}: {test.get('result')}", file=sys.stderr)
    return passed, failed


def main():
    total_passed = total_failed = 0
    for build_dir in sys.argv[1:]:
        p, f = count(build_dir)
        print(f"{build_dir}: {p} passed, {f} failed", file=sys.stderr)
        total_passed += p
        total_failed += f
    print(f"tests: {total_passed} passed, {total_failed} failed")
    return 0 if total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
