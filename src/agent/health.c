/* uptake-agent: health checks after booting a new slot, and the install
 * script: programs run with the slot in their environment, each within
 * health_timeout seconds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends.h"

int agent_run(const struct agent_config *c, const char *exe, const char *slot_path,
	      const char *slot_name, const char *image)
{
	pid_t pid = fork();
	int status = 0;
	time_t end = time(NULL) + c->health_timeout;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("UPTAKE_SLOT", slot_name, 1);
		setenv("UPTAKE_SLOT_PATH", slot_path, 1);
		setenv("UPTAKE_IMAGE", image, 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w < 0 || time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(20000);
	}
}

bool agent_healthy(const struct agent_config *c, int slot, const struct slot_info *s)
{
	struct dirent **list = NULL;
	int n;
	bool ok = true;
	const char *slot_path = strcmp(c->install, "ab") == 0 ? c->slot[slot] : c->slot[0];
	if (!c->health_dir[0])
		return true;
	n = scandir(c->health_dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char exe[AGENT_PATH + 300];
		struct stat st;
		snprintf(exe, sizeof exe, "%s/%s", c->health_dir, list[i]->d_name);
		if (ok && list[i]->d_name[0] != '.' && stat(exe, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111)) {
			int rc = agent_run(c, exe, slot_path, slot ? "b" : "a", s->name);
			if (rc != 0) {
				agent_log("health check %s failed (%d)", list[i]->d_name, rc);
				ok = false;
			}
		}
		free(list[i]);
	}
	free(list);
	return ok;
}
