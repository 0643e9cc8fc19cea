/* uptake core: error reports with a tiny formatter (core has no stdio). */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <uptake/common.h>

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = c;
}

static void put_mem(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_char(o, s[i]);
}

static void put_uint(struct out *o, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_char(o, tmp[--n]);
}

static void put_int(struct out *o, long long v)
{
	if (v < 0) {
		put_char(o, '-');
		put_uint(o, 0ULL - (unsigned long long)v);
	} else {
		put_uint(o, (unsigned long long)v);
	}
}

/* Printable view of untrusted text: control bytes become '?'. */
static void put_text(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		put_char(o, ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i]);
}

/* A conversion: '%' ['.' (digits | '*')] ['l' | "ll" | 'z'] one of s d u c %.
 * A precision bounds how much of a string is read (it need not end in NUL
 * within it); a negative '*' precision reads nothing. */
struct spec {
	bool has_prec, star;
	size_t prec;
	char len; /* 0, 'l' (long), 'L' (long long) or 'z' (size_t) */
	char conv;
};

#define PREC_MAX ((size_t)1 << 20) /* more than any message holds */

static const char *parse_spec(const char *p, struct spec *s)
{
	memset(s, 0, sizeof *s);
	if (*p == '.') {
		s->has_prec = true;
		p++;
		if (*p == '*') {
			s->star = true;
			p++;
		} else {
			while (*p >= '0' && *p <= '9') {
				if (s->prec < PREC_MAX)
					s->prec = s->prec * 10 + (size_t)(*p - '0');
				p++;
			}
			if (s->prec > PREC_MAX)
				s->prec = PREC_MAX;
		}
	}
	if (p[0] == 'l' && p[1] == 'l') {
		s->len = 'L';
		p += 2;
	} else if (*p == 'l' || *p == 'z') {
		s->len = *p++;
	}
	s->conv = *p;
	return p;
}

/* Output one conversion, taking its arguments; false when it is not one
 * this formatter knows (its arguments cannot be taken then). */
static bool convert(struct out *o, const struct spec *s, va_list *ap)
{
	if (s->conv == 's') {
		size_t n = s->prec;
		const char *str;
		if (s->len != 0)
			return false; /* %ls: wide strings are not read */
		if (s->star) {
			int w = va_arg(*ap, int);
			n = w < 0 ? 0 : (size_t)w;
		}
		str = va_arg(*ap, const char *);
		str = str ? str : "(null)";
		put_text(o, str, s->has_prec ? n : strlen(str));
		return true;
	}
	if (s->has_prec)
		return false;
	if (s->conv == 'd' && s->len != 'z') {
		long long v = s->len == 'L'   ? va_arg(*ap, long long)
			      : s->len == 'l' ? va_arg(*ap, long)
					      : va_arg(*ap, int);
		put_int(o, v);
	} else if (s->conv == 'u') {
		unsigned long long v = s->len == 'L'   ? va_arg(*ap, unsigned long long)
				       : s->len == 'l' ? va_arg(*ap, unsigned long)
				       : s->len == 'z' ? va_arg(*ap, size_t)
						       : va_arg(*ap, unsigned);
		put_uint(o, v);
	} else if (s->conv == 'c' && s->len == 0) {
		put_char(o, (char)va_arg(*ap, int));
	} else if (s->conv == '%' && s->len == 0) {
		put_char(o, '%');
	} else {
		return false;
	}
	return true;
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	va_list args;
	bool lost = false; /* after an unknown conversion no argument is taken */
	va_copy(args, ap);
	for (const char *p = fmt; *p; p++) {
		struct spec s;
		if (*p != '%') {
			put_char(o, *p);
			continue;
		}
		p = parse_spec(p + 1, &s);
		if (lost || !convert(o, &s, &args)) {
			lost = true;
			put_char(o, '?');
		}
		if (!*p)
			break;
	}
	va_end(args);
}

void upt_error_clear(struct upt_error *err)
{
	if (!err)
		return;
	err->code = UPT_OK;
	err->offset = SIZE_MAX;
	err->msg[0] = 0;
}

int upt_error_set(struct upt_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	struct out o;
	if (!err)
		return code;
	o.buf = err->msg;
	o.cap = sizeof err->msg;
	o.len = 0;
	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	err->msg[o.len] = 0;
	err->code = code;
	err->offset = SIZE_MAX;
	return code;
}

void upt_error_prefix(struct upt_error *err, const char *prefix)
{
	char tmp[UPT_ERROR_MSG_MAX];
	struct out o = {tmp, sizeof tmp, 0};
	if (!err || !prefix)
		return;
	put_text(&o, prefix, strlen(prefix));
	put_mem(&o, ": ", 2);
	put_mem(&o, err->msg, strlen(err->msg));
	tmp[o.len] = 0;
	memcpy(err->msg, tmp, o.len + 1);
}

const char *upt_err_name(int code)
{
	static const char *const names[] = {
	    "UPT_OK",
	    "UPT_ERR_ARG",
	    "UPT_ERR_NOMEM",
	    "UPT_ERR_TOO_LARGE",
	    "UPT_ERR_JSON_SYNTAX",
	    "UPT_ERR_JSON_DUPKEY",
	    "UPT_ERR_JSON_UTF8",
	    "UPT_ERR_JSON_DEPTH",
	    "UPT_ERR_JSON_NUMBER",
	    "UPT_ERR_JSON_TRAILING",
	    "UPT_ERR_CANONICAL",
	    "UPT_ERR_FIELD_MISSING",
	    "UPT_ERR_FIELD_TYPE",
	    "UPT_ERR_FIELD_VALUE",
	    "UPT_ERR_ROLE_TYPE",
	    "UPT_ERR_SPEC_VERSION",
	    "UPT_ERR_KEY",
	    "UPT_ERR_SIGNATURE",
	    "UPT_ERR_THRESHOLD",
	    "UPT_ERR_CRYPTO",
	    "UPT_ERR_EXPIRED",
	    "UPT_ERR_ROLLBACK",
	    "UPT_ERR_IO",
	    "UPT_ERR_NOT_FOUND",
	    "UPT_ERR_BAD_SIGNATURE",
	    "UPT_ERR_UNSUPPORTED",
	    "UPT_ERR_DECODE",
	    "UPT_ERR_HASH_MISMATCH",
	    "UPT_ERR_PASSPHRASE",
	    "UPT_ERR_VERSION",
	    "UPT_ERR_DELEGATION",
	    "UPT_ERR_UNKNOWN_ECU",
	    "UPT_ERR_HARDWARE_ID",
	    "UPT_ERR_IMAGE_MISMATCH",
	    "UPT_ERR_RELEASE_COUNTER",
	    "UPT_ERR_STATE",
	};
	if (code > 0 || (size_t)(-(long)code) >= sizeof names / sizeof names[0])
		return "UPT_ERR_UNKNOWN";
	return names[-code];
}
