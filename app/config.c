/*
 * Loading the configuration (config.h): every key of app/config_keys.c's table parsed
 * from the settings, each problem reported with where the setting came from, then the
 * checks that span keys. Also what the console may show of the settings.
 */
#include "config_priv.h"

#include <stdio.h>
#include <string.h>

static void set_defaults(struct qedbox_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->net.dhcp = true;
	cfg->net_ok = true;
	cfg->access_ok = true;
	cfg->cluster_size = CONFIG_DEFAULT_CLUSTER_SIZE;
	strcpy(cfg->iqn_prefix, CONFIG_DEFAULT_IQN_PREFIX);
	cfg->iscsi_port = CONFIG_DEFAULT_ISCSI_PORT;
	cfg->profile_port = CONFIG_DEFAULT_PROFILE_PORT;
	cfg->http_port = CONFIG_DEFAULT_HTTP_PORT;
}

struct reporter {
	config_report_fn report;
	void *ctx;
	unsigned problems;
};

static void say(struct reporter *r, const char *source, const char *what, const char *consequence)
{
	char line[256];
	snprintf(line, sizeof(line), "%s: %s (%s)", source, what, consequence);
	r->report(r->ctx, line);
	r->problems++;
}

static const char *source_of(const struct config_text *text, const char *key)
{
	const struct config_setting *s = config_text_find(text, key);
	return s ? s->source : CONFIG_SOURCE_CMDLINE;
}

static bool same_secret(const struct config_chap *a, const struct config_chap *b)
{
	return a->secret[0] && !strcmp(a->secret, b->secret);
}

/* RFC 7143 12.1.3: the secret an initiator proves itself with and the one the target
 * answers with must differ, or a reflected challenge would authenticate either side. */
static void check_mutual_secrets(struct qedbox_config *cfg, const struct config_text *text,
				 struct reporter *r)
{
	bool same = same_secret(&cfg->chap, &cfg->mutual_chap);
	for (unsigned i = 0; i < cfg->n_acl; i++) {
		const struct config_acl *a = &cfg->acl[i];
		same |= same_secret(a->chap.secret[0] ? &a->chap : &cfg->chap,
				    a->mutual.secret[0] ? &a->mutual : &cfg->mutual_chap);
	}
	if (!same)
		return;
	cfg->access_ok = false;
	say(r, source_of(text, cfg->n_acl ? "acl" : "mutual_chap"),
	    "a mutual CHAP secret is the same secret as the initiator's (RFC 7143 12.1.3)",
	    "no volume is served");
}

/* Checks that span keys, once each key is read. */
static void check_combinations(struct qedbox_config *cfg, const struct config_text *text,
			       struct reporter *r)
{
	char why[128];
	if (net_config_parse(config_text_lookup(text, "ip"), config_text_lookup(text, "gw"),
			     &cfg->net, why, sizeof(why)) < 0) {
		cfg->net_ok = false;
		say(r, source_of(text, "ip"), why, "networking off");
	}
	check_mutual_secrets(cfg, text, r);
	if (cfg->http_allow_refused)
		cfg->http_port = 0; /* rather than show the pages to everyone */
	bool any_chap = cfg->chap.secret[0];
	for (unsigned i = 0; i < cfg->n_acl; i++)
		any_chap |= cfg->acl[i].chap.secret[0] != '\0';
	if (cfg->mutual_chap.secret[0] && !any_chap) {
		memset(&cfg->mutual_chap, 0, sizeof(cfg->mutual_chap));
		say(r, source_of(text, "mutual_chap"), "mutual_chap: needs chap as well", "ignored");
	}
}

unsigned config_load(struct qedbox_config *cfg, const struct config_text *text,
		     config_report_fn report, void *ctx)
{
	char why[128], what[192];
	struct problem p = { why, sizeof(why) };
	struct reporter r = { report, ctx, 0 };
	set_defaults(cfg);
	for (unsigned i = 0; i < text->count; i++) {
		const struct config_setting *s = &text->settings[i];
		if (config_key_named(s->key))
			continue;
		snprintf(what, sizeof(what), "unknown key '%s'", s->key);
		say(&r, s->source, what, "ignored");
	}
	for (size_t i = 0; i < config_key_count; i++) {
		const struct config_setting *s = config_text_find(text, config_keys[i].name);
		if (!s || !config_keys[i].parse || config_keys[i].parse(cfg, s->value, &p) == 0)
			continue;
		snprintf(what, sizeof(what), "%s: %s", config_keys[i].name, why);
		if (config_keys[i].access)
			cfg->access_ok = false;
		say(&r, s->source, what,
		    config_keys[i].access    ? "no volume is served"
		    : config_keys[i].refused ? config_keys[i].refused
					     : "ignored");
	}
	check_combinations(cfg, text, &r);
	return r.problems;
}

bool config_formats(const struct qedbox_config *cfg, const char *serial)
{
	for (unsigned i = 0; i < cfg->n_format; i++)
		if (strcmp(cfg->format[i], serial) == 0)
			return true;
	return false;
}

void config_print_keys(void (*print)(void *ctx, const char *line), void *ctx)
{
	char line[256];
	for (size_t i = 0; i < config_key_count; i++) {
		snprintf(line, sizeof(line), "  %-12s %s", config_keys[i].name, config_keys[i].help);
		print(ctx, line);
	}
}

void config_describe(const struct config_text *text, const char *source, char *buf, size_t len)
{
	char masked[CONFIG_MAX_TEXT];
	buf[0] = '\0';
	for (unsigned i = 0; i < text->count; i++) {
		const struct config_setting *s = &text->settings[i];
		const struct config_key *k = config_key_named(s->key);
		if (strcmp(s->source, source) != 0)
			continue;
		const char *value = s->value;
		if (k && k->mask) {
			k->mask(value, masked, sizeof(masked));
			value = masked;
		}
		if (buf[0])
			config_append(buf, len, " ", 1);
		config_append(buf, len, s->key, strlen(s->key));
		if (*value || strchr(s->key, '=')) {
			config_append(buf, len, "=", 1);
			config_append(buf, len, value, strlen(value));
		}
	}
}
