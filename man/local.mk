# man/local.mk - mdoc manual pages.
dist_man_MANS = man/temperd.8 man/temper.conf.5

# temperctl
dist_man_MANS += man/temperctl.1

# Workload profiles
dist_man_MANS += man/temper-profile.5
