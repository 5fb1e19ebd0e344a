# t/vm/versions.sh - the pinned guest (kernel, root filesystem) and where it is
# cached.  Sourced (not executed) by t/vm/build, t/vm/available, t/vm/run and
# the t/vm tests:
#   . "$TOP_SRCDIR/t/vm/versions.sh"
#
# Kernel: Debian bookworm's linux-source-6.12 (its prebuilt 6.12 images have
# CONFIG_SCHED_CLASS_EXT unset), built with t/vm/guest.config on tinyconfig.
# Root filesystem: debootstrap bookworm --variant=minbase from the mirror apt
# uses here, plus Temper's runtime libraries, memcached and stress-ng.
#
# Cache layout (override the root with TEMPER_CACHE; nothing here is committed):
#   $VM_DIR/bzImage            the guest kernel
#   $VM_DIR/kernel.config      its .config
#   $VM_DIR/kernel.stamp       "<kernel source version> <sha of guest.config>"
#   $VM_DIR/rootfs/            the debootstrap tree; tree.stamp "<suite> <sha of VM_PACKAGES>"
#   $VM_DIR/rootfs.ext4        that tree plus guest-init as an ext4 image (qemu
#                              -snapshot: never written); rootfs.stamp adds guest-init's sha
#   $VM_DIR/build/             the kernel tree (unpacked source, objects)
#   $TEMPER_CACHE/logs/vm-<v>-{kernel,rootfs}.log   the build logs

VM_KERNEL_PACKAGE=linux-source-6.12
VM_KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz
# Bump VM_REV when the cache layout or the build procedure changes.
VM_REV=1
VM_SUITE=bookworm
# Temper's runtime libraries (and the sanitizers' runtimes: `make check`
# builds with ASan/UBSan), the benchmark's server and load, and the tools the
# guest side of the tests uses (socat forwards the host's ports).
VM_PACKAGES="libuv1 libbpf1 libelf1 zlib1g libcjson1 libmbedtls14 libmbedx509-1
libmbedcrypto7 libzstd1 libasan8 libubsan1 memcached stress-ng jq curl procps
iproute2 socat bpftool"
TEMPER_CACHE=${TEMPER_CACHE:-$HOME/.cache/temper}

vm_kernel_version() {
	dpkg-query -W -f='${Version}' "$VM_KERNEL_PACKAGE" 2>/dev/null | sed 's/~.*//'
}

VM_VERSION=${VM_VERSION:-$(vm_kernel_version)-r$VM_REV}
VM_DIR=$TEMPER_CACHE/vm-$VM_VERSION
VM_KERNEL=$VM_DIR/bzImage
VM_ROOTFS_IMAGE=$VM_DIR/rootfs.ext4
VM_KERNEL_LOG=$TEMPER_CACHE/logs/vm-$VM_VERSION-kernel.log
VM_ROOTFS_LOG=$TEMPER_CACHE/logs/vm-$VM_VERSION-rootfs.log
