#!/usr/bin/env python3
"""t/deploy/containerfile.py - a Containerfile's stages as JSON, for jq.

    containerfile.py FILE

Prints {"stages": [{"name", "from", "args": {NAME: default}, "apt": [...],
"copies": [{"from", "sources", "dest"}], "comments": [...]}, ...],
"entrypoint": [...], "cmd": [...]}.  Continuation lines are joined; "apt"
lists the packages of every `apt-get install` in the stage; "comments" are
the stage's comment lines, for declarations a test reads (e.g. which
runtime packages are for which binary).
"""

import json
import re
import shlex
import sys


def logical_lines(text):
    """(kind, text): comments as they are, instructions with continuations joined."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and line.startswith("#"):
            yield "comment", line.lstrip("#").strip()
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip():
            yield "instruction", pending.strip()
        pending = ""
    if pending.strip():
        yield "instruction", pending.strip()


def apt_packages(command):
    packages = []
    for part in re.split(r"&&|;", command):
        words = shlex.split(part)
        words = [w for w in words if "=" not in w or w.startswith("-")]
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            packages += [w for w in after if not w.startswith("-")]
    return packages


def main(argv):
    text = open(argv[1], encoding="utf-8").read()
    stages, entrypoint, cmd, comments = [], None, None, []
    for kind, line in logical_lines(text):
        if kind == "comment":
            comments.append(line)
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"name": name, "from": words[0], "args": {}, "apt": [],
                           "copies": [], "comments": comments})
            comments = []
            continue
        if not stages:
            comments = []
            continue
        stage = stages[-1]
        stage["comments"] += comments
        comments = []
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            stage["args"][name] = default
        elif keyword == "RUN":
            stage["apt"] += apt_packages(rest)
        elif keyword == "COPY":
            words = shlex.split(rest)
            source_stage = None
            while words and words[0].startswith("--"):
                flag = words.pop(0)
                if flag.startswith("--from="):
                    source_stage = flag.split("=", 1)[1]
            stage["copies"].append({"from": source_stage, "sources": words[:-1],
                                    "dest": words[-1]})
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif keyword == "CMD":
            cmd = json.loads(rest)
    json.dump({"stages": stages, "entrypoint": entrypoint, "cmd": cmd}, sys.stdout,
              indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
