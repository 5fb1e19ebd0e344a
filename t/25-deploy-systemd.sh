#!/bin/bash
# t/25-deploy-systemd.sh - deploy/systemd/temperd.service: systemd-analyze
# verify accepts it (with the binary path pointed at the temperd built here
# and its Documentation= pages found in man/), temperd accepts its flags,
# which are the helm chart's agent flags, every capability it keeps has its
# reason written beside it, and the paths the agent writes stay writable
# under its hardening.  systemd-analyze security's exposure figure is
# printed, not judged.
. "$(dirname "$0")/lib.sh"

UNIT=$TOP_SRCDIR/deploy/systemd/temperd.service
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is missing"
[ -x "$TEMPERD" ] || skip_all "temperd is not built ($TEMPERD)"

# The unit as installed, but running the temperd of this build.
mkdir -p "$TMP/unit" "$TMP/man/man8" "$TMP/man/man5"
sed "s|/usr/sbin/temperd|$TEMPERD|" "$UNIT" >"$TMP/unit/temperd.service"
ln -s "$TOP_SRCDIR/man/temperd.8" "$TMP/man/man8/temperd.8"
ln -s "$TOP_SRCDIR/man/temper.conf.5" "$TMP/man/man5/temper.conf.5"
if command -v man >/dev/null; then
	MANPATH=$TMP/man systemd-analyze verify "$TMP/unit/temperd.service" >"$TMP/verify.out" 2>&1
	is "$?" 0 "systemd-analyze verify accepts temperd.service (Documentation= pages resolved in man/)"
else
	systemd-analyze verify --man=no "$TMP/unit/temperd.service" >"$TMP/verify.out" 2>&1
	is "$?" 0 "systemd-analyze verify accepts temperd.service (no man(1) here: Documentation= not followed)"
fi
[ -s "$TMP/verify.out" ] && diag "$(cat "$TMP/verify.out")"

# ExecStart= with its continuation lines joined.
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$UNIT" | sed 's/\\$//' | tr -s ' \t\n' ' ' |
	sed 's/^ExecStart=//; s/ $//')
is "${exec_start#* }" \
	'--role=agent --config=/etc/temper/temper.conf --node-name=${NODE_NAME} --listen=0.0.0.0:9470 --state-dir=/run/temper --cgroup-root=/sys/fs/cgroup --sysfs-root=/sys --enforcement=auto' \
	"the agent's flags, as the helm chart gives them"
: >"$TMP/temper.conf"
flags=${exec_start#* }
flags=${flags//\/etc\/temper\/temper.conf/$TMP/temper.conf}
flags=${flags//\$\{NODE_NAME\}/node-a}
# shellcheck disable=SC2086 # the flags are words
"$TEMPERD" -n $flags >"$TMP/check.out" 2>&1
is "$?" 0 "temperd -n accepts them"

# --- capabilities and paths ------------------------------------------------------
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
like "$caps" 'CAP_BPF' "the bounding set keeps CAP_BPF"
for cap in $caps; do
	like "$(grep -E "^#   $cap " "$UNIT")" "$cap +[A-Za-z]" "$cap has its reason written beside it"
done
rw=$(sed -n 's/^ReadWritePaths=//p' "$UNIT")
for path in /run/temper /sys/fs/cgroup /sys/fs/bpf; do
	like " $rw " " $path " "$path stays writable under ProtectSystem=strict"
done
for setting in ProtectKernelTunables ProtectControlGroups; do
	is "$(grep -c "^$setting=yes" "$UNIT")" 0 "$setting is not on (it would make the cgroup tree read-only)"
done
is "$(sed -n 's/^RuntimeDirectoryPreserve=//p' "$UNIT")" yes \
	"/run/temper outlives a restart (the cgroup-enforcement journal is there)"

if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	systemd-analyze security --offline=yes "$TMP/unit/temperd.service" >"$TMP/security.out" 2>&1
	diag "$(grep -i 'overall exposure' "$TMP/security.out")"
fi
done_testing
