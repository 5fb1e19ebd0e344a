dnl m4/temper.m4 - Temper's configure checks.

dnl TEMPER_LLHTTP: find the llhttp C sources that Debian's node-llhttp installs.
AC_DEFUN([TEMPER_LLHTTP], [
	AC_ARG_WITH([llhttp],
		[AS_HELP_STRING([--with-llhttp=DIR],
			[directory holding llhttp.c, api.c and http.c (default /usr/share/llhttp)])],
		[LLHTTP_SRCDIR=$withval], [LLHTTP_SRCDIR=/usr/share/llhttp])
	AC_ARG_WITH([llhttp-include],
		[AS_HELP_STRING([--with-llhttp-include=DIR],
			[directory holding llhttp.h (default /usr/share/include/llhttp)])],
		[LLHTTP_INCDIR=$withval], [LLHTTP_INCDIR=/usr/share/include/llhttp])
	AC_MSG_CHECKING([for the llhttp C sources])
	for f in llhttp.c api.c http.c; do
		AS_IF([test -r "$LLHTTP_SRCDIR/$f"], [],
			[AC_MSG_RESULT([no])
			 AC_MSG_ERROR([$LLHTTP_SRCDIR/$f not found: install node-llhttp (apt-get install node-llhttp) or pass --with-llhttp=DIR])])
	done
	AS_IF([test -r "$LLHTTP_INCDIR/llhttp.h"], [],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([$LLHTTP_INCDIR/llhttp.h not found: install node-llhttp or pass --with-llhttp-include=DIR])])
	AC_MSG_RESULT([$LLHTTP_SRCDIR])
	AC_SUBST([LLHTTP_SRCDIR])
	AC_SUBST([LLHTTP_INCDIR])
])

dnl TEMPER_BPF: clang for -target bpf, bpftool for skeletons, the kernel's BTF for vmlinux.h.
AC_DEFUN([TEMPER_BPF], [
	AC_ARG_VAR([BPF_CLANG], [clang used to compile bpf/*.bpf.c (>= 16)])
	AC_ARG_VAR([BPFTOOL], [bpftool used to generate vmlinux.h and skeletons])
	AC_ARG_VAR([VMLINUX_BTF], [kernel BTF for vmlinux.h (default /sys/kernel/btf/vmlinux)])
	AC_PATH_PROGS([BPF_CLANG], [clang-16 clang-17 clang-18 clang-19 clang], [no])
	AS_IF([test "x$BPF_CLANG" = xno],
		[AC_MSG_ERROR([no clang for BPF found: install clang-16])])
	AC_PATH_PROGS([BPFTOOL], [bpftool], [no], [$PATH:/usr/sbin:/sbin])
	AS_IF([test "x$BPFTOOL" = xno],
		[AC_MSG_ERROR([bpftool not found: install bpftool])])
	AS_IF([test -z "$VMLINUX_BTF"], [VMLINUX_BTF=/sys/kernel/btf/vmlinux])
	AC_MSG_CHECKING([for kernel BTF])
	AS_IF([test -r "$VMLINUX_BTF"], [AC_MSG_RESULT([$VMLINUX_BTF])],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([$VMLINUX_BTF is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF), so vmlinux.h cannot be generated; set VMLINUX_BTF=FILE])])
])

dnl TEMPER_WARNINGS: warnings always, -Werror with --enable-werror (CI).
AC_DEFUN([TEMPER_WARNINGS], [
	AC_ARG_ENABLE([werror],
		[AS_HELP_STRING([--enable-werror], [treat warnings as errors])],
		[], [enable_werror=no])
	WARN_CFLAGS="-Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter"
	AS_IF([test "x$enable_werror" = xyes], [WARN_CFLAGS="$WARN_CFLAGS -Werror"])
	AC_SUBST([WARN_CFLAGS])
])

dnl TEMPER_SANITIZERS: --enable-sanitizers builds everything with ASan + UBSan.
AC_DEFUN([TEMPER_SANITIZERS], [
	AC_ARG_ENABLE([sanitizers],
		[AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
		[], [enable_sanitizers=no])
	SANITIZER_CFLAGS=
	AS_IF([test "x$enable_sanitizers" = xyes],
		[SANITIZER_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"])
	AC_SUBST([SANITIZER_CFLAGS])
])

dnl TEMPER_FUZZERS: libFuzzer targets need clang with its runtime (libclang-rt-16-dev).
AC_DEFUN([TEMPER_FUZZERS], [
	AC_ARG_VAR([FUZZ_CC], [clang used to build libFuzzer targets])
	AS_IF([test -z "$FUZZ_CC"], [FUZZ_CC=$BPF_CLANG])
	AC_MSG_CHECKING([whether $FUZZ_CC can build libFuzzer targets])
	echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' > conftest-fuzz.c
	AS_IF([$FUZZ_CC -fsanitize=fuzzer,address conftest-fuzz.c -o conftest-fuzz >/dev/null 2>&1],
		[have_libfuzzer=yes], [have_libfuzzer=no])
	rm -f conftest-fuzz.c conftest-fuzz
	AC_MSG_RESULT([$have_libfuzzer])
	AM_CONDITIONAL([HAVE_LIBFUZZER], [test "x$have_libfuzzer" = xyes])
])
