/*
 * profile-builtin.c - the profiles Temper ships, as TOML text read by the
 * same parser as the files of the profile directory (so a builtin can be
 * shown, copied and edited as a file).
 *
 * Thread names are what the projects themselves set, taken from their
 * sources; the kernel keeps 15 bytes of a thread's name (comm), so a name
 * longer than that is matched by its first 15 bytes.
 */
#include "config.h"

#include <stddef.h>

#include "profile.h"

/*
 * PyTorch.  torch/utils/data/_utils/worker.py (_worker_loop) names each
 * DataLoader worker process torch.multiprocessing._set_thread_name(
 * "pt_data_worker"); torch/utils/data/_utils/pin_memory.py
 * (_pin_memory_loop) names the pin-memory thread "pt_data_pin".  The
 * training loop is the interpreter's own main thread: the group leader,
 * whose comm is the interpreter's name ("python", "python3", "python3.11").
 */
static const char profile_builtin_pytorch[] =
	"name = \"pytorch\"\n"
	"description = \"PyTorch training: the loop on cores of its own, "
	"DataLoader workers on what is idle\"\n"
	"\n"
	"[detect]\n"
	"images = [\"pytorch/pytorch\", \"nvcr.io/nvidia/pytorch\"]\n"
	"\n"
	"[[group]]\n"
	"name = \"dataloader\"\n"
	"description = \"DataLoader worker processes (pt_data_worker)\"\n"
	"comm_prefix = \"pt_data_worker\"\n"
	"treatment = \"yield\"\n"
	"\n"
	"[[group]]\n"
	"name = \"pin-memory\"\n"
	"description = \"the pin-memory thread hands batches from the workers "
	"to the loop\"\n"
	"comm_prefix = \"pt_data_pin\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"training-loop\"\n"
	"description = \"the interpreter's main thread runs the step loop\"\n"
	"comm_prefix = \"python\"\n"
	"group_leader = true\n"
	"treatment = \"exclusive\"\n";

/*
 * MySQL / InnoDB.  The names are InnoDB's PSI thread keys, which MySQL 8.0
 * (8.0.27 and later) also sets as the operating system's thread names, a
 * "-N" suffix on threads of which there are several:
 * storage/innobase/handler/ha_innodb.cc, all_innodb_threads[]:
 *   io_read_thread "ib_io_rd", io_write_thread "ib_io_wr",
 *   log_writer_thread "ib_log_writer",
 *   srv_purge_thread "ib_srv_purge", srv_worker_thread "ib_srv_wkr",
 *   page_flush_coordinator_thread "ib_pg_flush_co",
 *   page_flush_thread "ib_pg_flush".
 * Client connection threads (one thread per connection) are named
 * "connection" by sql/mysqld.cc (key_thread_one_connection's OS name).
 */
static const char profile_builtin_mysql[] =
	"name = \"mysql\"\n"
	"description = \"MySQL with InnoDB: connections and the I/O and redo "
	"wake chains first, purge and page cleaning on what is idle\"\n"
	"\n"
	"[detect]\n"
	"images = [\"mysql\", \"mysql/mysql-server\", "
	"\"container-registry.oracle.com/mysql/community-server\", "
	"\"percona/percona-server\"]\n"
	"\n"
	"[[group]]\n"
	"name = \"connections\"\n"
	"description = \"one thread per client connection\"\n"
	"comm_prefix = \"connection\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"io-read\"\n"
	"description = \"InnoDB read I/O threads (ib_io_rd-N)\"\n"
	"comm_prefix = \"ib_io_rd\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"io-write\"\n"
	"description = \"InnoDB write I/O threads (ib_io_wr-N)\"\n"
	"comm_prefix = \"ib_io_wr\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"redo-log-writer\"\n"
	"description = \"commits wait on the redo log writer\"\n"
	"comm_prefix = \"ib_log_writer\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"purge\"\n"
	"description = \"the purge coordinator\"\n"
	"comm_prefix = \"ib_srv_purge\"\n"
	"treatment = \"yield\"\n"
	"\n"
	"[[group]]\n"
	"name = \"purge-workers\"\n"
	"description = \"purge worker threads (ib_srv_wkr-N)\"\n"
	"comm_prefix = \"ib_srv_wkr\"\n"
	"treatment = \"yield\"\n"
	"\n"
	"[[group]]\n"
	"name = \"page-cleaners\"\n"
	"description = \"the page cleaner coordinator (ib_pg_flush_co) and "
	"page cleaners (ib_pg_flush-N)\"\n"
	"comm_prefix = \"ib_pg_flush\"\n"
	"treatment = \"yield\"\n";

/*
 * JVM (HotSpot).  HotSpot gives each of its threads a native name
 * (os::set_native_thread_name): parallel GC workers "GC Thread#N"
 * (WorkerThreads' set_name("GC Thread#%d", id)), the JIT compilers
 * "C2 CompilerThreadN" and "C1 CompilerThreadN" (15 bytes kept:
 * "C2 CompilerThre"), the safepoint coordinator "VM Thread" - the names
 * every jstack thread dump lists.  Application threads keep the tier.
 */
static const char profile_builtin_jvm[] =
	"name = \"jvm\"\n"
	"description = \"HotSpot JVM: stop-the-world GC and safepoints finish "
	"fast, JIT compilation on what is idle\"\n"
	"\n"
	"[detect]\n"
	"images = [\"eclipse-temurin\", \"openjdk\", \"amazoncorretto\"]\n"
	"\n"
	"[[group]]\n"
	"name = \"gc-workers\"\n"
	"description = \"parallel GC workers: every application thread waits "
	"for them during a pause\"\n"
	"comm_prefix = \"GC Thread#\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"vm-thread\"\n"
	"description = \"the VM thread brings every thread to safepoints\"\n"
	"comm_prefix = \"VM Thread\"\n"
	"treatment = \"latency\"\n"
	"\n"
	"[[group]]\n"
	"name = \"c2-compiler\"\n"
	"description = \"C2 JIT compiler threads\"\n"
	"comm_prefix = \"C2 CompilerThre\"\n"
	"treatment = \"yield\"\n"
	"\n"
	"[[group]]\n"
	"name = \"c1-compiler\"\n"
	"description = \"C1 JIT compiler threads\"\n"
	"comm_prefix = \"C1 CompilerThre\"\n"
	"treatment = \"yield\"\n";

const struct profile_builtin profile_builtins[] = {
	{ "pytorch", profile_builtin_pytorch },
	{ "mysql", profile_builtin_mysql },
	{ "jvm", profile_builtin_jvm },
};

const size_t profile_builtin_count =
    sizeof profile_builtins / sizeof profile_builtins[0];
