#!/bin/bash
# t/vm/10-boot.sh - the sched_ext test guest boots and is what the other
# t/vm tests assume: Debian's 6.12 kernel with sched_ext (disabled until a
# scheduler attaches), BTF, PSI, cgroup v2 alone (no v1 hierarchy), the
# shares over 9p, the runtime libraries temperd and scx_layered link, and
# memcached and stress-ng.  Prints the boot time (qemu start to the guest's
# command) as a diagnostic.
. "$(dirname "$0")/../lib.sh"
. "$TOP_SRCDIR/t/vm/lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
vm_require

cat >"$TMP/guest.sh" <<'GUEST'
. "$TOP_SRCDIR/t/vm/guest-lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
report kernel "$(uname -r)"
report scx_state "$(scx_state)"
report sched_ext_config "$(zcat /proc/config.gz | grep -x 'CONFIG_SCHED_CLASS_EXT=y')"
report btf "$([ -s /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
report psi "$(head -c4 /proc/pressure/cpu)"
report cgroup_mounts "$(awk '$3 ~ /^cgroup/ { print $3 ":" $2 }' /proc/mounts | tr '\n' ' ')"
report controllers "$(cat $CG/cgroup.controllers)"
report cpus "$(nproc)"
report share "$([ -f "$TOP_SRCDIR/t/vm/guest-lib.sh" ] && echo yes || echo no)"
if [ -x "$TEMPERD" ]; then
	report temperd_missing_libs "$(ldd "$TEMPERD" | grep -c 'not found')"
	report temperd_version "$("$TEMPERD" -V 2>&1 | head -n1)"
fi
if [ -x "$SCX_LAYERED_BIN" ]; then
	report scx_missing_libs "$(ldd "$SCX_LAYERED_BIN" | grep -c 'not found')"
fi
report memcached "$(memcached -V 2>&1)"
report stress_ng "$(stress-ng --version 2>&1 | head -n1)"
report network "$(ip -4 -o addr show eth0 | awk '{ print $4 }')"
GUEST
vm_guest boot --timeout 600 -- "$TMP/guest.sh"
is "$VM_STATUS" 0 "the guest boots, runs a command and stops"
diag "boot: ${VM_BOOT_SECONDS} s from qemu's start to the command (TCG, 2 vCPUs, load $(cut -d' ' -f1 /proc/loadavg))"
like "$(vm_value boot kernel)" '^6\.12\.' "it runs the 6.12 kernel"
is "$(vm_value boot sched_ext_config)" "CONFIG_SCHED_CLASS_EXT=y" "... built with sched_ext"
is "$(vm_value boot scx_state)" disabled "sched_ext is there and disabled before any scheduler attaches"
is "$(vm_value boot btf)" yes "BTF is at /sys/kernel/btf/vmlinux"
is "$(vm_value boot psi)" some "PSI is on (/proc/pressure/cpu)"
is "$(vm_value boot cgroup_mounts)" "cgroup2:/sys/fs/cgroup " "cgroup v2 alone at /sys/fs/cgroup (no v1 hierarchy)"
like "$(vm_value boot controllers)" 'cpuset cpu( |$)' "... with the cpuset and cpu controllers"
is "$(vm_value boot share)" yes "the source tree is shared over 9p"
is "$(vm_value boot network)" 10.0.2.15/24 "user networking is up"
like "$(vm_value boot memcached)" '^memcached ' "memcached runs"
like "$(vm_value boot stress_ng)" '^stress-ng' "stress-ng runs"
if [ -x "$TEMPERD" ]; then
	is "$(vm_value boot temperd_missing_libs)" 0 "every library temperd links is in the guest"
	like "$(vm_value boot temperd_version)" 'temper' "... and temperd runs there"
else
	skip "no $TEMPERD to check"
	skip "no $TEMPERD to check"
fi
if [ -x "$SCX_LAYERED_BIN" ]; then
	is "$(vm_value boot scx_missing_libs)" 0 "every library scx_layered links is in the guest"
else
	skip "$("$TOP_SRCDIR/t/scx/available")"
fi
done_testing
