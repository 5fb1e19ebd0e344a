# t/scx/versions.sh - the pinned scx_layered and where it is cached.  Sourced
# (not executed) by t/scx/build, t/scx/available and the tests that run it:
#   . "$TOP_SRCDIR/t/scx/versions.sh"
#
# Pin: scx_layered 1.1.4, the newest crates.io served when this was written
# (`cargo info scx_layered`).  Its Cargo.toml wants rust >= 1.91, and the
# build script of its scx_utils 1.1.4 (scx_cargo's ClangInfo) refuses
# clang < 18, which it needs for -mcpu=v4 BPF: "clang < 18 does not support
# -mcpu=v4 for BPF".  Debian 12 ships clang-19 (1:19.1.7-3~deb12u1), so
# BPF_CLANG=clang-19; Temper's own BPF keeps building with clang-16.
#
# Cache layout (override the root with TEMPER_CACHE; nothing here is committed):
#   $TEMPER_CACHE/scx_layered-<v>/bin/scx_layered   the binary (cargo install --root)
#   $TEMPER_CACHE/scx_layered-<v>/stamp             "<v> <rustc version>" once built
#   $TEMPER_CACHE/scx_layered-<v>/target/           cargo's build directory
#   $TEMPER_CACHE/logs/scx_layered-<v>.log          the build log

SCX_LAYERED_VERSION=1.1.4
SCX_BPF_CLANG=${SCX_BPF_CLANG:-clang-19}
SCX_BPF_CLANG_MIN=18
TEMPER_CACHE=${TEMPER_CACHE:-$HOME/.cache/temper}
SCX_DIR=$TEMPER_CACHE/scx_layered-$SCX_LAYERED_VERSION
SCX_LAYERED_BIN=$SCX_DIR/bin/scx_layered
SCX_STAMP=$SCX_DIR/stamp
SCX_LOG=$TEMPER_CACHE/logs/scx_layered-$SCX_LAYERED_VERSION.log

# cargo lives in ~/.cargo/bin when rustup installed it and that is not in PATH.
scx_cargo() {
	if command -v cargo >/dev/null 2>&1; then
		command -v cargo
	elif [ -x "$HOME/.cargo/bin/cargo" ]; then
		echo "$HOME/.cargo/bin/cargo"
	elif [ -x /root/.cargo/bin/cargo ]; then
		echo /root/.cargo/bin/cargo
	else
		return 1
	fi
}

scx_built() {
	[ -x "$SCX_LAYERED_BIN" ] && [ -f "$SCX_STAMP" ] &&
		[ "$(cut -d' ' -f1 "$SCX_STAMP")" = "$SCX_LAYERED_VERSION" ]
}
