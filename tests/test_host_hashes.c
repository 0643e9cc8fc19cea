/* uptake's host layer: a file is checked against exactly the hashes asked
 * for (the agent checks sha256 while it downloads and sha512 on the
 * read-back of the slot): each one asked for is computed and compared,
 * a wrong one is refused, a file longer or shorter than the length is
 * refused, a device's prefix is read up to the length only. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/host/host.h"
#include "harness.h"

static char path[600];

static void digests(const uint8_t *data, size_t len, struct upt_hashes *h)
{
	unsigned n = 0;
	memset(h, 0, sizeof *h);
	h->has_sha256 = EVP_Digest(data, len, h->sha256, &n, EVP_sha256(), NULL) == 1;
	h->has_sha512 = EVP_Digest(data, len, h->sha512, &n, EVP_sha512(), NULL) == 1;
}

static void test_subsets(void)
{
	static const uint8_t image[] = "an image of a few bytes, then its end";
	size_t len = sizeof image - 1;
	struct upt_hashes all, only256, only512, bad512, none = {0};
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ_INT((int)fwrite(image, 1, len, f), (int)len);
	fclose(f);
	digests(image, len, &all);
	only256 = all;
	only256.has_sha512 = false;
	only512 = all;
	only512.has_sha256 = false;
	bad512 = all;
	bad512.sha512[7] ^= 1;
	CHECK(host_file_matches(path, (int64_t)len, &all));
	CHECK(host_file_matches(path, (int64_t)len, &only256));
	CHECK(host_file_matches(path, (int64_t)len, &only512));
	/* the read-back of a slot: sha512 alone, and it is compared */
	CHECK(!host_file_matches(path, (int64_t)len, &bad512));
	bad512.has_sha256 = false;
	CHECK(!host_file_matches(path, (int64_t)len, &bad512));
	/* a sha256 that does not match is refused with or without sha512 */
	only256.sha256[0] ^= 1;
	CHECK(!host_file_matches(path, (int64_t)len, &only256));
	/* nothing to compare is no match */
	CHECK(!host_file_matches(path, (int64_t)len, &none));
	/* a file longer than the trusted length, or shorter */
	CHECK(!host_file_matches(path, (int64_t)len - 1, &all));
	CHECK(!host_file_matches(path, (int64_t)len + 1, &all));
	/* a device holds the image at its start: the prefix is what counts */
	digests(image, len - 4, &all);
	all.has_sha256 = false;
	CHECK(host_prefix_matches(path, (int64_t)len - 4, &all));
	CHECK(!host_file_matches(path, (int64_t)len - 4, &all));
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/host-hashes-%d", t && *t ? t : "/tmp", (int)getpid());
	RUN(test_subsets);
	unlink(path);
	TEST_MAIN_END();
}
