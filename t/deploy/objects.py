#!/usr/bin/env python3
"""t/deploy/objects.py - a YAML stream (helm template's output) as one JSON
array of its objects, empty documents dropped, for jq.

    objects.py [FILE]        (default: standard input)
"""

import json
import sys

import yaml


def main(argv):
    stream = open(argv[1], encoding="utf-8") if len(argv) > 1 else sys.stdin
    objects = [doc for doc in yaml.safe_load_all(stream) if doc]
    json.dump(objects, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
