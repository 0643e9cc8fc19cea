/* uptake core: strict JSON (RFC 8259) parser into an arena.
 *
 * Recursive descent with a depth bound; strings are decoded and validated
 * as UTF-8; objects keep their members sorted by key (a bottom-up merge
 * sort, O(n log n)) so duplicates are found and look-ups are binary
 * searches. */
#include <string.h>
#include <uptake/json.h>

struct parser {
	const uint8_t *in;
	size_t len;
	size_t pos;
	size_t depth;
	struct upt_json_limits lim;
	struct upt_arena *a;
	struct upt_error *err;
};

static int fail(struct parser *p, int code, size_t at, const char *what)
{
	upt_error_set(p->err, code, "JSON: %s at byte %zu", what, at);
	if (p->err)
		p->err->offset = at;
	return code;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		uint8_t c = p->in[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static struct upt_json *new_node(struct parser *p, enum upt_json_type type)
{
	struct upt_json *v = upt_arena_zalloc(p->a, sizeof *v);
	if (v) {
		v->type = type;
		v->offset = p->pos;
	}
	return v;
}

static int parse_value(struct parser *p, struct upt_json **out);

/* ---- literals and numbers ------------------------------------------------ */

static int parse_literal(struct parser *p, struct upt_json **out, const char *word,
			 enum upt_json_type type)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->in + p->pos, word, n) != 0)
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "invalid literal");
	if (!(*out = new_node(p, type)))
		return fail(p, UPT_ERR_NOMEM, p->pos, "out of memory");
	p->pos += n;
	return UPT_OK;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static size_t scan_digits(struct parser *p)
{
	size_t start = p->pos;
	while (p->pos < p->len && is_digit(p->in[p->pos]))
		p->pos++;
	return p->pos - start;
}

/* Accumulate a decimal integer; false on int64 overflow. */
static bool to_int64(const uint8_t *s, size_t n, bool neg, int64_t *out)
{
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return true;
}

static int parse_number(struct parser *p, struct upt_json **out)
{
	size_t start = p->pos, int_start, int_len;
	bool neg = false, is_int = true;
	if (p->in[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	int_start = p->pos;
	int_len = scan_digits(p);
	if (int_len == 0 || (int_len > 1 && p->in[int_start] == '0'))
		return fail(p, UPT_ERR_JSON_SYNTAX, start, "invalid number");
	if (p->pos < p->len && p->in[p->pos] == '.') {
		p->pos++;
		is_int = false;
		if (scan_digits(p) == 0)
			return fail(p, UPT_ERR_JSON_SYNTAX, start, "invalid number");
	}
	if (p->pos < p->len && (p->in[p->pos] == 'e' || p->in[p->pos] == 'E')) {
		p->pos++;
		is_int = false;
		if (p->pos < p->len && (p->in[p->pos] == '+' || p->in[p->pos] == '-'))
			p->pos++;
		if (scan_digits(p) == 0)
			return fail(p, UPT_ERR_JSON_SYNTAX, start, "invalid number");
	}
	if (!(*out = new_node(p, is_int ? UPT_JSON_INT : UPT_JSON_NUMBER)))
		return fail(p, UPT_ERR_NOMEM, start, "out of memory");
	(*out)->offset = start;
	(*out)->str = (const char *)p->in + start;
	(*out)->len = p->pos - start;
	if (is_int && !to_int64(p->in + int_start, int_len, neg, &(*out)->i))
		return fail(p, UPT_ERR_JSON_NUMBER, start, "integer outside int64");
	return UPT_OK;
}

/* ---- strings -------------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s[0..n), or 0 if invalid (overlong,
 * surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
			       (s[3] & 0xc0) == 0x80
			   ? 4
			   : 0;
	}
	return 0;
}

static int hex4(struct parser *p, size_t at, uint32_t *out)
{
	uint32_t v = 0;
	if (p->len - at < 4)
		return fail(p, UPT_ERR_JSON_SYNTAX, at, "truncated \\u escape");
	for (size_t i = 0; i < 4; i++) {
		uint8_t c = p->in[at + i];
		uint32_t d;
		if (is_digit(c))
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return fail(p, UPT_ERR_JSON_SYNTAX, at + i, "invalid \\u escape");
		v = v << 4 | d;
	}
	*out = v;
	return UPT_OK;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \uXXXX escape at p->pos (after the backslash and 'u'), with its
 * surrogate pair partner if needed. */
static int unicode_escape(struct parser *p, uint8_t *o, size_t *olen)
{
	size_t at = p->pos - 2;
	uint32_t cp, lo;
	int rc = hex4(p, p->pos, &cp);
	if (rc != UPT_OK)
		return rc;
	p->pos += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, UPT_ERR_JSON_UTF8, at, "lone low surrogate escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - p->pos < 6 || p->in[p->pos] != '\\' || p->in[p->pos + 1] != 'u')
			return fail(p, UPT_ERR_JSON_UTF8, at, "lone high surrogate escape");
		if ((rc = hex4(p, p->pos + 2, &lo)) != UPT_OK)
			return rc;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(p, UPT_ERR_JSON_UTF8, at, "unpaired surrogate escape");
		p->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*olen += put_utf8(o + *olen, cp);
	return UPT_OK;
}

static int escape(struct parser *p, uint8_t *o, size_t *olen)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint8_t c;
	if (p->pos >= p->len)
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "unterminated string");
	c = p->in[p->pos++];
	if (c == 'u')
		return unicode_escape(p, o, olen);
	hit = c ? memchr(from, c, sizeof from - 1) : NULL;
	if (!hit)
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos - 2, "invalid escape");
	o[(*olen)++] = (uint8_t)to[hit - from];
	return UPT_OK;
}

/* Find the closing quote to size the output (decoded <= raw length). */
static int string_extent(struct parser *p, size_t *raw_end)
{
	size_t i = p->pos;
	while (i < p->len && p->in[i] != '"') {
		if (p->in[i] == '\\')
			i++;
		i++;
	}
	if (i >= p->len)
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos - 1, "unterminated string");
	*raw_end = i;
	return UPT_OK;
}

static int string_body(struct parser *p, uint8_t *o, size_t *olen, size_t raw_end)
{
	while (p->pos < raw_end) {
		uint8_t c = p->in[p->pos];
		size_t n;
		int rc;
		if (c == '\\') {
			p->pos++;
			if ((rc = escape(p, o, olen)) != UPT_OK)
				return rc;
			continue;
		}
		if (c < 0x20)
			return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "control character in string");
		n = utf8_seq(p->in + p->pos, raw_end - p->pos);
		if (n == 0)
			return fail(p, UPT_ERR_JSON_UTF8, p->pos, "invalid UTF-8");
		memcpy(o + *olen, p->in + p->pos, n);
		*olen += n;
		p->pos += n;
	}
	return UPT_OK;
}

/* Parse a string at p->pos (on the opening quote) into arena memory. */
static int parse_string_raw(struct parser *p, const char **str, size_t *len)
{
	size_t start = p->pos, raw_end, olen = 0;
	uint8_t *o;
	int rc;
	p->pos++;
	if ((rc = string_extent(p, &raw_end)) != UPT_OK)
		return rc;
	if (raw_end - p->pos > p->lim.max_string)
		return fail(p, UPT_ERR_TOO_LARGE, start, "string too long");
	if (!(o = upt_arena_alloc(p->a, raw_end - p->pos + 1)))
		return fail(p, UPT_ERR_NOMEM, start, "out of memory");
	if ((rc = string_body(p, o, &olen, raw_end)) != UPT_OK)
		return rc;
	o[olen] = 0;
	p->pos = raw_end + 1;
	*str = (const char *)o;
	*len = olen;
	return UPT_OK;
}

static int parse_string(struct parser *p, struct upt_json **out)
{
	struct upt_json *v = new_node(p, UPT_JSON_STRING);
	if (!v)
		return fail(p, UPT_ERR_NOMEM, p->pos, "out of memory");
	*out = v;
	return parse_string_raw(p, &v->str, &v->len);
}

/* ---- containers ----------------------------------------------------------- */

static int key_cmp(const struct upt_json *a, const struct upt_json *b)
{
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = n ? memcmp(a->key, b->key, n) : 0;
	if (c)
		return c;
	return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* Stable bottom-up merge sort of items[0..n) by key, using tmp[0..n). */
static void sort_members(struct upt_json **items, struct upt_json **tmp, size_t n)
{
	struct upt_json **src = items, **dst = tmp, **swap;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				dst[k++] = key_cmp(src[j], src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != items)
		memcpy(items, src, n * sizeof *items);
}

/* Move the parse-time sibling list of v into a contiguous items array. */
static int finish_container(struct parser *p, struct upt_json *v, struct upt_json *first)
{
	struct upt_json **tmp;
	size_t i = 0;
	if (!(v->items = upt_arena_alloc(p->a, (v->n ? v->n : 1) * sizeof *v->items)))
		return fail(p, UPT_ERR_NOMEM, v->offset, "out of memory");
	for (struct upt_json *c = first; c; c = c->next)
		v->items[i++] = c;
	if (v->type != UPT_JSON_OBJECT || v->n < 2)
		return UPT_OK;
	{
		size_t mark = upt_arena_mark(p->a);
		if (!(tmp = upt_arena_alloc(p->a, v->n * sizeof *tmp)))
			return fail(p, UPT_ERR_NOMEM, v->offset, "out of memory");
		sort_members(v->items, tmp, v->n);
		upt_arena_rollback(p->a, mark);
	}
	for (i = 1; i < v->n; i++)
		if (key_cmp(v->items[i - 1], v->items[i]) == 0)
			return fail(p, UPT_ERR_JSON_DUPKEY, v->items[i]->offset, "duplicate key");
	return UPT_OK;
}

/* One member "key": value of an object; the value carries its key. */
static int parse_member(struct parser *p, struct upt_json **out)
{
	const char *key;
	size_t key_len, key_at;
	int rc;
	skip_ws(p);
	key_at = p->pos;
	if (p->pos >= p->len || p->in[p->pos] != '"')
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "expected a string key");
	if ((rc = parse_string_raw(p, &key, &key_len)) != UPT_OK)
		return rc;
	skip_ws(p);
	if (p->pos >= p->len || p->in[p->pos] != ':')
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "expected ':'");
	p->pos++;
	if ((rc = parse_value(p, out)) != UPT_OK)
		return rc;
	(*out)->key = key;
	(*out)->key_len = key_len;
	(*out)->offset = key_at;
	return UPT_OK;
}

static int parse_container(struct parser *p, struct upt_json **out, enum upt_json_type type)
{
	const uint8_t close = type == UPT_JSON_OBJECT ? '}' : ']';
	struct upt_json *v = new_node(p, type), *first = NULL, *last = NULL, *item;
	int rc;
	if (!v)
		return fail(p, UPT_ERR_NOMEM, p->pos, "out of memory");
	if (++p->depth > p->lim.max_depth)
		return fail(p, UPT_ERR_JSON_DEPTH, p->pos, "nesting too deep");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->in[p->pos] == close) {
		p->pos++;
	} else {
		for (;;) {
			rc = type == UPT_JSON_OBJECT ? parse_member(p, &item)
						     : parse_value(p, &item);
			if (rc != UPT_OK)
				return rc;
			if (++v->n > p->lim.max_items)
				return fail(p, UPT_ERR_TOO_LARGE, item->offset, "too many items");
			if (last)
				last->next = item;
			else
				first = item;
			last = item;
			skip_ws(p);
			if (p->pos < p->len && p->in[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->in[p->pos] == close) {
				p->pos++;
				break;
			}
			return fail(p, UPT_ERR_JSON_SYNTAX, p->pos,
				    type == UPT_JSON_OBJECT ? "expected ',' or '}'"
							    : "expected ',' or ']'");
		}
	}
	p->depth--;
	*out = v;
	return finish_container(p, v, first);
}

static int parse_value(struct parser *p, struct upt_json **out)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "unexpected end of input");
	switch (p->in[p->pos]) {
	case '{':
		return parse_container(p, out, UPT_JSON_OBJECT);
	case '[':
		return parse_container(p, out, UPT_JSON_ARRAY);
	case '"':
		return parse_string(p, out);
	case 't':
		return parse_literal(p, out, "true", UPT_JSON_TRUE);
	case 'f':
		return parse_literal(p, out, "false", UPT_JSON_FALSE);
	case 'n':
		return parse_literal(p, out, "null", UPT_JSON_NULL);
	default:
		if (p->in[p->pos] == '-' || is_digit(p->in[p->pos]))
			return parse_number(p, out);
		return fail(p, UPT_ERR_JSON_SYNTAX, p->pos, "unexpected character");
	}
}

static void set_limits(struct upt_json_limits *l, const struct upt_json_limits *given)
{
	static const struct upt_json_limits zero;
	if (!given)
		given = &zero;
	l->max_input = given->max_input ? given->max_input : UPT_JSON_DEFAULT_MAX_INPUT;
	l->max_depth = given->max_depth ? given->max_depth : UPT_JSON_DEFAULT_MAX_DEPTH;
	l->max_string = given->max_string ? given->max_string : UPT_JSON_DEFAULT_MAX_STRING;
	l->max_items = given->max_items ? given->max_items : UPT_JSON_DEFAULT_MAX_ITEMS;
}

int upt_json_parse(struct upt_json **out, struct upt_arena *a, const uint8_t *in, size_t len,
		   const struct upt_json_limits *limits, struct upt_error *err)
{
	struct parser p = {in, len, 0, 0, {0, 0, 0, 0}, a, err};
	size_t mark;
	int rc;
	if (!out || !a || (!in && len))
		return upt_error_set(err, UPT_ERR_ARG, "JSON: missing argument");
	*out = NULL;
	set_limits(&p.lim, limits);
	if (len > p.lim.max_input)
		return fail(&p, UPT_ERR_TOO_LARGE, 0, "input too large");
	mark = upt_arena_mark(a);
	rc = parse_value(&p, out);
	if (rc == UPT_OK) {
		skip_ws(&p);
		if (p.pos != len)
			rc = fail(&p, UPT_ERR_JSON_TRAILING, p.pos, "trailing bytes");
	}
	if (rc != UPT_OK) {
		*out = NULL;
		upt_arena_rollback(a, mark);
	}
	return rc;
}

const struct upt_json *upt_json_get(const struct upt_json *obj, const char *key)
{
	struct upt_json probe;
	size_t lo = 0, hi;
	if (!obj || obj->type != UPT_JSON_OBJECT || !key)
		return NULL;
	probe.key = key;
	probe.key_len = strlen(key);
	hi = obj->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(obj->items[mid], &probe);
		if (c == 0)
			return obj->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool upt_json_is_str(const struct upt_json *v, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return v && s && v->type == UPT_JSON_STRING && v->len == n && memcmp(v->str, s, n) == 0;
}
