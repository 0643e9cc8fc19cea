/* uptake core: error reports with a tiny formatter (core has no stdio). */
#include <stdarg.h>
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

static void format(struct out *o, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put_char(o, *p);
			continue;
		}
		p++;
		if (*p == 's') {
			const char *s = va_arg(ap, const char *);
			s = s ? s : "(null)";
			put_text(o, s, strlen(s));
		} else if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
			int n = va_arg(ap, int);
			const char *s = va_arg(ap, const char *);
			put_text(o, s ? s : "", n < 0 ? 0 : (size_t)n);
			p += 2;
		} else if (*p == 'd') {
			put_int(o, va_arg(ap, int));
		} else if (*p == 'u') {
			put_uint(o, va_arg(ap, unsigned));
		} else if (p[0] == 'z' && p[1] == 'u') {
			put_uint(o, va_arg(ap, size_t));
			p++;
		} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'd') {
			put_int(o, va_arg(ap, long long));
			p += 2;
		} else if (*p == 'c') {
			put_char(o, (char)va_arg(ap, int));
		} else if (*p == '%') {
			put_char(o, '%');
		} else {
			put_char(o, '?');
			if (!*p)
				break;
		}
	}
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
