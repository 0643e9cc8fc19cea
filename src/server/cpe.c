/* uptake-server: CPE 2.3 names and their matching (see cpe.h). */
#include "cpe.h"

#include <string.h>

#include "versions.h"

static const char *const attr_names[SRV_CPE_ATTRS] = {
    "part",     "vendor",     "product",   "version",   "update", "edition",
    "language", "sw_edition", "target_sw", "target_hw", "other"};

const char *srv_cpe_attr_name(size_t i)
{
	return i < SRV_CPE_ATTRS ? attr_names[i] : "?";
}

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* One attribute of a formatted string, raw[0..n) as written. */
static const char *parse_value(struct srv_cpe_attr *x, const char *raw, size_t n)
{
	size_t i = 0, k = 0;
	memset(x, 0, sizeof *x);
	if (n == 0)
		return "empty (ANY is \"*\")";
	if (n == 1 && raw[0] == '*') {
		x->kind = SRV_CPE_ANY;
		return NULL;
	}
	if (n == 1 && raw[0] == '-') {
		x->kind = SRV_CPE_NA;
		return NULL;
	}
	x->kind = SRV_CPE_VALUE;
	if (raw[0] == '*')
		x->pre_star = true, i = 1;
	else
		while (i < n && raw[i] == '?')
			x->pre_q++, i++;
	while (i < n) {
		char c = raw[i];
		if (c == '\\') {
			if (i + 1 == n)
				return "ends with an escape";
			c = raw[i + 1];
			if (alnum(c) || c == '_' || (unsigned char)c < 0x21 ||
			    (unsigned char)c > 0x7e)
				return "escapes a character that is not punctuation";
			i += 2;
		} else if (c == '*' || c == '?') {
			size_t j = i;
			while (c == '?' && j < n && raw[j] == '?')
				j++;
			if (c == '*' && i + 1 == n)
				x->post_star = true;
			else if (c == '?' && j == n)
				x->post_q = (unsigned)(j - i);
			else
				return "an unescaped wildcard inside a value";
			i = n;
			continue;
		} else if (alnum(c) || c == '_' || c == '-' || c == '.') {
			i++;
		} else {
			return "an unescaped special character";
		}
		if (k + 1 >= sizeof x->v)
			return "a value longer than 255 characters";
		x->v[k++] = lower(c);
	}
	x->v[k] = '\0';
	if (!k && x->pre_star && x->post_star)
		return "\"**\" is not a value";
	return NULL;
}

static const char *parse_fs(struct srv_cpe *c, const char *s, const char **attr)
{
	const char *p = s + 8;
	for (size_t i = 0; i < SRV_CPE_ATTRS; i++) {
		const char *start = p, *why;
		while (*p && *p != ':') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		*attr = attr_names[i];
		if (i + 1 < SRV_CPE_ATTRS && *p != ':') {
			*attr = attr_names[i + 1]; /* the first one missing */
			return "fewer than 11 attributes";
		}
		if (i + 1 == SRV_CPE_ATTRS && *p)
			return "more than 11 attributes";
		if ((why = parse_value(&c->a[i], start, (size_t)(p - start))) != NULL)
			return why;
		if (*p)
			p++;
	}
	return NULL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* A URI component (percent-encoded) as a formatted-string value. */
static const char *uri_value(struct srv_cpe_attr *x, const char *raw, size_t n)
{
	char fs[2 * SRV_CPE_VALUE_MAX + 2];
	size_t k = 0;
	if (n == 0) {
		memset(x, 0, sizeof *x);
		x->kind = SRV_CPE_ANY;
		return NULL;
	}
	if (n == 1 && raw[0] == '-')
		return parse_value(x, raw, 1);
	for (size_t i = 0; i < n; i++) {
		char c = raw[i];
		if (k + 3 >= sizeof fs)
			return "a value longer than 255 characters";
		if (c == '%') {
			int h = i + 2 < n ? hexval(raw[i + 1]) : -1,
			    l = h >= 0 ? hexval(raw[i + 2]) : -1;
			if (h < 0 || l < 0)
				return "a bad percent-encoding";
			c = (char)(h * 16 + l);
			i += 2;
			if (c == 1 || c == 2) { /* %01 '?' and %02 '*': wildcards */
				fs[k++] = c == 1 ? '?' : '*';
				continue;
			}
			if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
				return "a percent-encoded byte that is not printable ASCII";
			if (!alnum(c) && c != '_')
				fs[k++] = '\\';
			fs[k++] = c;
		} else if (alnum(c) || c == '_' || c == '-' || c == '.') {
			fs[k++] = c;
		} else {
			return "a character a CPE URI does not allow unencoded";
		}
	}
	return parse_value(x, fs, k);
}

static const char *parse_uri(struct srv_cpe *c, const char *s, const char **attr)
{
	const char *p = s + 5;
	memset(c, 0, sizeof *c); /* all ANY */
	for (size_t i = 0; i <= SRV_CPE_LANGUAGE && *p; i++) {
		size_t n = strcspn(p, ":");
		const char *why;
		*attr = attr_names[i];
		if (i == SRV_CPE_EDITION && n && p[0] == '~') {
			/* packed: ~edition~sw_edition~target_sw~target_hw~other */
			static const size_t at[] = {SRV_CPE_EDITION, SRV_CPE_SW_EDITION,
						    SRV_CPE_TARGET_SW, SRV_CPE_TARGET_HW,
						    SRV_CPE_OTHER};
			const char *q = p + 1, *end = p + n;
			for (size_t j = 0; j < 5; j++) {
				const char *t = memchr(q, '~', (size_t)(end - q));
				const char *e = t ? t : end;
				if ((j < 4) != (t != NULL))
					return "a packed edition without five fields";
				*attr = attr_names[at[j]];
				if ((why = uri_value(&c->a[at[j]], q, (size_t)(e - q))) != NULL)
					return why;
				q = e + 1;
			}
		} else if ((why = uri_value(&c->a[i], p, n)) != NULL) {
			return why;
		}
		p += n;
		if (*p == ':') {
			p++;
			if (i == SRV_CPE_LANGUAGE)
				return "more than 7 components";
		}
	}
	*attr = NULL;
	return NULL;
}

const char *srv_cpe_parse(struct srv_cpe *c, const char *s, const char **attr)
{
	const char *why;
	const struct srv_cpe_attr *part;
	*attr = NULL;
	if (!s || strlen(s) > SRV_CPE_MAX)
		return "not a string of at most 2048 bytes";
	if (strncmp(s, "cpe:2.3:", 8) == 0)
		why = parse_fs(c, s, attr);
	else if (strncmp(s, "cpe:/", 5) == 0)
		why = parse_uri(c, s, attr);
	else
		return "neither a CPE 2.3 formatted string (cpe:2.3:...) nor a CPE URI (cpe:/...)";
	if (why)
		return why;
	part = &c->a[SRV_CPE_PART];
	if (part->kind == SRV_CPE_NA ||
	    (part->kind == SRV_CPE_VALUE &&
	     (srv_cpe_wild(part) || strlen(part->v) != 1 || !strchr("aoh", part->v[0])))) {
		*attr = attr_names[SRV_CPE_PART];
		return "not a, o, h or *";
	}
	return NULL;
}

bool srv_cpe_wild(const struct srv_cpe_attr *x)
{
	return x->pre_star || x->post_star || x->pre_q || x->post_q;
}

/* Whether the source value (with its wildcards) covers the target's. */
bool srv_cpe_value_match(const struct srv_cpe_attr *s, const char *t)
{
	size_t tl = strlen(t), bl = strlen(s->v);
	for (size_t p = s->pre_star ? 0 : s->pre_q; p + bl <= tl; p++) {
		size_t rest = tl - p - bl;
		if (memcmp(t + p, s->v, bl) == 0 && (s->post_star || rest == s->post_q))
			return true;
		if (!s->pre_star)
			break;
	}
	return false;
}

static bool attr_match(const struct srv_cpe_attr *s, const struct srv_cpe_attr *t)
{
	if (s->kind == SRV_CPE_ANY || t->kind == SRV_CPE_ANY)
		return true;
	if (s->kind == SRV_CPE_NA || t->kind == SRV_CPE_NA)
		return s->kind == t->kind;
	if (srv_cpe_wild(t)) /* a target with wildcards: undefined, no match */
		return false;
	return srv_cpe_value_match(s, t->v);
}

bool srv_cpe_match(const struct srv_cpe *source, const struct srv_cpe *target)
{
	for (size_t i = 0; i < SRV_CPE_ATTRS; i++)
		if (i != SRV_CPE_VERSION && !attr_match(&source->a[i], &target->a[i]))
			return false;
	return true;
}

static int vcmp(const char *a, const char *b)
{
	if (srv_version_valid(SRV_VS_SEMVER, a) && srv_version_valid(SRV_VS_SEMVER, b))
		return srv_version_cmp(SRV_VS_SEMVER, a, b);
	return srv_version_cmp(SRV_VS_GENERIC, a, b);
}

bool srv_cpe_version_in(const char *v, const struct srv_cpe_range *r)
{
	int c;
	if (!srv_version_valid(SRV_VS_GENERIC, v))
		return false;
	if (r->start && *r->start) {
		if (!srv_version_valid(SRV_VS_GENERIC, r->start))
			return false;
		c = vcmp(v, r->start);
		if (c < 0 || (c == 0 && r->start_excl))
			return false;
	}
	if (r->end && *r->end) {
		if (!srv_version_valid(SRV_VS_GENERIC, r->end))
			return false;
		c = vcmp(v, r->end);
		if (c > 0 || (c == 0 && r->end_excl))
			return false;
	}
	return true;
}
