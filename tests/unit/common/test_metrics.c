/* Unit tests for common/metrics.c: registration rules, atomic updates from threads,
 * and the exact Prometheus text rendering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static void test_render_exact(void **state)
{
	metrics_t *m = metrics_new();
	static const double bounds[] = { 0.005, 0.1, 1 };
	metric_t *ok, *bad, *plain, *g, *h;
	size_t len = 0;
	char *text;

	ok = metrics_counter(m, "rs_records_total", "Records received.", "result=ok");
	bad = metrics_counter(m, "rs_records_total", "ignored second help",
			      "result=bad \"quoted\" \\ back\nslash");
	g = metrics_gauge(m, "rs_queue_depth", "Help with \\ and\nnewline.", NULL);
	plain = metrics_counter(m, "rs_plain_total", "", NULL);
	h = metrics_histogram(m, "rs_batch_seconds", "Batch commit time.", bounds, 3);
	assert_non_null(ok);
	assert_non_null(bad);
	assert_non_null(g);
	assert_non_null(plain);
	assert_non_null(h);
	metric_inc(ok);
	metric_add(ok, 41);
	metric_inc(bad);
	metric_set(g, 2.5);
	metric_gauge_add(g, -1);
	metric_observe(h, 0.005); /* on the bound: counted in le="0.005" */
	metric_observe(h, 0.05);
	metric_observe(h, 0.5);
	metric_observe(h, 3);
	text = metrics_render(m, &len);
	assert_non_null(text);
	assert_string_equal(text,
		"# HELP rs_records_total Records received.\n"
		"# TYPE rs_records_total counter\n"
		"rs_records_total{result=\"ok\"} 42\n"
		"rs_records_total{result=\"bad \\\"quoted\\\" \\\\ back\\nslash\"} 1\n"
		"# HELP rs_queue_depth Help with \\\\ and\\nnewline.\n"
		"# TYPE rs_queue_depth gauge\n"
		"rs_queue_depth 1.5\n"
		"# HELP rs_plain_total \n"
		"# TYPE rs_plain_total counter\n"
		"rs_plain_total 0\n"
		"# HELP rs_batch_seconds Batch commit time.\n"
		"# TYPE rs_batch_seconds histogram\n"
		"rs_batch_seconds_bucket{le=\"0.005\"} 1\n"
		"rs_batch_seconds_bucket{le=\"0.1\"} 2\n"
		"rs_batch_seconds_bucket{le=\"1\"} 3\n"
		"rs_batch_seconds_bucket{le=\"+Inf\"} 4\n"
		"rs_batch_seconds_sum 3.555\n"
		"rs_batch_seconds_count 4\n");
	assert_int_equal(len, strlen(text));
	assert_true(metric_value(ok) == 42);
	assert_true(metric_value(g) == 1.5);
	assert_true(metric_value(h) == 4);
	free(text);
	metrics_free(m);
}

static void test_registration_rules(void **state)
{
	metrics_t *m = metrics_new();
	metric_t *a = metrics_counter(m, "x_total", "X.", "k=v");

	assert_ptr_equal(metrics_counter(m, "x_total", "X.", "k=v"), a);
	assert_ptr_not_equal(metrics_counter(m, "x_total", "X.", "k=w"), a);
	assert_ptr_not_equal(metrics_counter(m, "x_total", "X.", NULL), a);
	/* Same name, other type: refused. */
	assert_null(metrics_gauge(m, "x_total", "X.", "k=v"));
	assert_null(metrics_histogram(m, "x_total", "X.", NULL, 0));
	/* A label must be key=value. */
	assert_null(metrics_counter(m, "y_total", "Y.", "novalue"));
	assert_null(metrics_counter(m, "y_total", "Y.", "=v"));
	/* metrics_find returns existing series only and never creates one. */
	assert_ptr_equal(metrics_find(m, "x_total", "k=v"), a);
	assert_null(metrics_find(m, "x_total", "k=zz"));
	assert_null(metrics_find(m, "nope", NULL));
	assert_null(metrics_find(m, "nope", NULL));
	assert_null(metrics_find(NULL, "x_total", NULL));
	/* NULL handles are ignored by the updaters. */
	metric_inc(NULL);
	metric_set(NULL, 1);
	metric_observe(NULL, 1);
	assert_true(metric_value(NULL) == 0);
	metrics_free(m);
}

static void test_special_values_and_empty_histogram(void **state)
{
	metrics_t *m = metrics_new();
	metric_t *g = metrics_gauge(m, "g", "G.", "a=1");
	metric_t *h = metrics_histogram(m, "h", "H.", NULL, 0);
	char *text;

	metric_set(g, 1.0 / 0.0);
	metric_observe(h, 7);
	text = metrics_render(m, NULL);
	assert_string_equal(text, "# HELP g G.\n# TYPE g gauge\ng{a=\"1\"} +Inf\n"
				  "# HELP h H.\n# TYPE h histogram\n"
				  "h_bucket{le=\"+Inf\"} 1\nh_sum 7\nh_count 1\n");
	free(text);
	metric_set(g, 0.1);
	text = metrics_render(m, NULL);
	assert_non_null(strstr(text, "g{a=\"1\"} 0.1\n")); /* shortest form, not 0.1000...01 */
	free(text);
	metric_set(g, 123456789012.0);
	text = metrics_render(m, NULL);
	assert_non_null(strstr(text, "g{a=\"1\"} 123456789012\n"));
	free(text);
	metrics_free(m);
}

struct worker {
	metric_t *c, *g, *h;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 100000; i++) {
		metric_inc(w->c);
		metric_gauge_add(w->g, 1);
		metric_observe(w->h, (i % 2) ? 0.5 : 2);
	}
	return NULL;
}

static void test_threads(void **state)
{
	metrics_t *m = metrics_new();
	static const double b[] = { 1 };
	struct worker w = { metrics_counter(m, "c_total", "C.", NULL),
			    metrics_gauge(m, "g", "G.", NULL),
			    metrics_histogram(m, "h", "H.", b, 1) };
	pthread_t t[4];
	char *text;

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, &w);
	for (int i = 0; i < 20; i++)
		free(metrics_render(m, NULL)); /* scrapes racing the updates */
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(metric_value(w.c) == 400000);
	assert_true(metric_value(w.g) == 400000);
	assert_true(metric_value(w.h) == 400000);
	text = metrics_render(m, NULL);
	assert_non_null(strstr(text, "h_bucket{le=\"1\"} 200000\n"));
	if (!strstr(text, "h_sum 500000\n"))
		fail_msg("%s", text);
	free(text);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_registration_rules),
		cmocka_unit_test(test_special_values_and_empty_histogram),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
