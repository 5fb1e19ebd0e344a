/*
 * t/scx-schema-check.c - run Temper's strict scx_layered schema checker
 * (src/layered-schema.c) over config files: "ok FILE" or "FILE: why" per
 * file, exit status 1 when any is refused.  t/70-scx-validate.sh puts it
 * beside the real parser.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layered-schema.h"

int
main(int argc, char **argv)
{
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		char *text = NULL, *cause = NULL;
		size_t len = 0;
		FILE *f = fopen(argv[i], "r");

		if (f == NULL || getdelim(&text, &len, '\0', f) < 0) {
			printf("%s: cannot read: %s\n", argv[i], strerror(errno));
			failed = 1;
		} else if (layered_schema_check(text, strlen(text), &cause) != 0) {
			printf("%s: %s\n", argv[i], cause != NULL ? cause : "refused");
			failed = 1;
		} else
			printf("ok %s\n", argv[i]);
		if (f != NULL)
			fclose(f);
		free(text);
		free(cause);
	}
	return failed;
}
