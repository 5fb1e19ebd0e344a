/* profile-config.c - [profiles] of temper.conf. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile-config.h"
#include "toml.h"

void
profile_config_defaults(struct profile_config *config)
{
	config->dir = strdup(PROFILE_CONFIG_DEFAULT_DIR);
}

void
profile_config_free(struct profile_config *config)
{
	if (config == NULL)
		return;
	free(config->dir);
	config->dir = NULL;
}

int
profile_config_from_toml(const struct toml_value *root,
    struct profile_config *config, char **cause)
{
	const struct toml_value *table = toml_get(root, "profiles"), *dir = NULL;
	char *copy = NULL;

	if (table == NULL)
		return 0;
	if (table->type != TOML_TABLE)
		return toml_cause_at(cause, table, "[profiles] must be a "
		    "table");
	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];

		if (pair->key_len != 3 || memcmp(pair->key, "dir", 3) != 0)
			return toml_cause_at(cause, pair->value,
			    "[profiles] unknown key (known: dir)");
		dir = pair->value;
	}
	if (dir == NULL)
		return 0;
	if (dir->type != TOML_STRING || strlen(dir->u.string.text) !=
	    dir->u.string.len)
		return toml_cause_at(cause, dir, "[profiles] dir must be "
		    "a string: a directory, or \"\" for the builtin profiles "
		    "only");
	if (dir->u.string.len > 0 && dir->u.string.text[0] != '/')
		return toml_cause_at(cause, dir, "[profiles] dir must be "
		    "an absolute path");
	if (dir->u.string.len > 0 && (copy = strdup(dir->u.string.text)) == NULL)
		return -ENOMEM;
	free(config->dir);
	config->dir = copy;
	return 0;
}
