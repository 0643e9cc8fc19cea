/* CPU time of a process, for the benches. */
#ifndef UPT_BENCH_CPU_H
#define UPT_BENCH_CPU_H

#include <sys/types.h>
#include <time.h>

/* CPU seconds (user + system, all threads, live and ended) of a process
 * so far, from the kernel's count of the time its threads ran. The
 * utime and stime of /proc/PID/stat are sampled at the tick instead: for
 * a server whose threads run for a fraction of a tick and sleep (one
 * wake per request) they miss about a sixth of its CPU here, and a
 * bench that divided by them would flatter the server. 0 when the
 * process is gone. */
static inline double bench_cpu_s(pid_t pid)
{
	clockid_t id;
	struct timespec ts;
	if (clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
