# t/vm/lib.sh - helpers for the t/vm tests, sourced after t/lib.sh.
#
# The tests run on the host: each writes a guest-side script, boots the test
# guest with t/vm/run to run it, and turns what the guest reports (KEY=VALUE
# lines on stdout) into TAP points.  The guest's stderr and console are kept
# in $TMP for diagnosis.

VM_TOOLS=$TOP_SRCDIR/t/vm
. "$VM_TOOLS/versions.sh"

# vm_require: skip the whole script when the guest is not built.
vm_require() {
	local why
	why=$("$VM_TOOLS/available" 2>&1) || skip_all "$why"
	command -v "${QEMU:-qemu-system-x86_64}" >/dev/null ||
		skip_all "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
}

# vm_guest NAME [t/vm/run options...] -- SCRIPT: run the bash SCRIPT (a file
# on the host, shared with the guest through $TMP) in the guest; its stdout
# lands in $TMP/NAME.out, its stderr in $TMP/NAME.err, the console in
# $TMP/NAME.io/console.  Sets VM_STATUS and VM_BOOT_SECONDS.
vm_guest() {
	local name=$1 options=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		options+=("$1")
		shift
	done
	shift
	VM_STATUS=0
	"$VM_TOOLS/run" --share "$TMP" --io "$TMP/$name.io" --boot-time "$TMP/$name.boot" \
		${options[@]+"${options[@]}"} -- bash "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" ||
		VM_STATUS=$?
	VM_BOOT_SECONDS=$(cat "$TMP/$name.boot" 2>/dev/null || echo '?')
	if [ "$VM_STATUS" -ne 0 ]; then
		diag "guest run '$name' exited $VM_STATUS; its stderr:"
		diag "$(tail -n 30 "$TMP/$name.err")"
	fi
}

# vm_value NAME KEY: the last KEY=VALUE line the guest run NAME printed.
vm_value() {
	sed -n "s/^$2=//p" "$TMP/$1.out" | tail -n1
}

# vm_cluster: the real control plane of t/cluster on the host (kube_up),
# a Node node-a of 2 CPUs and Temper's PriorityClasses.  Skips without it.
vm_cluster() {
	local why pc
	. "$TOP_SRCDIR/t/kube-lib.sh"
	why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
		skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
	command -v jq >/dev/null || skip_all "jq is missing"
	kube_up
	"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 2 >/dev/null || bail "mknode failed"
	for pc in critical:1000000 high:100000 low:-100 background:-1000; do
		printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
			"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
	done
}

# vm_pod NAME CLASS [CPU]: a pod bound to node-a, reported Running (the
# guest makes its cgroup); prints "UID QOS" (QOS in the kubelet's lower case).
vm_pod() {
	local resources="{}"
	[ -n "${3-}" ] && resources="{requests: {cpu: \"$3\"}, limits: {cpu: \"$3\"}}"
	k apply -f - >/dev/null <<POD
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  nodeName: node-a
  priorityClassName: $2
  containers: [{name: c, image: registry.invalid/app:1, resources: $resources}]
POD
	k patch pod "$1" --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
	echo "$(k get pod "$1" -o jsonpath='{.metadata.uid}') $(k get pod "$1" -o jsonpath='{.status.qosClass}' | tr '[:upper:]' '[:lower:]')"
}

# vm_cluster_options: the t/vm/run options that give the guest the cluster:
# the apiserver's port forwarded to the guest's 127.0.0.1, kubectl shared.
vm_cluster_options() {
	echo --forward "$APISERVER_PORT" --share "$(dirname "$KUBECTL")" --env "KUBECONFIG=$KUBECONFIG" --env "KUBECTL=$KUBECTL"
}
