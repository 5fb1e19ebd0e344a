/*
 * profile-config.h - [profiles] of temper.conf:
 *
 *	[profiles]
 *	dir = "/etc/temper/profiles"	# "" for builtins only
 *
 * Pure: a parsed TOML tree in, a struct out; unknown keys refused with
 * their line and column.
 */
#ifndef TEMPER_PROFILE_CONFIG_H
#define TEMPER_PROFILE_CONFIG_H

struct toml_value;

struct profile_config {
	char *dir;			/* NULL: builtins only */
};

#define PROFILE_CONFIG_DEFAULT_DIR "/etc/temper/profiles"

void profile_config_defaults(struct profile_config *config);
/*
 * Read [profiles] from the document root (absent: the defaults stay).  On
 * error returns -EINVAL with *cause "line L, column C: ..." and leaves
 * *config untouched, or -ENOMEM.
 */
int profile_config_from_toml(const struct toml_value *root,
    struct profile_config *config, char **cause);
void profile_config_free(struct profile_config *config);

#endif
