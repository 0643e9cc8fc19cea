/* uptake-server: the dashboard's pages, static files from cfg->ui_dir
 * (built from ui/ by the project's build), over TLS only. Only plain
 * names are served: segments of letters, digits, '.', '_' and '-' that do
 * not start with '.', regular files not reached through a symbolic link.
 * Every page carries a Content-Security-Policy that allows scripts,
 * styles and connections to this server only, no inline script, no
 * framing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"

#define UI_NAME_MAX 128

static const char *const csp = "default-src 'self'; object-src 'none'; "
			       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* A name inside ui_dir, or false. */
static bool ui_name_ok(const char *name)
{
	size_t n = strlen(name), seg = 0;
	if (n == 0 || n > UI_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (ch == '/') {
			if (seg == 0)
				return false;
			seg = 0;
			continue;
		}
		if (seg == 0 && ch == '.')
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
		seg++;
	}
	return seg > 0;
}

static const char *ui_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static void ui_headers(struct srv_resp *r)
{
	srv_resp_header(r, "Content-Security-Policy", csp);
	srv_resp_header(r, "X-Content-Type-Options", "nosniff");
	srv_resp_header(r, "Referrer-Policy", "no-referrer");
}

/* "/ui" is the dashboard's address without its slash: send the browser to
 * "/ui/", so that the pages' relative links resolve under it. */
void srv_h_ui_root(const struct srv_req *q, struct srv_resp *r)
{
	(void)q;
	r->status = 308;
	r->type = "text/plain; charset=utf-8";
	srv_resp_header(r, "Location", "/ui/");
	ui_headers(r);
}

void srv_h_ui(const struct srv_req *q, struct srv_resp *r)
{
	const char *name = q->param[0] ? q->param[0] : "index.html";
	const char *type = ui_type(name), *inm;
	char file[PATH_MAX], etag[80];
	struct stat st;
	int fd, n;
	if (!ui_name_ok(name) || !type) {
		srv_resp_error(r, 404, UPT_ERR_NOT_FOUND, "no such page");
		ui_headers(r);
		return;
	}
	n = snprintf(file, sizeof file, "%s/%s", q->srv->cfg->ui_dir, name);
	if (n < 0 || (size_t)n >= sizeof file) {
		srv_resp_error(r, 404, UPT_ERR_NOT_FOUND, "no such page");
		return;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			srv_log(SRV_LOG_WARN, "dashboard: cannot open %s: %s", file,
				strerror(errno));
		srv_resp_error(r, 404, UPT_ERR_NOT_FOUND,
			       strcmp(name, "index.html") == 0
				   ? "the dashboard is not installed (see ui_dir)"
				   : "no such page");
		ui_headers(r);
		return;
	}
	snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_ino,
		 (uint64_t)st.st_size,
		 (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
	ui_headers(r);
	srv_resp_header(r, "Cache-Control", "no-cache");
	srv_resp_header(r, "ETag", etag);
	inm = q->header(q->io, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		close(fd);
		r->status = 304;
		r->type = type;
		return;
	}
	r->status = 200;
	r->type = type;
	r->fd = fd;
	r->fd_off = 0;
	r->fd_len = (uint64_t)st.st_size;
}
