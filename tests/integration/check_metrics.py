#!/usr/bin/python3
"""Parses a /metrics body (stdin) with the official Prometheus client's
text-format parser and checks that the named families are present.

  curl -s http://ADMIN/metrics | check_metrics.py FAMILY...

Exit 0 and prints "N families, M samples"; exit 1 with the reason on stderr
when the text does not parse or a family is missing."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    text = sys.stdin.read()
    try:
        families = {family.name: family for family in text_string_to_metric_families(text)}
    except Exception as error:  # the parser raises ValueError and friends
        print(f"the metrics do not parse: {error}", file=sys.stderr)
        return 1
    # The parser drops the _total suffix of counters from family names.
    missing = [name for name in sys.argv[1:] if name not in families and name.removesuffix("_total") not in families]
    if missing:
        print(f"missing families: {' '.join(missing)}", file=sys.stderr)
        return 1
    samples = sum(len(family.samples) for family in families.values())
    print(f"{len(families)} families, {samples} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
