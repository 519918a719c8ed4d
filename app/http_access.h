/*
 * Who may use the web server (portable, host-tested): the pages need an address inside
 * http_allow= (none listed: anyone); the actions need that and the admin token, given as
 * "Authorization: Bearer TOKEN", compared in constant time. The parsing of an action's
 * body ({"onto": "SERIAL"}) lives here too: what a client sends to an action.
 */
#ifndef QEDBOX_HTTP_ACCESS_H
#define QEDBOX_HTTP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Whether peer (a.b.c.d as a << 24 | ...) may read the pages. */
bool http_peer_allowed(const struct qedbox_config *cfg, uint32_t peer);

enum http_token_verdict {
	HTTP_TOKEN_OK,
	HTTP_TOKEN_NONE_CONFIGURED, /* 403: no admin_token= */
	HTTP_TOKEN_MISSING,	    /* 401: no Bearer credentials */
	HTTP_TOKEN_WRONG,	    /* 403 */
};

/* authorization: the header's value, "" when absent. The time taken does not depend on
 * how much of the token matched. */
enum http_token_verdict http_check_token(const struct qedbox_config *cfg,
					 const char *authorization);

/* Takes the string member key of the JSON object body into out[cap]. 0, or -EINVAL when
 * body is not one flat object of string members, or key is missing or does not fit. */
int http_body_string(const char *body, const char *key, char *out, size_t cap);

#endif
