/* uptake-server's SQLite store transactions: a transaction begun inside
 * another is a savepoint in it (undone on its own, committed with the
 * outer one), and grouped transactions from many threads share commits:
 * each commit returns once what it wrote is committed (another connection
 * sees it), and a grouped transaction rolled back takes nothing of the
 * others with it. Reads outside a transaction go through read-only
 * connections: they see what is committed and do not wait for a writer;
 * inside a thread's own transaction they see what it wrote. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/server/store.h"
#include "harness.h"

static char dir[512], db[600];

static void fresh_db(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/store-tx-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof db, "%s/db", dir);
}

static void remove_db(void)
{
	char p[700];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", db, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* Is the device there, read through a connection of its own? */
static bool stored(const char *id)
{
	struct srv_store *other = NULL;
	struct srv_device d;
	struct upt_error err = {0};
	bool found;
	if (srv_store_sqlite_open(&other, db, &err) != UPT_OK)
		return false;
	found = other->ops->device_get(other, id, &d, &err) == UPT_OK;
	other->ops->close(other);
	return found;
}

static void test_nested(void)
{
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	fresh_db();
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	if (!st)
		return;
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_add(st, "outer", &err), UPT_OK);
	/* undone on its own */
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_add(st, "undone", &err), UPT_OK);
	st->ops->rollback(st);
	/* kept, and written only with the outer one */
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_add(st, "inner", &err), UPT_OK);
	CHECK_EQ_INT(st->ops->commit(st, &err), UPT_OK);
	CHECK(!stored("inner"));
	CHECK_EQ_INT(st->ops->commit(st, &err), UPT_OK);
	CHECK(stored("outer"));
	CHECK(stored("inner"));
	CHECK(!stored("undone"));
	/* an outer rollback takes the nested commit with it */
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_add(st, "gone", &err), UPT_OK);
	CHECK_EQ_INT(st->ops->commit(st, &err), UPT_OK);
	st->ops->rollback(st);
	CHECK(!stored("gone"));
	st->ops->close(st);
	remove_db();
}

#define THREADS 8
#define EACH    25

struct job {
	struct srv_store *st;
	int t;
	int ok, failed, seen_late;
};

struct add {
	const char *id;
	bool undo;
};

/* A grouped transaction's work: add the device, and fail when asked to
 * (what it wrote is undone, alone). */
static int add_device(struct srv_store *st, void *p, struct upt_error *err)
{
	const struct add *a = p;
	int rc = st->ops->device_add(st, a->id, err);
	if (rc == UPT_OK && a->undo)
		rc = upt_error_set(err, UPT_ERR_STATE, "undone on purpose");
	return rc;
}

static void *grouped(void *p)
{
	struct job *j = p;
	struct srv_store *st = j->st;
	for (int i = 0; i < EACH; i++) {
		struct upt_error err = {0};
		char id[32];
		struct add a = {id, i % 5 == 4}; /* every fifth is rolled back */
		int rc;
		snprintf(id, sizeof id, "dev-%d-%d", j->t, i);
		usleep(100); /* as a manifest is verified */
		rc = st->ops->grouped(st, add_device, &a, &err);
		if (a.undo) {
			if (rc == UPT_OK)
				j->failed++;
			continue;
		}
		if (rc != UPT_OK) {
			j->failed++;
			continue;
		}
		j->ok++;
		/* acknowledged: committed, as another connection sees */
		if (i % 8 == 0 && !stored(id))
			j->seen_late++;
	}
	return NULL;
}

static void test_group_commit(void)
{
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	pthread_t t[THREADS];
	struct job jobs[THREADS];
	int ok = 0, failed = 0, late = 0, missing = 0, extra = 0;
	fresh_db();
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	if (!st)
		return;
	CHECK(st->ops->grouped != NULL);
	if (!st->ops->grouped) {
		st->ops->close(st);
		remove_db();
		return;
	}
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct job){st, i, 0, 0, 0};
		pthread_create(&t[i], NULL, grouped, &jobs[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += jobs[i].ok;
		failed += jobs[i].failed;
		late += jobs[i].seen_late;
	}
	CHECK_EQ_INT(failed, 0);
	CHECK_EQ_INT(ok, THREADS * (EACH - EACH / 5));
	CHECK_EQ_INT(late, 0);
	/* a plain write after grouped ones: their commit goes first */
	CHECK_EQ_INT(st->ops->device_add(st, "plain", &err), UPT_OK);
	st->ops->close(st);
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < EACH; k++) {
			char id[32];
			snprintf(id, sizeof id, "dev-%d-%d", i, k);
			if (k % 5 == 4)
				extra += stored(id);
			else
				missing += !stored(id);
		}
	CHECK_EQ_INT(missing, 0);
	CHECK_EQ_INT(extra, 0);
	CHECK(stored("plain"));
	remove_db();
}

/* A grouped transaction that fails inside (a duplicate) is refused alone;
 * one begun inside a transaction of the thread's own is nested in it. */
static void test_group_failure_alone(void)
{
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	fresh_db();
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	if (!st || !st->ops->grouped) {
		CHECK(st && st->ops->grouped);
		if (st)
			st->ops->close(st);
		remove_db();
		return;
	}
	CHECK_EQ_INT(st->ops->device_add(st, "twice", &err), UPT_OK);
	CHECK(st->ops->grouped(st, add_device, &(struct add){"twice", false}, &err) != UPT_OK);
	CHECK(err.msg[0] != 0);
	CHECK_EQ_INT(st->ops->grouped(st, add_device, &(struct add){"after", false}, &err), UPT_OK);
	CHECK(stored("after"));
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->grouped(st, add_device, &(struct add){"nested", false}, &err),
		     UPT_OK);
	CHECK(!stored("nested"));
	CHECK_EQ_INT(st->ops->commit(st, &err), UPT_OK);
	CHECK(stored("nested"));
	/* nested and failing: undone alone, the outer transaction goes on */
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_add(st, "outer", &err), UPT_OK);
	CHECK(st->ops->grouped(st, add_device, &(struct add){"inner", true}, &err) != UPT_OK);
	CHECK_EQ_INT(st->ops->commit(st, &err), UPT_OK);
	CHECK(stored("outer"));
	CHECK(!stored("inner"));
	st->ops->close(st);
	remove_db();
}

/* Jobs queued without waiting (grouped_async), from a few threads: each
 * told once, after its commit is durable (another connection sees it),
 * a failed one alone and with its error, and the sync kind mixed in. */
#define ASYNC_JOBS 600

struct async_job {
	struct add a;
	char id[32];
	int told;         /* how often done was called */
	int rc;           /* its result */
	bool seen;        /* stored, as another connection saw when told */
	bool err_message; /* a failure came with a message */
};

static pthread_mutex_t told_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t told_cv = PTHREAD_COND_INITIALIZER;
static int told_total;

static void async_done(void *ctx, int rc, const struct upt_error *err)
{
	struct async_job *j = ctx;
	/* sampled: a fresh connection per check is slow */
	bool look = rc == UPT_OK && j->id[strlen(j->id) - 1] == '0';
	j->seen = look ? stored(j->id) : rc == UPT_OK;
	j->err_message = rc != UPT_OK && err && err->msg[0];
	pthread_mutex_lock(&told_lock);
	j->told++;
	j->rc = rc;
	told_total++;
	pthread_cond_broadcast(&told_cv);
	pthread_mutex_unlock(&told_lock);
}

struct async_feed {
	struct srv_store *st;
	struct async_job *jobs;
	int from, to;
};

static void *feed(void *p)
{
	struct async_feed *f = p;
	for (int i = f->from; i < f->to; i++) {
		struct async_job *j = &f->jobs[i];
		if (i % 50 == 25) { /* the waiting kind, between them */
			struct upt_error err = {0};
			int rc = f->st->ops->grouped(f->st, add_device, &j->a, &err);
			async_done(j, rc, &err);
		} else {
			f->st->ops->grouped_async(f->st, add_device, &j->a, async_done, j);
		}
		if (i % 16 == 0)
			usleep(200);
	}
	return NULL;
}

static void test_group_async(void)
{
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	struct async_job *jobs = calloc(ASYNC_JOBS, sizeof *jobs);
	struct async_feed f[3];
	pthread_t t[3];
	int once = 0, ok = 0, failed_ok = 0, unseen = 0, missing = 0, extra = 0, no_msg = 0;
	fresh_db();
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	CHECK(st && st->ops->grouped_async);
	if (!st || !st->ops->grouped_async || !jobs) {
		if (st)
			st->ops->close(st);
		free(jobs);
		remove_db();
		return;
	}
	/* a duplicate among them: refused alone */
	CHECK_EQ_INT(st->ops->device_add(st, "async-7", &err), UPT_OK);
	for (int i = 0; i < ASYNC_JOBS; i++) {
		snprintf(jobs[i].id, sizeof jobs[i].id, "async-%d", i);
		jobs[i].a = (struct add){jobs[i].id, i % 9 == 4};
	}
	told_total = 0;
	for (int k = 0; k < 3; k++) {
		f[k] = (struct async_feed){st, jobs, k * ASYNC_JOBS / 3, (k + 1) * ASYNC_JOBS / 3};
		pthread_create(&t[k], NULL, feed, &f[k]);
	}
	for (int k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	pthread_mutex_lock(&told_lock);
	while (told_total < ASYNC_JOBS) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 30;
		if (pthread_cond_timedwait(&told_cv, &told_lock, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&told_lock);
	CHECK_EQ_INT(told_total, ASYNC_JOBS);
	for (int i = 0; i < ASYNC_JOBS; i++) {
		bool should = i % 9 != 4 && i != 7;
		once += jobs[i].told == 1;
		if (should) {
			ok += jobs[i].rc == UPT_OK;
			unseen += !jobs[i].seen;
		} else {
			failed_ok += jobs[i].rc == UPT_OK;
			no_msg += !jobs[i].err_message;
		}
	}
	CHECK_EQ_INT(once, ASYNC_JOBS);
	CHECK_EQ_INT(failed_ok, 0);
	CHECK_EQ_INT(no_msg, 0);
	CHECK_EQ_INT(unseen, 0);
	CHECK_EQ_INT(ok, ASYNC_JOBS - (ASYNC_JOBS + 4) / 9 - 1);
	st->ops->close(st);
	for (int i = 0; i < ASYNC_JOBS; i++) {
		bool should = i % 9 != 4;
		if (should)
			missing += !stored(jobs[i].id);
		else
			extra += stored(jobs[i].id);
	}
	CHECK_EQ_INT(missing, 0);
	CHECK_EQ_INT(extra, 0);
	free(jobs);
	remove_db();
}

/* Announced jobs (grouped_expect) share a commit: with the disk free, a
 * group waits for those on their way instead of committing its first job
 * alone; a job nobody else announced is not held, nor one whose announced
 * company never comes (GROUP_WINDOW_US at most). */
static int group_told; /* under told_lock */

static void group_done(void *ctx, int rc, const struct upt_error *err)
{
	int *rcp = ctx;
	(void)err;
	pthread_mutex_lock(&told_lock);
	*rcp = rc;
	group_told++;
	pthread_cond_broadcast(&told_cv);
	pthread_mutex_unlock(&told_lock);
}

/* Until `want` are told, 5 s at most; how many were. */
static int group_wait(int want)
{
	int n;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&told_lock);
	while (group_told < want && pthread_cond_timedwait(&told_cv, &told_lock, &until) == 0)
		;
	n = group_told;
	pthread_mutex_unlock(&told_lock);
	return n;
}

static void test_group_expect(void)
{
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	int rcs[16], together = 0, attempts = 0;
	char ids[16][32];
	struct add adds[16];
	fresh_db();
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	CHECK(st && st->ops->grouped_async && st->ops->grouped_expect);
	if (!st || !st->ops->grouped_async || !st->ops->grouped_expect) {
		if (st)
			st->ops->close(st);
		remove_db();
		return;
	}
	/* ten announced; the first queued alone, the others 300 us later
	 * (a verification's time): the first is told with them, not before.
	 * A stall of the machine past the group's gap commits it early:
	 * three tries. */
	while (!together && attempts < 3) {
		int told_early = -1;
		attempts++;
		group_told = 0;
		srv_store_expect(st, 10);
		for (int i = 0; i < 10; i++) {
			snprintf(ids[i], sizeof ids[i], "expect-%d-%d", attempts, i);
			adds[i] = (struct add){ids[i], false};
			st->ops->grouped_async(st, add_device, &adds[i], group_done, &rcs[i]);
			srv_store_expect(st, -1);
			if (i == 0)
				usleep(300);
			if (i == 8) {
				pthread_mutex_lock(&told_lock);
				told_early = group_told;
				pthread_mutex_unlock(&told_lock);
			}
		}
		CHECK_EQ_INT(group_wait(10), 10);
		for (int i = 0; i < 10; i++)
			CHECK_EQ_INT(rcs[i], UPT_OK);
		together = told_early == 0;
	}
	CHECK(together);
	/* alone: told without waiting for anything */
	group_told = 0;
	st->ops->grouped_async(st, add_device, &(struct add){"alone", false}, group_done, &rcs[0]);
	CHECK_EQ_INT(group_wait(1), 1);
	CHECK_EQ_INT(rcs[0], UPT_OK);
	/* announced company that never comes: the job is told all the same */
	group_told = 0;
	srv_store_expect(st, 20);
	st->ops->grouped_async(st, add_device, &(struct add){"waited", false}, group_done, &rcs[0]);
	CHECK_EQ_INT(group_wait(1), 1);
	CHECK_EQ_INT(rcs[0], UPT_OK);
	srv_store_expect(st, -20);
	st->ops->close(st);
	CHECK(stored("alone"));
	CHECK(stored("waited"));
	CHECK(stored("expect-1-9") || stored("expect-2-9") || stored("expect-3-9"));
	remove_db();
}

struct reading {
	struct srv_store *st;
	const char *id;
	int rc;
};

static void *read_device(void *p)
{
	struct reading *r = p;
	struct srv_device d;
	struct upt_error err = {0};
	r->rc = r->st->ops->device_get(r->st, r->id, &d, &err);
	return NULL;
}

/* A read from another thread while a transaction is open: it does not
 * wait for it, and sees only what is committed; the transaction's own
 * thread sees what it wrote. */
static void test_readers(void)
{
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	struct srv_device d;
	struct reading r;
	struct timespec until;
	pthread_t t;
	fresh_db();
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	if (!st)
		return;
	CHECK_EQ_INT(st->ops->device_add(st, "committed", &err), UPT_OK);
	CHECK_EQ_INT(st->ops->begin(st, &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_add(st, "open", &err), UPT_OK);
	CHECK_EQ_INT(st->ops->device_get(st, "open", &d, &err), UPT_OK);
	r = (struct reading){st, "open", -1};
	pthread_create(&t, NULL, read_device, &r);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	/* the old store made this read wait for the commit below */
	CHECK_EQ_INT(pthread_timedjoin_np(t, NULL, &until), 0);
	CHECK_EQ_INT(st->ops->commit(st, &err), UPT_OK);
	if (r.rc == -1)
		pthread_join(t, NULL);
	CHECK_EQ_INT(r.rc, UPT_ERR_NOT_FOUND);
	r = (struct reading){st, "committed", -1};
	pthread_create(&t, NULL, read_device, &r);
	pthread_join(t, NULL);
	CHECK_EQ_INT(r.rc, UPT_OK);
	/* once committed, the readers see it */
	r = (struct reading){st, "open", -1};
	pthread_create(&t, NULL, read_device, &r);
	pthread_join(t, NULL);
	CHECK_EQ_INT(r.rc, UPT_OK);
	st->ops->close(st);
	remove_db();
}

int main(void)
{
	RUN(test_readers);
	RUN(test_nested);
	RUN(test_group_commit);
	RUN(test_group_failure_alone);
	RUN(test_group_async);
	RUN(test_group_expect);
	TEST_MAIN_END();
}
