/*
 * supervisor.h - scx_layered on the loop: the kernel gate, the process, its
 * restarts, the hint table, statistics.
 *
 * Lifecycle.  Each generation's JSON is written atomically to
 * STATE_DIR/scx_layered.json; scx_layered runs as
 *     temper-scx-exec --parent PID -- BIN f:STATE_DIR/scx_layered.json
 *         --task-hint-map PIN
 * where temper-scx-exec (src/scx-exec.c) sets PR_SET_PDEATHSIG=SIGKILL and
 * execs the scheduler: libuv's uv_spawn has no hook between fork and exec,
 * and a scheduler outliving its agent would keep enforcing a plan nobody
 * updates.  Killing the agent therefore kills scx_layered, its struct_ops
 * link closes and the kernel returns every task to the stock scheduler.
 *
 * Restarts happen only when a generation needs one (restart, from
 * planner_needs_restart: sizing beyond the planner's hysteresis band, or
 * changed matches, as a pod arriving brings with cgroup membership); with
 * hint membership pods move through the hint table (in the kernel, no
 * restart).  A restart's gap
 * runs from the SIGTERM to the new scheduler seen attached (sysfs
 * kernel/sched_ext/state "enabled" and root/ops "layered...").  A scheduler
 * that exits unasked is a crash: restarted after a jittered exponential
 * backoff, and after crash_limit crashes within crash_window_ms the
 * supervisor stands down to the stock scheduler and says why.  Safe mode and
 * shutdown send SIGTERM (SIGKILL after stop_timeout_ms).
 *
 * Enforcement states, the temper_enforcement_state{state} gauge (1 for the
 * current one, 0 for the others) and their numeric codes in
 * /api/v1/status ("state_code"):
 *   0 off         enforcement is cgroup or off, or the supervisor stopped
 *   1 observe     the kernel gate refused (auto): plans only, nothing enforced
 *   2 waiting     the gate passed; no generation yet
 *   3 starting    scx_layered spawned, not yet seen attached
 *   4 enforcing   scx_layered attached
 *   5 restarting  the old scheduler is stopping for a new sizing
 *   6 backoff     it exited unasked; a restart is scheduled
 *   7 stood-down  too many crashes: the stock scheduler runs
 *   8 safe-mode   stood down on request
 */
#ifndef TEMPER_SUPERVISOR_H
#define TEMPER_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "tier.h"

struct cJSON;
struct generation;
struct scx_gate;
struct metrics;
struct plan;

#define SUPERVISOR_CONFIG_FILE "scx_layered.json"
#define SUPERVISOR_EXEC_HELPER "temper-scx-exec"
#define SUPERVISOR_DEFAULT_STATS "/var/run/scx/root/stats"

enum supervisor_state {
	SUPERVISOR_OFF,
	SUPERVISOR_OBSERVE,
	SUPERVISOR_WAITING,
	SUPERVISOR_STARTING,
	SUPERVISOR_ENFORCING,
	SUPERVISOR_RESTARTING,
	SUPERVISOR_BACKOFF,
	SUPERVISOR_STOOD_DOWN,
	SUPERVISOR_SAFE_MODE,
	SUPERVISOR_STATE_COUNT,
};

struct supervisor_options {
	enum conf_enforcement enforcement;	/* auto or scx; others: state off */
	const char *scheduler_bin;	/* scx_layered */
	const char *exec_helper;	/* NULL: temper-scx-exec beside /proc/self/exe */
	const char *state_dir;		/* where the config is written */
	const char *sysfs_root;		/* NULL: /sys */
	const char *kernel_release;	/* NULL: uname; tests fake it */
	const char *hint_pin_path;	/* NULL: no task-hint map (cgroup membership) */
	const char *stats_path;		/* NULL: SUPERVISOR_DEFAULT_STATS */
	const char *const *extra_args;	/* more scx_layered arguments, NULL-terminated */
	unsigned crash_limit;		/* 0: 5 crashes ... */
	uint64_t crash_window_ms;	/* ... within 0: 10 minutes stand down */
	uint64_t backoff_initial_ms;	/* 0: 1 s */
	uint64_t backoff_max_ms;	/* 0: 60 s */
	uint64_t stable_ms;		/* attached this long resets the backoff; 0: 30 s */
	uint64_t attach_timeout_ms;	/* spawned but never attached; 0: 30 s */
	uint64_t stop_timeout_ms;	/* SIGTERM, then SIGKILL; 0: 5 s */
	uint64_t poll_ms;		/* sysfs polling while starting; 0: 5 ms */
	uint64_t stats_interval_ms;	/* stats socket polling; 0: 2 s */
	uint64_t random_seed;		/* backoff jitter; 0: from the clock */
};

/* One layer's figures from scx_layered's stats socket. */
struct supervisor_layer_stats {
	char *name;
	double util;			/* percent of one CPU */
	uint64_t tasks;
	unsigned cpus;			/* cur_nr_cpus */
	unsigned min_cpus, max_cpus;
};

struct supervisor;

/*
 * Evaluate the kernel gate and, if it passes and a pin path is given, load
 * the hint writer.  With enforcement=scx a refusal is an error: NULL, errno
 * ENOTSUP and *cause saying exactly why.  With auto the supervisor is made
 * in observe state, its reason logged and reported.
 */
struct supervisor *supervisor_new(uv_loop_t *loop, struct metrics *metrics,
    const struct supervisor_options *options, char **cause);

/* The kernel gate as last read (at start, or by supervisor_recheck). */
const struct scx_gate *supervisor_gate(const struct supervisor *supervisor);

/* Read the gate again (at start, on demand: POST /api/v1/reload); a
 * supervisor observing or stood down tries again when it now passes. */
void supervisor_recheck(struct supervisor *supervisor);

/* A new generation: written, then started, or restarted when restart says
 * the running scheduler cannot take it otherwise. */
int supervisor_apply(struct supervisor *supervisor,
    const struct generation *generation, const struct plan *plan,
    bool restart);

/*
 * The pods' cgroups (kernfs ids, hint_map_cgroup_id) and their tiers.  A
 * tier whose layer the current plan lacks gets no hint (its pods run in
 * the catch-all until a new sizing adds the layer).  0, or a negative
 * errno with the reason logged; unchanged lists cost nothing.
 */
int supervisor_set_cgroup_tiers(struct supervisor *supervisor,
    const uint64_t *cgroup_ids, const enum tier *tiers, size_t count);

void supervisor_safe_mode(struct supervisor *supervisor, bool on);

enum supervisor_state supervisor_state(const struct supervisor *supervisor);
const char *supervisor_state_name(enum supervisor_state state);
/* Why the state is what it is ("" when enforcing). */
const char *supervisor_reason(const struct supervisor *supervisor);
/* The scheduler's pid, or 0. */
int supervisor_pid(const struct supervisor *supervisor);

/* {"state":..,"state_code":..,"reason":..,"gate":{..},"scheduler":{..},
 *  "hints":{..},"layers":[..]} for /api/v1/status; NULL on ENOMEM. */
struct cJSON *supervisor_status_json(const struct supervisor *supervisor);

void supervisor_stop(struct supervisor *supervisor, void (*done)(void *arg), void *arg);
void supervisor_free(struct supervisor *supervisor);

/*
 * Pure: one stats response line ({"errno":0,"args":{"resp":{..}}}) into
 * per-layer figures, sorted by name.  0, -EINVAL (not a stats response),
 * -ENOMEM.
 */
int supervisor_parse_stats(const char *line, struct supervisor_layer_stats **layers,
    size_t *count);
void supervisor_layer_stats_free(struct supervisor_layer_stats *layers, size_t count);

/* Pure: the HintEquals values the plan's layers match on. */
size_t supervisor_plan_hints(const struct plan *plan, unsigned *hints, size_t max);

#endif
