#!/bin/bash
# t/16-man.sh - every manual page is clean under mandoc -Tlint and documents
# every option temperd parses.
. "$(dirname "$0")/lib.sh"

command -v mandoc >/dev/null || skip_all "mandoc is not installed"
for page in "$TOP_SRCDIR"/man/*.[0-9]; do
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	is "$out" "" "mandoc -Tlint is clean on $(basename "$page")"
done

# Options in the order the code parses them, each documented.
options=$(sed -n '/temperd_long_options\[\] = {/,/NULL, 0, NULL, 0/p' "$TOP_SRCDIR/src/temperd.c" |
	grep -o '{ "[a-z-]*"' | cut -d'"' -f2)
for option in $options; do
	ok "temperd.8 documents --$option" grep -q -- "Fl Fl $option" "$TOP_SRCDIR/man/temperd.8"
done
done_testing
