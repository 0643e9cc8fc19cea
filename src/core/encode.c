/* uptake core: hex, base64 and PEM codecs; constant-time comparison. */
#include <string.h>
#include <uptake/encode.h>

static const char hex_digits[] = "0123456789abcdef";

void upt_hex_encode(char *out, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 15];
	}
	out[2 * len] = 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int upt_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t len)
{
	if (len % 2)
		return UPT_ERR_DECODE;
	if (len / 2 > cap)
		return UPT_ERR_TOO_LARGE;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
		if (hi < 0 || lo < 0)
			return UPT_ERR_DECODE;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = len / 2;
	return UPT_OK;
}

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void upt_base64_encode(char *out, const uint8_t *in, size_t len)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_digits[v >> 18 & 63];
		out[o++] = b64_digits[v >> 12 & 63];
		out[o++] = b64_digits[v >> 6 & 63];
		out[o++] = b64_digits[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64_digits[v >> 18 & 63];
		out[o++] = b64_digits[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_digits[v >> 18 & 63];
		out[o++] = b64_digits[v >> 12 & 63];
		out[o++] = b64_digits[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int upt_base64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t len,
		      bool skip_ws)
{
	uint32_t acc = 0;
	size_t n = 0, o = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int v;
		if (skip_ws && is_ws(c))
			continue;
		if (c == '=') {
			pad++;
			if (pad > 2)
				return UPT_ERR_DECODE;
			n++;
			continue;
		}
		if (pad)
			return UPT_ERR_DECODE; /* data after padding */
		v = b64_value(c);
		if (v < 0)
			return UPT_ERR_DECODE;
		acc = acc << 6 | (uint32_t)v;
		n++;
		if (n % 4 == 0) {
			if (o + 3 > cap)
				return UPT_ERR_TOO_LARGE;
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (n % 4)
		return UPT_ERR_DECODE;
	if (pad) {
		/* the last quantum held 4 - pad digits, shifted like full ones */
		uint32_t bits = acc << (6 * pad);
		size_t keep = 3 - pad;
		if ((pad == 1 && (bits & 0xff)) || (pad == 2 && (bits & 0xffff)))
			return UPT_ERR_DECODE; /* non-canonical trailing bits */
		if (o + keep > cap)
			return UPT_ERR_TOO_LARGE;
		out[o++] = (uint8_t)(bits >> 16);
		if (keep == 2)
			out[o++] = (uint8_t)(bits >> 8);
	}
	*out_len = o;
	return UPT_OK;
}

static size_t skip_space(const char *in, size_t len, size_t i)
{
	while (i < len && is_ws(in[i]))
		i++;
	return i;
}

static bool match_line(const char *in, size_t len, size_t *i, const char *what, const char *label)
{
	size_t wl = strlen(what), ll = strlen(label);
	if (len - *i < wl + ll + 5 || memcmp(in + *i, what, wl) != 0 ||
	    memcmp(in + *i + wl, label, ll) != 0 || memcmp(in + *i + wl + ll, "-----", 5) != 0)
		return false;
	*i += wl + ll + 5;
	return true;
}

int upt_pem_decode(uint8_t *out, size_t cap, size_t *out_len, const char *label, const char *in,
		   size_t len)
{
	size_t i = skip_space(in, len, 0), body, body_end;
	if (!match_line(in, len, &i, "-----BEGIN ", label))
		return UPT_ERR_DECODE;
	body = i;
	while (i < len && in[i] != '-')
		i++;
	body_end = i;
	if (!match_line(in, len, &i, "-----END ", label))
		return UPT_ERR_DECODE;
	if (skip_space(in, len, i) != len)
		return UPT_ERR_DECODE;
	return upt_base64_decode(out, cap, out_len, in + body, body_end - body, true);
}

bool upt_ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	volatile uint8_t diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}
