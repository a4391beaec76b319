/* writer: see writer.h. */
#include "writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbprobe.h"
#include "log.h"
#include "quarantine.h"
#include "util.h"

#define REPLAY_CHUNK 5000
/* While the database is up and the writer idle, check it this often, so /readyz and
 * rs_db_up notice a database that went away (or hung) without traffic. */
#define HEALTH_US 2000000

struct rs_writer {
	const rs_config_t *cfg;
	rs_store_t *store;
	journal_t *journal;
	rs_metrics_t *m;
	void (*notify)(void *);
	void *arg;

	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	rs_item_t *head, *tail;   /* queue (mu) */
	rs_item_t *dhead, *dtail; /* done (mu) */
	int waiting;              /* writer sleeps on cv (mu) */
	int stopping;             /* (mu) */

	size_t inflight;          /* loop thread only */
	int db_up;                /* atomics: written by the writer, read anywhere */
	int journal_full;
	int finished;

	/* writer thread only */
	rs_row_t *rows;
	size_t cap_rows;
	journal_chunk_t chunk;
	int64_t next_retry_us;
	int64_t next_health_us;   /* next idle check of a database that is up */
	int64_t next_replay_us;   /* replay paused until then after a failure */
	size_t replay_max;        /* entries per replay chunk: halved on failure */
	int full_logged;

	pthread_mutex_t err_mu;
	char last_err[256];       /* why the database was last declared down (err_mu) */

	/* PostgreSQL: the probe thread's verdict (atomic: -1 none yet, 0 down, 1 up)
	 * and its reason (err_mu). */
	dbprobe_t *probe;
	int probe_ok;
	int64_t probe_at_us;      /* atomic: when the ping behind probe_ok began */
	int64_t down_since_us;    /* writer thread: when the writer last saw a failure */
	char probe_why[256];
};

rs_item_t *writer_item_new(enum rs_kind kind, const char *id, const record_t *rec,
			   const char *body, size_t body_len, const char *receipt,
			   int64_t received_ms)
{
	size_t idlen = strlen(id) + 1;
	size_t rlen = receipt ? strlen(receipt) + 1 : 0;
	size_t reclen = kind == RS_KIND_CDR && rec ? sizeof(record_t) : 0;
	/* record_t first after the header keeps it aligned. */
	rs_item_t *it = malloc(sizeof(*it) + reclen + idlen + rlen + body_len + 1);
	if (!it)
		return NULL;
	char *p = (char *)(it + 1);
	memset(it, 0, sizeof(*it));
	it->row.kind = kind;
	if (reclen) {
		memcpy(p, rec, sizeof(record_t));
		it->row.rec = (record_t *)p;
		p += reclen;
	}
	memcpy(p, id, idlen);
	it->row.id = p;
	p += idlen;
	if (receipt) {
		memcpy(p, receipt, rlen);
		it->receipt = p;
		p += rlen;
	}
	memcpy(p, body, body_len);
	p[body_len] = 0;
	it->row.body = p;
	it->row.body_len = body_len;
	it->row.received_ms = received_ms;
	return it;
}

rs_writer_t *writer_new(const rs_config_t *cfg, rs_store_t *store, journal_t *journal,
			rs_metrics_t *metrics, void (*notify)(void *), void *arg)
{
	rs_writer_t *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cfg = cfg;
	w->store = store;
	w->journal = journal;
	w->m = metrics;
	w->notify = notify;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->err_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	return w;
}

void writer_submit(rs_writer_t *w, rs_item_t *item)
{
	int wake;
	item->next = NULL;
	w->inflight++;
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = item;
	else
		w->head = item;
	w->tail = item;
	wake = w->waiting;
	w->waiting = 0;
	pthread_mutex_unlock(&w->mu);
	if (wake)
		pthread_cond_signal(&w->cv);
}

rs_item_t *writer_take_done(rs_writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	rs_item_t *l = w->dhead;
	w->dhead = w->dtail = NULL;
	pthread_mutex_unlock(&w->mu);
	for (rs_item_t *i = l; i; i = i->next)
		w->inflight--;
	metric_set(w->m->queue, (double)w->inflight);
	return l;
}

size_t writer_inflight(const rs_writer_t *w)
{
	return w->inflight;
}

bool writer_db_up(const rs_writer_t *w)
{
	return __atomic_load_n(&w->db_up, __ATOMIC_RELAXED);
}

bool writer_journal_full(const rs_writer_t *w)
{
	return __atomic_load_n(&w->journal_full, __ATOMIC_RELAXED);
}

bool writer_finished(const rs_writer_t *w)
{
	return __atomic_load_n(&w->finished, __ATOMIC_ACQUIRE);
}

static void set_db_up(rs_writer_t *w, int up)
{
	if (up != __atomic_load_n(&w->db_up, __ATOMIC_RELAXED)) {
		if (up)
			log_info("database reachable");
		__atomic_store_n(&w->db_up, up, __ATOMIC_RELAXED);
	}
	metric_set(w->m->db_up, up);
}

static void update_journal_state(rs_writer_t *w)
{
	uint64_t bytes = journal_bytes(w->journal);
	int full = bytes >= (uint64_t)w->cfg->journal_max_bytes;
	__atomic_store_n(&w->journal_full, full, __ATOMIC_RELAXED);
	metric_set(w->m->journal_depth, (double)journal_depth(w->journal));
	metric_set(w->m->journal_bytes, (double)bytes);
	if (!full)
		w->full_logged = 0;
}

void writer_last_error(rs_writer_t *w, char *buf, size_t len)
{
	pthread_mutex_lock(&w->err_mu);
	snprintf(buf, len, "%s", w->last_err);
	pthread_mutex_unlock(&w->err_mu);
}

static void db_failed(rs_writer_t *w, const char *what, const char *err)
{
	pthread_mutex_lock(&w->err_mu);
	snprintf(w->last_err, sizeof(w->last_err), "%s: %s", what, err);
	pthread_mutex_unlock(&w->err_mu);
	if (__atomic_load_n(&w->db_up, __ATOMIC_RELAXED))
		log_error("%s: %s; journaling until the database is back", what, err);
	set_db_up(w, 0);
	w->down_since_us = util_mono_us();
	w->next_retry_us = w->down_since_us + (int64_t)w->cfg->retry_ms * 1000;
}

/* The database answered: no idle check needed for a while. */
static void db_answered(rs_writer_t *w)
{
	w->next_health_us = util_mono_us() + HEALTH_US;
}

/* Idle check of a database that counts as up (a hung or paused server answers
 * nothing: the store's own deadline turns that into an error). */
static void maybe_check_health(rs_writer_t *w)
{
	char err[512];

	if (!writer_db_up(w) || util_mono_us() < w->next_health_us)
		return;
	if (store_ping(w->store, err, sizeof(err))) {
		db_failed(w, "database check", err);
		return;
	}
	db_answered(w);
}

/* Writer thread: has the probe seen the database answer since the writer last saw
 * it fail? (An older "up" says nothing about a server that has just hung.) */
static bool probe_says_up(rs_writer_t *w)
{
	return __atomic_load_n(&w->probe_ok, __ATOMIC_ACQUIRE) == 1 &&
	       __atomic_load_n(&w->probe_at_us, __ATOMIC_ACQUIRE) >= w->down_since_us;
}

static void maybe_reconnect(rs_writer_t *w)
{
	char err[512];
	if (writer_db_up(w) || util_mono_us() < w->next_retry_us)
		return;
	/* With a probe, reconnect only once it has seen the database answer: the
	 * writer never spends its time waiting on a dead or hung server. */
	if (w->probe && !probe_says_up(w))
		return;
	if (store_ping(w->store, err, sizeof(err)) == 0) {
		set_db_up(w, 1);
		db_answered(w);
		return;
	}
	log_debug("database still unreachable: %s", err);
	pthread_mutex_lock(&w->err_mu);
	snprintf(w->last_err, sizeof(w->last_err), "database: %.200s", err);
	pthread_mutex_unlock(&w->err_mu);
	w->next_retry_us = util_mono_us() + (int64_t)w->cfg->retry_ms * 1000;
}

/* Probe thread, after each ping. Wakes the writer when the answer changed. */
static void probe_report(void *arg, int ok, const char *why, int64_t started_us)
{
	rs_writer_t *w = arg;
	int was = __atomic_load_n(&w->probe_ok, __ATOMIC_ACQUIRE);

	pthread_mutex_lock(&w->err_mu);
	snprintf(w->probe_why, sizeof(w->probe_why), "%s", why);
	if (!ok && !__atomic_load_n(&w->db_up, __ATOMIC_RELAXED))
		snprintf(w->last_err, sizeof(w->last_err), "database: %.200s", why);
	pthread_mutex_unlock(&w->err_mu);
	__atomic_store_n(&w->probe_at_us, started_us, __ATOMIC_RELEASE);
	__atomic_store_n(&w->probe_ok, ok, __ATOMIC_RELEASE);
	if (ok == was)
		return;
	pthread_mutex_lock(&w->mu);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Writer thread: the probe saw the database stop answering. */
static void apply_probe(rs_writer_t *w)
{
	char why[256];

	if (!w->probe || !writer_db_up(w) ||
	    __atomic_load_n(&w->probe_ok, __ATOMIC_ACQUIRE) != 0)
		return;
	pthread_mutex_lock(&w->err_mu);
	snprintf(why, sizeof(why), "%s", w->probe_why);
	pthread_mutex_unlock(&w->err_mu);
	db_failed(w, "database check", why);
}

/* Journal entries that no longer decode (CDR rows with no record) cannot be
 * stored: quarantine them and drop them from the chunk. -1 if one could not even be
 * quarantined (the chunk then stays in the journal). */
static int replay_sift(rs_writer_t *w, journal_chunk_t *ch)
{
	char field[64], why[300], err[512];
	size_t k = 0;

	for (size_t i = 0; i < ch->n; i++) {
		rs_row_t *row = &ch->rows[i];
		if (row->kind == RS_KIND_CDR && !row->rec) {
			record_t r;
			char e[256] = "";
			record_decode(row->body, row->body_len, &r, field, sizeof(field), e,
				      sizeof(e));
			snprintf(why, sizeof(why), "journal entry no longer decodes: %s", e);
			if (quarantine_row(w->store, w->cfg->journal_dir, row, why, err,
					   sizeof(err))) {
				log_error("journal replay: %s", err);
				return -1;
			}
			metric_inc(w->m->quarantined);
			continue;
		}
		ch->rows[k++] = *row;
	}
	ch->n = k;
	return 0;
}

/* Commit one chunk of the journal to the database, in journal order. A chunk that
 * fails is retried smaller (down to one entry) after retry_ms, so no entry can hold
 * the replay in a tight loop; a refused entry is quarantined. */
static void replay_chunk(rs_writer_t *w)
{
	char err[512];
	size_t inserted = 0, quarantined = 0;

	if (!writer_db_up(w) || journal_depth(w->journal) == 0 ||
	    util_mono_us() < w->next_replay_us)
		return;
	if (!w->replay_max)
		w->replay_max = REPLAY_CHUNK;
	if (journal_read(w->journal, w->replay_max, &w->chunk, err, sizeof(err))) {
		log_error("journal replay: %s", err);
		w->next_replay_us = util_mono_us() + (int64_t)w->cfg->retry_ms * 1000;
		return;
	}
	if (w->chunk.entries == 0)
		return;
	if (replay_sift(w, &w->chunk) ||
	    quarantine_insert(w->store, w->cfg->journal_dir, w->chunk.rows, w->chunk.n,
			      &inserted, &quarantined, err, sizeof(err))) {
		w->replay_max = w->replay_max > 1 ? w->replay_max / 2 : 1;
		w->next_replay_us = util_mono_us() + (int64_t)w->cfg->retry_ms * 1000;
		db_failed(w, "journal replay", err);
		return;
	}
	db_answered(w);
	if (w->replay_max < REPLAY_CHUNK)
		w->replay_max *= 2;
	metric_add(w->m->stored, inserted);
	metric_add(w->m->duplicates, w->chunk.n - inserted - quarantined);
	metric_add(w->m->quarantined, quarantined);
	metric_add(w->m->replayed, w->chunk.n);
	if (journal_consume(w->journal, &w->chunk, err, sizeof(err)))
		log_error("journal: %s", err);
	if (journal_depth(w->journal) == 0)
		log_info("journal replayed; writing to the database directly");
	update_journal_state(w);
}

/* Make one batch durable. Returns 1 when it is (database or journal), 0 when it has
 * to wait (database down and journal full). */
static int commit_batch(rs_writer_t *w, rs_item_t *batch, size_t n)
{
	char err[512];
	size_t inserted = 0, quarantined = 0, i = 0;

	if (n > w->cap_rows) {
		rs_row_t *r = realloc(w->rows, n * sizeof(*r));
		if (!r)
			return 0;
		w->rows = r;
		w->cap_rows = n;
	}
	for (rs_item_t *it = batch; it && i < n; it = it->next)
		w->rows[i++] = it->row;

	if (writer_db_up(w)) {
		int64_t t0 = util_mono_us();
		if (quarantine_insert(w->store, w->cfg->journal_dir, w->rows, n, &inserted,
				      &quarantined, err, sizeof(err)) == 0) {
			int64_t us = util_mono_us() - t0;
			db_answered(w);
			metric_observe(w->m->batch_seconds, us / 1e6);
			metric_set(w->m->batch_last, us / 1e6);
			__atomic_add_fetch(&w->m->batch_us_sum, (uint64_t)us, __ATOMIC_RELAXED);
			__atomic_add_fetch(&w->m->batch_n, 1, __ATOMIC_RELAXED);
			metric_observe(w->m->batch_size, (double)n);
			metric_add(w->m->stored, inserted);
			metric_add(w->m->duplicates, n - inserted - quarantined);
			metric_add(w->m->quarantined, quarantined);
			return 1;
		}
		db_failed(w, "database insert", err);
	}
	if (writer_journal_full(w)) {
		if (!w->full_logged)
			log_error("journal full (%llu bytes, limit %lld) and database down:"
				  " refusing new records",
				  (unsigned long long)journal_bytes(w->journal),
				  w->cfg->journal_max_bytes);
		w->full_logged = 1;
		return 0;
	}
	if (journal_append(w->journal, w->rows, n, err, sizeof(err))) {
		log_error("%s", err);
		return 0;
	}
	metric_add(w->m->journaled, n);
	update_journal_state(w);
	return 1;
}

static void hand_back(rs_writer_t *w, rs_item_t *batch, rs_item_t *last, int durable)
{
	for (rs_item_t *it = batch; it; it = it->next)
		it->durable = durable;
	pthread_mutex_lock(&w->mu);
	if (w->dtail)
		w->dtail->next = batch;
	else
		w->dhead = batch;
	w->dtail = last;
	pthread_mutex_unlock(&w->mu);
	w->notify(w->arg);
}

/* When the writer has timed work to do: reconnect (database down), idle check
 * (up), journal replay (up, entries waiting). Monotonic us; 0 = now. */
static int64_t next_due(rs_writer_t *w)
{
	int64_t soon = util_mono_us() + 1000000; /* the probe wakes us earlier */

	if (!writer_db_up(w)) {
		if (w->probe && !probe_says_up(w))
			return soon;
		return w->next_retry_us;
	}
	if (w->probe && __atomic_load_n(&w->probe_ok, __ATOMIC_ACQUIRE) == 0)
		return 0;
	if (journal_depth(w->journal) > 0 &&
	    w->next_replay_us < (w->probe ? soon : w->next_health_us))
		return w->next_replay_us;
	return w->probe ? soon : w->next_health_us;
}

/* Sleep (mu held) until a record is queued, we are stopped, or timed work is due. */
static void writer_wait(rs_writer_t *w, int holding)
{
	int64_t due = next_due(w), now = util_mono_us();

	if (w->head || holding || w->stopping || due <= now)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = ts.tv_nsec + (due - now) * 1000;
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	w->waiting = 1;
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	w->waiting = 0;
}

/* Unlink up to batch_max queued items (mu held). NULL if none. */
static rs_item_t *take_batch(rs_writer_t *w, rs_item_t **lastp, size_t *np)
{
	rs_item_t *batch = w->head, *last = batch;
	size_t n = 1;

	if (!batch)
		return NULL;
	while (last->next && n < (size_t)w->cfg->batch_max) {
		last = last->next;
		n++;
	}
	w->head = last->next;
	if (!w->head)
		w->tail = NULL;
	last->next = NULL;
	*lastp = last;
	*np = n;
	return batch;
}

static void *writer_main(void *arg)
{
	rs_writer_t *w = arg;
	rs_item_t *held = NULL, *held_last = NULL; /* a batch waiting for room */
	size_t held_n = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		writer_wait(w, held != NULL);
		rs_item_t *batch = held, *last = held_last;
		size_t n = held_n;
		if (!batch)
			batch = take_batch(w, &last, &n);
		int stopping = w->stopping;
		pthread_mutex_unlock(&w->mu);

		/* The batch in hand first (to the journal if the database is down), then
		 * the slow things: a reconnect or an idle check may each take up to the
		 * store's deadline. */
		held = NULL;
		if (batch) {
			if (commit_batch(w, batch, n)) {
				hand_back(w, batch, last, 1);
			} else if (stopping) {
				hand_back(w, batch, last, 0); /* never receipted */
			} else {
				held = batch;
				held_last = last;
				held_n = n;
				struct timespec ts = { 0, 1000000L * (w->cfg->retry_ms < 100
									       ? w->cfg->retry_ms
									       : 100) };
				nanosleep(&ts, NULL);
			}
		}
		apply_probe(w);
		maybe_reconnect(w);
		if (!stopping) {
			if (!w->probe)
				maybe_check_health(w);
			replay_chunk(w);
		}
		pthread_mutex_lock(&w->mu);
		if (w->stopping && !w->head && !held)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	w->notify(w->arg);
	return NULL;
}

int writer_start(rs_writer_t *w, char *err, size_t errlen)
{
	char e[512];

	if (w->cfg->backend == RS_BACKEND_POSTGRESQL) {
		/* Connect once the probe has seen the server answer: a hung server must
		 * hold up neither the listeners nor the writer. Until then the database
		 * counts as down. */
		__atomic_store_n(&w->probe_ok, -1, __ATOMIC_RELEASE);
		db_failed(w, "database", "not connected yet");
		w->next_retry_us = 0;
		w->probe = dbprobe_start(w->cfg, HEALTH_US / 1000, w->cfg->retry_ms,
					 probe_report, w, err, errlen);
		if (!w->probe)
			return -1;
	} else if (store_ping(w->store, e, sizeof(e)) == 0) {
		set_db_up(w, 1);
		db_answered(w);
	} else {
		log_error("database unreachable at start: %s", e);
		db_failed(w, "database", e);
	}
	update_journal_state(w);
	if (journal_depth(w->journal))
		log_info("journal holds %llu records to replay",
			 (unsigned long long)journal_depth(w->journal));
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		snprintf(err, errlen, "writer: cannot start thread");
		return -1;
	}
	w->started = 1;
	return 0;
}

void writer_stop(rs_writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_mutex_unlock(&w->mu);
	pthread_cond_signal(&w->cv);
}

void writer_free(rs_writer_t *w)
{
	if (!w)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	dbprobe_stop(w->probe);
	for (rs_item_t *l = w->head, *n; l; l = n) {
		n = l->next;
		free(l);
	}
	for (rs_item_t *l = w->dhead, *n; l; l = n) {
		n = l->next;
		free(l);
	}
	journal_chunk_free(&w->chunk);
	free(w->rows);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->err_mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
