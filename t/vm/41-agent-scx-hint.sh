#!/bin/bash
# t/vm/41-agent-scx-hint.sh - t/vm/40-agent-scx.sh with the planner's hint
# membership: the tier layers match HintEquals, the agent's BPF program
# labels each pod's tasks in scx_layered's task-hint map, and a pod arriving
# reaches its layer with no restart of scx_layered and no gap.
MEMBERSHIP=hint exec bash "$(dirname "$0")/40-agent-scx.sh"
