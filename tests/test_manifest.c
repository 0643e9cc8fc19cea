/* Tests for ECU version reports on their own (upt_ecu_report_parse), as a
 * secondary hands them to its primary: shape, serial, bounds, and the
 * signature by the ECU's key over the report as it was signed; and a
 * vehicle manifest's installation reports (aktualizr's one, uptake's
 * further ones). */
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/json.h>
#include <uptake/key.h>
#include <uptake/manifest.h>

#include "harness.h"

#define ARENA ((size_t)1 << 20)

static const char good_signed[] =
    "{\"attacks_detected\":\"\",\"ecu_serial\":\"motor-1\",\"installed_image\":{"
    "\"fileinfo\":{\"hashes\":{\"sha256\":"
    "\"4242424242424242424242424242424242424242424242424242424242424242\"},\"length\":1024},"
    "\"filepath\":\"motor-1.0\"},\"report_counter\":\"7\"}";

static struct upt_privkey *key;
static uint8_t mem[ARENA];

/* `signed_part` signed by the test key (upt_malloc'd). */
static char *signed_doc(const char *signed_part)
{
	char *doc = NULL;
	size_t len = 0;
	struct upt_error err = {0};
	if (upt_privkey_sign_document(&doc, &len, signed_part, &key, 1, UPT_DIALECT_TUF, &err) !=
	    UPT_OK)
		fprintf(stderr, "sign: %s\n", err.msg);
	return doc;
}

static int parse(struct upt_ecu_report *r, struct upt_arena *a, const char *doc, size_t max,
		 const char *serial, struct upt_error *err)
{
	upt_arena_init(a, mem, sizeof mem);
	return upt_ecu_report_parse(r, a, (const uint8_t *)doc, strlen(doc), max, serial, err);
}

/* The registered key, as a primary holds it. */
static int registered(struct upt_key *k, struct upt_arena *a, struct upt_privkey *priv)
{
	char *pub = NULL;
	size_t pl = 0;
	struct upt_json *v = NULL;
	int rc = upt_privkey_public_json(&pub, &pl, priv, UPT_DIALECT_TUF, NULL);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, a, (const uint8_t *)pub, pl, NULL, NULL);
	if (rc == UPT_OK)
		rc = upt_key_parse(k, a, "ecu", v, upt_openssl_crypto(), NULL);
	upt_free(pub);
	return rc;
}

static void test_good_report(void)
{
	struct upt_ecu_report r;
	struct upt_arena a;
	struct upt_error err = {0};
	struct upt_key k;
	char *doc = signed_doc(good_signed);
	CHECK(doc != NULL);
	CHECK_EQ_INT(parse(&r, &a, doc, 0, "motor-1", &err), UPT_OK);
	CHECK(strcmp(r.ecu_serial, "motor-1") == 0);
	CHECK(strcmp(r.filepath, "motor-1.0") == 0);
	CHECK_EQ_INT(r.length, 1024);
	CHECK(r.hashes.has_sha256 && r.hashes.sha256[0] == 0x42);
	CHECK(r.has_report_counter && r.report_counter == 7);
	CHECK(r.doc.json != NULL); /* the tree a primary puts into its manifest */
	CHECK_EQ_INT(registered(&k, &a, key), UPT_OK);
	CHECK_EQ_INT(upt_doc_signed_by(&r.doc, &k, upt_openssl_crypto(), &err), UPT_OK);
	upt_free(doc);
}

static void test_other_key(void)
{
	struct upt_ecu_report r;
	struct upt_arena a;
	struct upt_error err = {0};
	struct upt_key k;
	struct upt_privkey *other = NULL;
	char *doc = signed_doc(good_signed);
	CHECK_EQ_INT(upt_privkey_generate(&other, UPT_KEY_ED25519, &err), UPT_OK);
	CHECK_EQ_INT(parse(&r, &a, doc, 0, "motor-1", &err), UPT_OK);
	CHECK_EQ_INT(registered(&k, &a, other), UPT_OK);
	CHECK_EQ_INT(upt_doc_signed_by(&r.doc, &k, upt_openssl_crypto(), &err), UPT_ERR_THRESHOLD);
	upt_privkey_free(other);
	upt_free(doc);
}

static void test_tampered(void)
{
	struct upt_ecu_report r;
	struct upt_arena a;
	struct upt_error err = {0};
	struct upt_key k;
	char *doc = signed_doc(good_signed), *p;
	/* the signed length changed after signing */
	CHECK(doc && (p = strstr(doc, "\"length\":1024")) != NULL);
	if (!doc || !p)
		return;
	p[10] = '9';
	CHECK_EQ_INT(parse(&r, &a, doc, 0, "motor-1", &err), UPT_OK);
	CHECK_EQ_INT(registered(&k, &a, key), UPT_OK);
	CHECK_EQ_INT(upt_doc_signed_by(&r.doc, &k, upt_openssl_crypto(), &err), UPT_ERR_THRESHOLD);
	upt_free(doc);
}

static void test_refused(void)
{
	struct upt_ecu_report r;
	struct upt_arena a;
	struct upt_error err = {0};
	char *doc = signed_doc(good_signed);
	char *no_image = signed_doc("{\"ecu_serial\":\"motor-1\",\"report_counter\":1}");
	char *bad_counter = signed_doc(
	    "{\"ecu_serial\":\"motor-1\",\"installed_image\":{\"fileinfo\":{\"hashes\":{"
	    "\"sha256\":\"4242424242424242424242424242424242424242424242424242424242424242\"},"
	    "\"length\":1},\"filepath\":\"x\"},\"report_counter\":\"07\"}");
	/* another ECU's report */
	CHECK_EQ_INT(parse(&r, &a, doc, 0, "motor-2", &err), UPT_ERR_FIELD_VALUE);
	CHECK(strstr(err.msg, "ecu_serial") != NULL);
	CHECK(r.ecu_serial == NULL); /* nothing left of a refused report */
	/* bounded before it is parsed */
	CHECK_EQ_INT(parse(&r, &a, doc, 100, "motor-1", &err), UPT_ERR_TOO_LARGE);
	CHECK_EQ_INT(parse(&r, &a, no_image, 0, "motor-1", &err), UPT_ERR_FIELD_MISSING);
	CHECK(strstr(err.msg, "installed_image") != NULL);
	CHECK_EQ_INT(parse(&r, &a, bad_counter, 0, "motor-1", &err), UPT_ERR_FIELD_VALUE);
	CHECK(strstr(err.msg, "report_counter") != NULL);
	CHECK_EQ_INT(parse(&r, &a, "{\"signed\":", 0, "motor-1", &err), UPT_ERR_JSON_SYNTAX);
	CHECK(strstr(err.msg, "version report") != NULL);
	CHECK_EQ_INT(parse(&r, &a, good_signed, 0, "motor-1", &err) != UPT_OK, 1); /* unsigned */
	upt_arena_init(&a, mem, sizeof mem);
	CHECK_EQ_INT(upt_ecu_report_parse(&r, &a, NULL, 0, 0, "motor-1", &err), UPT_ERR_ARG);
	upt_free(doc);
	upt_free(no_image);
	upt_free(bad_counter);
}

/* An installation report for one ECU under a correlation id. */
#define IR(CID, ECU)                                                                     \
	"{\"content_type\":\"" UPT_INSTALLATION_REPORT_TYPE "\",\"report\":{"            \
	"\"correlation_id\":\"" CID "\",\"items\":[{\"ecu\":\"" ECU "\",\"result\":{"    \
	"\"code\":\"OK\",\"description\":\"d\",\"success\":true}}],\"raw_report\":\"\"," \
	"\"result\":{\"code\":\"OK\",\"description\":\"d\",\"success\":true}}}"
#define MANIFEST(MORE)                                                     \
	"{\"signatures\":[],\"signed\":{\"ecu_version_manifests\":{}" MORE \
	",\"primary_ecu_serial\":\"P\"}}"

static int manifest(struct upt_manifest *m, const char *doc, struct upt_error *err)
{
	struct upt_arena a;
	upt_arena_init(&a, mem, sizeof mem);
	return upt_manifest_parse(m, &a, (const uint8_t *)doc, strlen(doc), 0, err);
}

static void test_installation_reports(void)
{
	struct upt_manifest m;
	struct upt_error err = {0};
	char *many = malloc(4096);
	size_t used;
	/* aktualizr's single report */
	CHECK_EQ_INT(manifest(&m, MANIFEST(",\"installation_report\":" IR("c1", "P")), &err),
		     UPT_OK);
	CHECK(m.has_installation_report && m.n_more_installations == 0);
	/* further ones beside it, each with its ECU and correlation id */
	CHECK_EQ_INT(manifest(&m,
			      MANIFEST(",\"installation_report\":" IR(
				  "c1", "P") ",\"installation_"
					     "reports\":[" IR("c2", "S1") "," IR("c3", "S2") "]"),
			      &err),
		     UPT_OK);
	CHECK_EQ_INT(m.n_more_installations, 2);
	CHECK(strcmp(m.more_installations[1].correlation_id, "c3") == 0);
	CHECK(strcmp(m.more_installations[1].items[0].ecu, "S2") == 0);
	/* only beside installation_report */
	CHECK_EQ_INT(manifest(&m, MANIFEST(",\"installation_reports\":[" IR("c2", "S1") "]"), &err),
		     UPT_ERR_FIELD_MISSING);
	CHECK(strstr(err.msg, "only beside installation_report") != NULL);
	/* one ECU's result twice */
	CHECK_EQ_INT(manifest(&m,
			      MANIFEST(",\"installation_report\":" IR(
				  "c1", "P") ",\"installation_"
					     "reports\":[" IR("c2", "P") "]"),
			      &err),
		     UPT_ERR_FIELD_VALUE);
	CHECK(strstr(err.msg, "ECU P named by two reports") != NULL);
	/* empty, not objects, not strict */
	CHECK_EQ_INT(manifest(&m,
			      MANIFEST(",\"installation_report\":" IR("c1", "P") ",\"installation_"
										 "reports\":[]"),
			      &err),
		     UPT_ERR_FIELD_VALUE);
	CHECK_EQ_INT(manifest(&m,
			      MANIFEST(",\"installation_report\":" IR("c1", "P") ",\"installation_"
										 "reports\":[7]"),
			      &err),
		     UPT_ERR_FIELD_TYPE);
	CHECK(strstr(err.msg, "installation_reports[0]") != NULL);
	CHECK_EQ_INT(manifest(&m,
			      MANIFEST(",\"installation_report\":" IR(
				  "c1", "P") ",\"installation_"
					     "reports\":[{\"content_type\":\"x\"}]"),
			      &err),
		     UPT_ERR_UNSUPPORTED);
	CHECK(strstr(err.msg, "installation_reports[0]: content_type") != NULL);
	/* bounded before the reports are parsed */
	CHECK(many != NULL);
	if (many) {
		used =
		    (size_t)snprintf(many, 4096, "%s",
				     "{\"signatures\":[],\"signed\":{\"ecu_version_manifests\":{},"
				     "\"installation_report\":" IR("c1", "P") ",\"installation_"
									      "reports\":[");
		for (int i = 0; i <= UPT_MANIFEST_MAX_ECUS; i++)
			used += (size_t)snprintf(many + used, 4096 - used, "%s{}", i ? "," : "");
		snprintf(many + used, 4096 - used, "%s", "],\"primary_ecu_serial\":\"P\"}}");
		CHECK_EQ_INT(manifest(&m, many, &err), UPT_ERR_TOO_LARGE);
	}
	free(many);
}

int main(void)
{
	struct upt_error err = {0};
	if (upt_privkey_generate(&key, UPT_KEY_ED25519, &err) != UPT_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	RUN(test_good_report);
	RUN(test_other_key);
	RUN(test_tampered);
	RUN(test_refused);
	RUN(test_installation_reports);
	upt_privkey_free(key);
	TEST_MAIN_END();
}
