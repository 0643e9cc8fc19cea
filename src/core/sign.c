/* uptake core: the signing helper, producing
 * {"signatures":[...],"signed":{...}} in canonical JSON. */
#include <string.h>
#include <uptake/encode.h>
#include <uptake/metadata.h>

struct writer {
	uint8_t *out;
	size_t cap;
	size_t len;
};

static void put(struct writer *w, const char *s, size_t n)
{
	if (w->len < w->cap && n)
		memcpy(w->out + w->len, s, n <= w->cap - w->len ? n : w->cap - w->len);
	w->len += n;
}

static void puts_(struct writer *w, const char *s)
{
	put(w, s, strlen(s));
}

static bool keyid_ok(const char *k)
{
	size_t n = k ? strlen(k) : 0;
	if (n == 0 || n > UPT_KEYID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f')))
			return false;
	return true;
}

static const char *method_name(enum upt_sig_scheme scheme)
{
	switch (scheme) {
	case UPT_SCHEME_ED25519:
		return "ed25519";
	case UPT_SCHEME_RSASSA_PSS_SHA256:
		return "rsassa-pss";
	case UPT_SCHEME_ECDSA_SHA2_NISTP256:
		return "ecdsa-sha2-nistp256";
	}
	return NULL;
}

/* Sign and append one {"keyid":..,["method":..,]"sig":..} object. */
static int sign_one(struct writer *w, const struct upt_signer *s, const uint8_t *msg,
		    size_t msg_len, enum upt_dialect dialect, struct upt_arena *scratch,
		    struct upt_error *err)
{
	size_t mark = upt_arena_mark(scratch), sig_len = 0;
	uint8_t *sig = upt_arena_alloc(scratch, UPT_SIG_MAX);
	char *text = upt_arena_alloc(scratch, 2 * UPT_SIG_MAX + 1);
	const char *method = method_name(s->scheme);
	int rc;
	if (!sig || !text)
		return upt_error_set(err, UPT_ERR_NOMEM, "sign: out of scratch memory");
	if (!keyid_ok(s->keyid) || !s->sign || !method)
		return upt_error_set(err, UPT_ERR_ARG, "sign: invalid signer");
	rc = s->sign(s->ctx, msg, msg_len, sig, UPT_SIG_MAX, &sig_len);
	if (rc != UPT_OK || sig_len == 0 || sig_len > UPT_SIG_MAX) {
		upt_arena_rollback(scratch, mark);
		return upt_error_set(err, rc != UPT_OK ? rc : UPT_ERR_CRYPTO,
				     "sign: key %s failed to sign", s->keyid);
	}
	if (dialect == UPT_DIALECT_AKTUALIZR)
		upt_base64_encode(text, sig, sig_len);
	else
		upt_hex_encode(text, sig, sig_len);
	puts_(w, "{\"keyid\":\"");
	puts_(w, s->keyid);
	if (dialect == UPT_DIALECT_AKTUALIZR) {
		puts_(w, "\",\"method\":\"");
		puts_(w, method);
	}
	puts_(w, "\",\"sig\":\"");
	puts_(w, text);
	puts_(w, "\"}");
	upt_arena_rollback(scratch, mark);
	return UPT_OK;
}

/* The signed object as JSON text (canonical but for escaped control
 * characters, so that the file is valid JSON). */
static int write_signed(struct writer *w, const struct upt_json *signed_json, struct upt_error *err)
{
	size_t room = w->len < w->cap ? w->cap - w->len : 0, len = 0;
	int rc = upt_json_write(room ? w->out + w->len : NULL, room, &len, signed_json, err);
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM)
		return rc;
	w->len += len;
	return UPT_OK;
}

int upt_doc_sign(uint8_t *out, size_t cap, size_t *out_len, const struct upt_json *signed_json,
		 const struct upt_signer *signers, size_t n_signers, enum upt_dialect dialect,
		 struct upt_arena *scratch, struct upt_error *err)
{
	struct writer w = {out, out ? cap : 0, 0};
	const uint8_t *canon;
	size_t canon_len, mark;
	int rc;
	if (!signed_json || signed_json->type != UPT_JSON_OBJECT || !scratch || !out_len ||
	    (!signers && n_signers) ||
	    (dialect != UPT_DIALECT_TUF && dialect != UPT_DIALECT_AKTUALIZR))
		return upt_error_set(err, UPT_ERR_ARG, "sign: invalid argument");
	mark = upt_arena_mark(scratch);
	rc = upt_json_canonical_arena(&canon, &canon_len, scratch, signed_json, err);
	if (rc != UPT_OK)
		return rc;
	puts_(&w, "{\"signatures\":[");
	for (size_t i = 0; i < n_signers && rc == UPT_OK; i++) {
		if (i)
			puts_(&w, ",");
		rc = sign_one(&w, &signers[i], canon, canon_len, dialect, scratch, err);
	}
	puts_(&w, "],\"signed\":");
	if (rc == UPT_OK)
		rc = write_signed(&w, signed_json, err);
	puts_(&w, "}");
	upt_arena_rollback(scratch, mark);
	if (rc != UPT_OK)
		return rc;
	*out_len = w.len;
	if (w.len > w.cap)
		return upt_error_set(err, UPT_ERR_NOMEM, "sign: output needs %zu bytes", w.len);
	return UPT_OK;
}
