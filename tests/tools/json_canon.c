/* json_canon: canonical JSON of each input line, for the oracle tests.
 * Reads JSON documents one per line from stdin and writes, per line, the
 * lower-case hex of the canonical bytes, or "ERR <code name>". With a file
 * argument, canonicalizes that whole file to stdout instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/encode.h>
#include <uptake/json.h>

#define MAX_DOC (4u << 20)

static unsigned char arena_mem[64u << 20];

static int canon(const uint8_t *in, size_t len, const uint8_t **out, size_t *out_len)
{
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err;
	int rc;
	upt_arena_init(&a, arena_mem, sizeof arena_mem);
	rc = upt_json_parse(&v, &a, in, len, NULL, &err);
	if (rc == UPT_OK)
		rc = upt_json_canonical_arena(out, out_len, &a, v, &err);
	if (rc != UPT_OK)
		fprintf(stderr, "json_canon: %s: %s\n", upt_err_name(rc), err.msg);
	return rc;
}

static int whole_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[MAX_DOC];
	const uint8_t *out;
	size_t len, out_len;
	if (!f)
		return 2;
	len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (canon(buf, len, &out, &out_len) != UPT_OK)
		return 1;
	fwrite(out, 1, out_len, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static char line[MAX_DOC];
	static char hex[2 * MAX_DOC + 1];
	if (argc == 2)
		return whole_file(argv[1]);
	while (fgets(line, sizeof line, stdin)) {
		size_t len = strlen(line);
		const uint8_t *out;
		size_t out_len;
		int rc;
		if (len && line[len - 1] == '\n')
			len--;
		rc = canon((const uint8_t *)line, len, &out, &out_len);
		if (rc != UPT_OK || out_len > MAX_DOC) {
			printf("ERR %s\n", upt_err_name(rc));
			continue;
		}
		upt_hex_encode(hex, out, out_len);
		printf("%s\n", hex);
	}
	return 0;
}
