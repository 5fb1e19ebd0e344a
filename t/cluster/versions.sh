# t/cluster/versions.sh - pinned versions and cache paths of the test control
# plane.  Sourced (not executed) by every script in t/cluster/ and by tests
# that want the paths, e.g.  . "$TOP_SRCDIR/t/cluster/versions.sh".
#
# Pins (newest the Go module proxy served with a sum.golang.org entry when
# this was written; k8s.io/kubernetes v1.36.5 has a proxy .info but no
# checksum-database entry, so it cannot be verified and is not used):
#   Kubernetes  1.36.4   (k8s.io/kubernetes v1.36.4, staging modules v0.36.4)
#   etcd        3.6.16   (go.etcd.io/etcd/server/v3 v3.6.16)
#   helm        4.3.1    (helm.sh/helm/v4 v4.3.1, cmd/helm)
#   promtool    3.15.0   (github.com/prometheus/prometheus v0.315.0, cmd/promtool;
#                         v0.316.0 requires pseudo-versions of google/pprof,
#                         client_golang/exp and nomad/api that the proxy does
#                         not serve, so 3.16.0 cannot be built from it)
#
# Cache layout (override the root with TEMPER_CACHE; nothing here is committed):
#   $TEMPER_CACHE/k8s-<k8s>/bin/{etcd,kube-apiserver,kube-scheduler,kubectl}
#   $TEMPER_CACHE/k8s-<k8s>/stamps/<binary>   version each binary was built at
#   $TEMPER_CACHE/k8s-<k8s>/src/{etcd,kubernetes}/   generated wrapper modules
#   $TEMPER_CACHE/promtool-<promtool>/src/             generated wrapper module
#   $TEMPER_CACHE/helm-<helm>/bin/helm
#   $TEMPER_CACHE/promtool-<promtool>/bin/promtool
#   $TEMPER_CACHE/logs/<step>.log                    build logs

K8S_VERSION=1.36.4
ETCD_VERSION=3.6.16
HELM_VERSION=4.3.1
HELM_MODULE=helm.sh/helm/v4
PROMETHEUS_MODULE_VERSION=0.315.0
PROMTOOL_VERSION=3.15.0

TEMPER_CACHE=${TEMPER_CACHE:-$HOME/.cache/temper}
K8S_DIR=$TEMPER_CACHE/k8s-$K8S_VERSION
K8S_BIN=$K8S_DIR/bin
ETCD=$K8S_BIN/etcd
KUBE_APISERVER=$K8S_BIN/kube-apiserver
KUBE_SCHEDULER=$K8S_BIN/kube-scheduler
KUBECTL=$K8S_BIN/kubectl
HELM=$TEMPER_CACHE/helm-$HELM_VERSION/bin/helm
PROMTOOL=$TEMPER_CACHE/promtool-$PROMTOOL_VERSION/bin/promtool

# Components: etcd kube-apiserver kube-scheduler kubectl helm promtool.
# component_bin C / component_version C / component_stamp C: where C lands,
# the version it must be built at, and the stamp file recording the version
# it was built at.  component_built C: C is there at the pinned version.
component_bin() {
	case $1 in
	etcd) echo "$ETCD" ;;
	kube-apiserver) echo "$KUBE_APISERVER" ;;
	kube-scheduler) echo "$KUBE_SCHEDULER" ;;
	kubectl) echo "$KUBECTL" ;;
	helm) echo "$HELM" ;;
	promtool) echo "$PROMTOOL" ;;
	*) return 1 ;;
	esac
}
component_version() {
	case $1 in
	etcd) echo "$ETCD_VERSION" ;;
	kube-apiserver | kube-scheduler | kubectl) echo "$K8S_VERSION" ;;
	helm) echo "$HELM_VERSION" ;;
	promtool) echo "$PROMTOOL_VERSION" ;;
	*) return 1 ;;
	esac
}
component_stamp() {
	local b
	b=$(component_bin "$1") || return 1
	echo "${b%/bin/*}/stamps/$1"
}
component_built() {
	local b s
	b=$(component_bin "$1") && s=$(component_stamp "$1") &&
		[ -x "$b" ] && [ -f "$s" ] && [ "$(cat "$s")" = "$(component_version "$1")" ]
}
# components GROUP...: expand all|k8s|NAME into component names.
components() {
	local g
	for g in "$@"; do
		case $g in
		all) echo etcd kube-apiserver kube-scheduler kubectl helm promtool ;;
		k8s) echo etcd kube-apiserver kube-scheduler kubectl ;;
		etcd | kube-apiserver | kube-scheduler | kubectl | helm | promtool) echo "$g" ;;
		*) return 1 ;;
		esac
	done
}
