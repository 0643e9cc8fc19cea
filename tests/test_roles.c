/* Table-driven tests of the role parsers: every malformed field yields a
 * specific error code and a message naming the document and the field. */
#include <uptake/crypto_openssl.h>
#include <uptake/metadata.h>

#include "harness.h"

static unsigned char arena_mem[1 << 20];
static struct upt_arena arena;

#define PUB "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
#define KEY "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"" PUB "\"}}"
#define HDR(t)           \
	"\"_type\":\"" t \
	"\",\"spec_version\":\"1.0.31\",\"version\":3,\"expires\":\"2030-01-01T00:00:00Z\""
#define ROLE1 "{\"keyids\":[\"aa\"],\"threshold\":1}"
#define ROLES                                                                     \
	"\"roles\":{\"root\":" ROLE1 ",\"targets\":" ROLE1 ",\"snapshot\":" ROLE1 \
	",\"timestamp\":" ROLE1 "}"
#define KEYS       "\"keys\":{\"aa\":" KEY "}"
#define SHA256     "\"sha256\":\"" PUB "\""
#define TGT(extra) "{\"length\":10,\"hashes\":{" SHA256 "}" extra "}"

struct rcase {
	enum upt_role role;
	const char *signed_text;
	int code;
	const char *msg; /* substring expected in the message */
};

static const struct rcase cases[] = {
    /* valid documents */
    {UPT_ROLE_ROOT, "{" HDR("root") "," KEYS "," ROLES "}", UPT_OK, NULL},
    {UPT_ROLE_ROOT, "{" HDR("root") ",\"x-unknown\":[1]," KEYS "," ROLES "}", UPT_OK, NULL},
    {UPT_ROLE_TARGETS, "{" HDR("targets") ",\"targets\":{}}", UPT_OK, NULL},
    {UPT_ROLE_TARGETS, "{" HDR("targets") ",\"targets\":{\"a.bin\":" TGT("") "}}", UPT_OK, NULL},
    {UPT_ROLE_SNAPSHOT, "{" HDR("snapshot") ",\"meta\":{\"targets.json\":{\"version\":1}}}", UPT_OK,
     NULL},
    {UPT_ROLE_TIMESTAMP,
     "{" HDR("timestamp") ",\"meta\":{\"snapshot.json\":{\"version\":1,\"length\":5,"
			  "\"hashes\":{" SHA256 "}}}}",
     UPT_OK, NULL},
    /* aktualizr dialect: no spec_version, capitalised _type */
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"Targets\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_OK, NULL},
    /* header */
    {UPT_ROLE_ROOT, "{" HDR("targets") ",\"targets\":{}}", UPT_ERR_ROLE_TYPE, "expected root"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_FIELD_MISSING, "spec_version: missing"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"2.0.0\",\"version\":1,"
     "\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_SPEC_VERSION, "spec_version: unsupported major"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"1.x\",\"version\":1,"
     "\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_SPEC_VERSION, "not a version"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"1.0.0\",\"version\":0,"
     "\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_FIELD_VALUE, "version: must be at least 1"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"1.0.0\",\"version\":\"1\","
     "\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_FIELD_TYPE, "version: must be an integer"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"1.0.0\",\"version\":1.5,"
     "\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_CANONICAL, "not an integer"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"1.0.0\",\"version\":1,"
     "\"expires\":\"2030-01-01 00:00:00\",\"targets\":{}}",
     UPT_ERR_FIELD_VALUE, "expires"},
    {UPT_ROLE_TARGETS,
     "{\"_type\":\"targets\",\"spec_version\":\"1.0.0\",\"version\":1,"
     "\"expires\":\"2030-02-30T00:00:00Z\",\"targets\":{}}",
     UPT_ERR_FIELD_VALUE, "expires"},
    {UPT_ROLE_TARGETS, "{" HDR("targets") "}", UPT_ERR_FIELD_MISSING, "targets: missing"},
    /* root */
    {UPT_ROLE_ROOT, "{" HDR("root") "," ROLES "}", UPT_ERR_FIELD_MISSING, "keys: missing"},
    {UPT_ROLE_ROOT, "{" HDR("root") "," KEYS "}", UPT_ERR_FIELD_MISSING, "roles: missing"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") "," KEYS ",\"roles\":{\"root\":" ROLE1 ",\"targets\":" ROLE1
		     ",\"snapshot\":" ROLE1 "}}",
     UPT_ERR_FIELD_MISSING, "roles.timestamp: missing"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") "," KEYS ",\"roles\":{\"root\":" ROLE1 ",\"targets\":" ROLE1
		     ",\"snapshot\":" ROLE1 ",\"timestamp\":" ROLE1 ",\"mirror\":" ROLE1 "}}",
     UPT_ERR_FIELD_VALUE, "roles.mirror: unknown role"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") "," KEYS ",\"roles\":{\"root\":{\"keyids\":[\"aa\"],\"threshold\":0},"
		     "\"targets\":" ROLE1 ",\"snapshot\":" ROLE1 ",\"timestamp\":" ROLE1 "}}",
     UPT_ERR_FIELD_VALUE, "roles.root.threshold"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") "," KEYS ",\"roles\":{\"root\":{\"keyids\":[\"aa\"],\"threshold\":2000},"
		     "\"targets\":" ROLE1 ",\"snapshot\":" ROLE1 ",\"timestamp\":" ROLE1 "}}",
     UPT_ERR_FIELD_VALUE, "larger than the key limit"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") "," KEYS ",\"roles\":{\"root\":{\"keyids\":[\"aa\",\"aa\"],"
		     "\"threshold\":1},\"targets\":" ROLE1 ",\"snapshot\":" ROLE1
		     ",\"timestamp\":" ROLE1 "}}",
     UPT_ERR_FIELD_VALUE, "listed twice"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") "," KEYS ",\"roles\":{\"root\":{\"keyids\":[\"bb\"],\"threshold\":1},"
		     "\"targets\":" ROLE1 ",\"snapshot\":" ROLE1 ",\"timestamp\":" ROLE1 "}}",
     UPT_ERR_KEY, "not listed in keys"},
    {UPT_ROLE_ROOT, "{" HDR("root") ",\"consistent_snapshot\":1," KEYS "," ROLES "}",
     UPT_ERR_FIELD_TYPE, "consistent_snapshot: must be a boolean"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") ",\"keys\":{\"aa\":{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\","
		     "\"keyval\":{\"public\":\"abcd\"}}}," ROLES "}",
     UPT_ERR_KEY, "aa"},
    {UPT_ROLE_ROOT,
     "{" HDR("root") ",\"keys\":{\"aa\":{\"keytype\":\"dsa\",\"scheme\":\"dsa\","
		     "\"keyval\":{\"public\":\"abcd\"}}}," ROLES "}",
     UPT_ERR_KEY, "aa"},
    /* targets */
    {UPT_ROLE_TARGETS, "{" HDR("targets") ",\"targets\":{\"a\":{\"length\":1}}}",
     UPT_ERR_FIELD_MISSING, "targets.a.hashes: missing"},
    {UPT_ROLE_TARGETS, "{" HDR("targets") ",\"targets\":{\"a\":{\"length\":1,\"hashes\":{}}}}",
     UPT_ERR_FIELD_VALUE, "targets.a.hashes: lists no hash"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":{\"length\":1,\"hashes\":{\"sha256\":\"abcd\"}}}}",
     UPT_ERR_FIELD_VALUE, "targets.a.hashes.sha256"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":{\"length\":1,\"hashes\":{\"md5\":\"abcd\"}}}}",
     UPT_ERR_UNSUPPORTED, "targets.a.hashes.md5: unsupported"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":{\"length\":-1,\"hashes\":{" SHA256 "}}}}",
     UPT_ERR_FIELD_VALUE, "targets.a.length: must not be negative"},
    {UPT_ROLE_TARGETS, "{" HDR("targets") ",\"targets\":{\"a\":[]}}", UPT_ERR_FIELD_TYPE,
     "targets.a: must be an object"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":" TGT(",\"custom\":{\"hardwareIds\":\"x\"}") "}}",
     UPT_ERR_FIELD_TYPE, "targets.a.custom.hardwareIds: must be an array"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":" TGT(",\"custom\":{\"hardwareIds\":[1]}") "}}",
     UPT_ERR_FIELD_TYPE, "targets.a.custom.hardwareIds[0]: must be a string"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":" TGT(",\"custom\":{\"releaseCounter\":-2}") "}}",
     UPT_ERR_FIELD_VALUE, "custom.releaseCounter"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":" TGT(
	 ",\"custom\":{\"ecuIdentifiers\":{\"ecu1\":{}}}") "}}",
     UPT_ERR_FIELD_MISSING, "custom.ecuIdentifiers.ecu1.hardwareId: missing"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{\"a\":" TGT(",\"custom\":{\"uri\":5}") "}}",
     UPT_ERR_FIELD_TYPE, "custom.uri: must be a string"},
    /* delegations */
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":[{\"name\":\"a\","
			"\"keyids\":[\"aa\"],\"threshold\":1,\"terminating\":true,\"paths\":[\"x/"
			"*\"]}]}}",
     UPT_OK, NULL},
    {UPT_ROLE_TARGETS,
     "{" HDR(
	 "targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":[{\"name\":\"a\","
		    "\"keyids\":[\"aa\"],\"threshold\":1,\"terminating\":true,\"paths\":[\"x\"],"
		    "\"path_hash_prefixes\":[\"ab\"]}]}}",
     UPT_ERR_FIELD_VALUE, "delegations.roles[0]: needs exactly one"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":[{\"name\":\"a\","
			"\"keyids\":[\"aa\"],\"threshold\":1,\"paths\":[\"x\"]}]}}",
     UPT_ERR_FIELD_MISSING, "delegations.roles[0].terminating: missing"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":[{\"name\":\"root\","
			"\"keyids\":[\"aa\"],\"threshold\":1,\"terminating\":false,\"paths\":["
			"\"x\"]}]}}",
     UPT_ERR_FIELD_VALUE, "top-level role name"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":["
			"{\"name\":\"a\",\"keyids\":[\"aa\"],\"threshold\":1,\"terminating\":false,"
			"\"paths\":[]},"
			"{\"name\":\"a\",\"keyids\":[\"aa\"],\"threshold\":1,\"terminating\":false,"
			"\"paths\":[]}"
			"]}}",
     UPT_ERR_FIELD_VALUE, "delegations.roles[1].name: listed twice"},
    {UPT_ROLE_TARGETS,
     "{" HDR("targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":[{\"name\":\"a\","
			"\"keyids\":[\"aa\"],\"threshold\":1,\"terminating\":false,"
			"\"path_hash_prefixes\":[\"XYZ\"]}]}}",
     UPT_ERR_FIELD_VALUE, "path_hash_prefixes"},
    {UPT_ROLE_TARGETS,
     "{" HDR(
	 "targets") ",\"targets\":{},\"delegations\":{" KEYS ",\"roles\":[{\"name\":\"a\","
		    "\"keyids\":[\"zz\"],\"threshold\":1,\"terminating\":false,\"paths\":[]}]}}",
     UPT_ERR_KEY, "not listed in keys"},
    /* snapshot and timestamp */
    {UPT_ROLE_SNAPSHOT, "{" HDR("snapshot") ",\"meta\":{\"targets.json\":{}}}",
     UPT_ERR_FIELD_MISSING, "meta.targets.json.version: missing"},
    {UPT_ROLE_SNAPSHOT,
     "{" HDR("snapshot") ",\"meta\":{\"targets.json\":{\"version\":1,\"length\":0}}}",
     UPT_ERR_FIELD_VALUE, "meta.targets.json.length"},
    {UPT_ROLE_TIMESTAMP, "{" HDR("timestamp") ",\"meta\":{}}", UPT_ERR_FIELD_VALUE,
     "exactly snapshot.json"},
    {UPT_ROLE_TIMESTAMP,
     "{" HDR("timestamp") ",\"meta\":{\"snapshot.json\":{\"version\":1},"
			  "\"targets.json\":{\"version\":1}}}",
     UPT_ERR_FIELD_VALUE, "exactly snapshot.json"},
    {UPT_ROLE_TIMESTAMP, "{" HDR("timestamp") ",\"meta\":{\"snapshot.json\":{\"version\":-1}}}",
     UPT_ERR_FIELD_VALUE, "meta.snapshot.json.version"},
};

static int parse_case(const struct rcase *c, struct upt_error *err)
{
	static char text[8192];
	const struct upt_crypto *crypto = upt_openssl_crypto();
	struct upt_doc doc;
	struct upt_root r;
	struct upt_targets t;
	struct upt_snapshot s;
	struct upt_timestamp ts;
	int n = snprintf(text, sizeof text, "{\"signatures\":[],\"signed\":%s}", c->signed_text);
	int rc;
	upt_arena_init(&arena, arena_mem, sizeof arena_mem);
	rc = upt_doc_parse(&doc, &arena, (const uint8_t *)text, (size_t)n, 0, "test.json", err);
	if (rc != UPT_OK)
		return rc;
	switch (c->role) {
	case UPT_ROLE_ROOT:
		return upt_root_parse(&r, &arena, &doc, crypto, err);
	case UPT_ROLE_TARGETS:
		return upt_targets_parse(&t, &arena, &doc, crypto, err);
	case UPT_ROLE_SNAPSHOT:
		return upt_snapshot_parse(&s, &arena, &doc, err);
	case UPT_ROLE_TIMESTAMP:
		return upt_timestamp_parse(&ts, &arena, &doc, err);
	}
	return UPT_ERR_ARG;
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct upt_error err;
		int rc;
		upt_error_clear(&err);
		rc = parse_case(&cases[i], &err);
		if (rc != cases[i].code ||
		    (cases[i].msg && (!strstr(err.msg, cases[i].msg) ||
				      strncmp(err.msg, "test.json: ", 11) != 0))) {
			fprintf(stderr, "case %zu: got %s \"%s\", want %s \"%s\"\n", i,
				upt_err_name(rc), err.msg, upt_err_name(cases[i].code),
				cases[i].msg ? cases[i].msg : "");
			CHECK(0);
		}
	}
}

/* The parsed values of a full targets document. */
static void test_targets_values(void)
{
	static const char text[] = "{\"signatures\":[],\"signed\":{" HDR(
	    "targets") ",\"targets\":{"
		       "\"fw-1.0.bin\":{\"length\":1024,\"hashes\":{" SHA256
		       ",\"sha512\":\"" PUB PUB "\"},"
		       "\"custom\":{\"hardwareIds\":[\"board-a\",\"board-b\"],\"releaseCounter\":7,"
		       "\"uri\":null,\"ecuIdentifiers\":{\"ecu-2\":{\"hardwareId\":\"board-b\"},"
		       "\"ecu-1\":{\"hardwareId\":\"board-a\"}},\"version\":\"1.0\"}},"
		       "\"app.tar\":{\"length\":0,\"hashes\":{" SHA256 "}}}}}";
	struct upt_doc doc;
	struct upt_targets t;
	struct upt_error err;
	const struct upt_target *fw;
	upt_arena_init(&arena, arena_mem, sizeof arena_mem);
	CHECK_EQ_INT(
	    upt_doc_parse(&doc, &arena, (const uint8_t *)text, sizeof text - 1, 0, "t", &err),
	    UPT_OK);
	CHECK_EQ_INT(upt_targets_parse(&t, &arena, &doc, NULL, &err), UPT_OK);
	CHECK_EQ_INT(t.n_targets, 2);
	CHECK(!t.has_delegations);
	fw = upt_targets_find(&t, "fw-1.0.bin");
	CHECK(fw != NULL);
	CHECK(upt_targets_find(&t, "missing") == NULL);
	if (!fw)
		return;
	CHECK_EQ_INT(fw->length, 1024);
	CHECK(fw->hashes.has_sha256 && fw->hashes.has_sha512);
	CHECK_EQ_INT(fw->hashes.sha256[0], 0x3d);
	CHECK_EQ_INT(fw->n_hardware_ids, 2);
	CHECK(strcmp(fw->hardware_ids[1], "board-b") == 0);
	CHECK(fw->has_release_counter);
	CHECK_EQ_INT(fw->release_counter, 7);
	CHECK(fw->uri == NULL);
	CHECK_EQ_INT(fw->n_ecus, 2);
	CHECK(strcmp(fw->ecus[0].ecu_serial, "ecu-1") == 0);
	CHECK(strcmp(fw->ecus[0].hardware_id, "board-a") == 0);
	CHECK(upt_targets_find(&t, "app.tar")->length == 0);
	CHECK(!upt_targets_find(&t, "app.tar")->has_release_counter);
}

static void test_envelope(void)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"signed\":{\"_type\":\"root\"}}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"root\"},\"extra\":1}",
	    "{\"signatures\":{},\"signed\":{\"_type\":\"root\"}}",
	    "{\"signatures\":[],\"signed\":[]}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"mirrors\"}}",
	    "{\"signatures\":[],\"signed\":{}}",
	    "{\"signatures\":[{\"keyid\":\"aa\"}],\"signed\":{\"_type\":\"root\"}}",
	    "{\"signatures\":[{\"keyid\":1,\"sig\":\"aa\"}],\"signed\":{\"_type\":\"root\"}}",
	    ("{\"signatures\":[{\"keyid\":\"aa\",\"sig\":\"aa\",\"x\":1}],\"signed\":{\"_type\":"
	     "\"root\"}}"),
	    "{\"signatures\":[\"aa\"],\"signed\":{\"_type\":\"root\"}}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"root\",\"f\":1.5}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct upt_doc doc;
		struct upt_error err;
		int rc;
		upt_arena_init(&arena, arena_mem, sizeof arena_mem);
		rc = upt_doc_parse(&doc, &arena, (const uint8_t *)bad[i], strlen(bad[i]), 0,
				   "e.json", &err);
		if (rc == UPT_OK || strncmp(err.msg, "e.json", 6) != 0) {
			fprintf(stderr, "envelope %zu: %s \"%s\"\n", i, upt_err_name(rc), err.msg);
			CHECK(0);
		}
	}
}

/* A signature value that does not decode is kept but never counts. */
static void test_malformed_signature_value(void)
{
	static const char text[] = "{\"signatures\":[{\"keyid\":\"aa\",\"sig\":\"xyz\"},"
				   "{\"keyid\":\"bb\",\"method\":\"ed25519\",\"sig\":\"@@@@\"}],"
				   "\"signed\":{\"_type\":\"root\"}}";
	struct upt_doc doc;
	struct upt_error err;
	upt_arena_init(&arena, arena_mem, sizeof arena_mem);
	CHECK_EQ_INT(
	    upt_doc_parse(&doc, &arena, (const uint8_t *)text, sizeof text - 1, 0, "m", &err),
	    UPT_OK);
	CHECK_EQ_INT(doc.n_sigs, 2);
	CHECK(doc.sigs[0].sig == NULL);
	CHECK(doc.sigs[1].sig == NULL);
}

static void test_time(void)
{
	static const struct {
		const char *s;
		int64_t t;
	} good[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2000-02-29T12:00:00Z", 951825600},
	    {"2030-01-01T00:00:00Z", 1893456000},
	    {"1969-12-31T23:59:59Z", -1},
	    {"9999-12-31T23:59:59Z", 253402300799LL},
	};
	static const char *const bad[] = {
	    "2001-02-29T00:00:00Z",
	    "2030-13-01T00:00:00Z",
	    "2030-01-01T24:00:00Z",
	    "2030-01-01T00:60:00Z",
	    "2030-01-01T00:00:60Z",
	    "2030-01-01T00:00:00",
	    "2030-01-01T00:00:00.5Z",
	    "2030-1-01T00:00:00Z",
	    "+030-01-01T00:00:00Z",
	    "2030-01-01t00:00:00Z",
	    "",
	};
	char buf[32];
	int64_t t;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		CHECK_EQ_INT(upt_time_parse(&t, good[i].s, strlen(good[i].s)), UPT_OK);
		CHECK_EQ_INT(t, good[i].t);
		CHECK_EQ_INT(upt_time_format(buf, sizeof buf, good[i].t), UPT_OK);
		CHECK(strcmp(buf, good[i].s) == 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(upt_time_parse(&t, bad[i], strlen(bad[i])) != UPT_OK);
	CHECK(upt_time_format(buf, 10, 0) != UPT_OK);
	CHECK(upt_time_format(buf, sizeof buf, 253402300800LL) != UPT_OK);
	/* every second of a leap day and around year boundaries round-trips */
	for (int64_t s = 951782400 - 86400; s < 951782400 + 2 * 86400; s += 3599) {
		CHECK_EQ_INT(upt_time_format(buf, sizeof buf, s), UPT_OK);
		CHECK_EQ_INT(upt_time_parse(&t, buf, strlen(buf)), UPT_OK);
		CHECK_EQ_INT(t, s);
	}
}

int main(void)
{
	RUN(test_table);
	RUN(test_targets_values);
	RUN(test_envelope);
	RUN(test_malformed_signature_value);
	RUN(test_time);
	TEST_MAIN_END();
}
