/*
 * rt_web: the dashboard on rs's HTTP port. GET / is rs/web/index.html; GET /ui/NAME
 * is one of the other embedded files (rs/web/app.js, app.css, uPlot's
 * uPlot.iife.min.js and uPlot.min.css). The files are built into rs (the Makefile
 * runs rs/web/embed.sh into $(BUILD)/gen/rt_web_assets.c), so rs needs no share
 * directory and no network at run time.
 *
 * The page holds no data: it reads /ems-rs/... with the token the user gives it, so
 * it is served without one.
 */
#ifndef RS_RT_WEB_H
#define RS_RT_WEB_H

#include <stddef.h>

#include "httpd.h"

struct rt_web_asset {
	const char *name;  /* base name: "index.html", "uPlot.iife.min.js" */
	const char *ctype;
	const unsigned char *data;
	size_t len;
};

/* The embedded files, ended by an entry with name NULL (generated). */
extern const struct rt_web_asset rt_web_assets[];

/* The asset for a request path ("/" or "/ui/NAME"), or NULL. */
const struct rt_web_asset *rt_web_find(const char *path);

/* Route "/" and "/ui/" on h. 0, or -1 when h has no room. */
int rt_web_register(httpd_t *h);

#endif
