/* uptake-agent: dm-verity slots. A target published with `uptake publish
 * --verity` is the filesystem image followed by its dm-verity hash tree
 * (format 1, SHA-256, no superblock), and its signed custom.verity says
 * how to open it:
 *
 *   {"data_block_size":4096,"data_blocks":N,"hash_algorithm":"sha256",
 *    "hash_block_size":4096,"hash_offset":N*4096,"root_hash":HEX64,
 *    "salt":HEX}
 *
 * Before the boot is switched to such a slot the agent rebuilds the hash
 * tree from the data blocks in the slot and checks that it equals the tree
 * written there and that its root is the signed root hash; the boot then
 * opens the slot through dm-verity with these parameters (the boot
 * environment's uptake_verity_a/b, see dist/uptake-boot.cmd). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>
#include <uptake/json.h>

#include "agent.h"

#define DIGEST 32

/* Blocks per level of the tree, leaves (level 0) first; the number of levels. */
static int levels(const struct verity_params *p, int64_t blocks[VERITY_LEVELS_MAX])
{
	int64_t fan = (int64_t)(p->hash_block_size / DIGEST), n = p->data_blocks;
	int l = 0;
	do {
		if (l == VERITY_LEVELS_MAX)
			return -1;
		n = (n + fan - 1) / fan;
		blocks[l++] = n;
	} while (n > 1);
	return l;
}

int64_t verity_tree_size(const struct verity_params *p)
{
	int64_t blocks[VERITY_LEVELS_MAX], total = 0;
	int n = levels(p, blocks);
	for (int l = 0; l < n; l++)
		total += blocks[l];
	return n < 0 ? -1 : total * (int64_t)p->hash_block_size;
}

static bool hex_of(const struct upt_json *v, size_t min, size_t max)
{
	if (!v || v->type != UPT_JSON_STRING || v->len < min || v->len > max || v->len % 2)
		return false;
	return strspn(v->str, "0123456789abcdef") == v->len;
}

static bool block_size(const struct upt_json *v)
{
	return v && v->type == UPT_JSON_INT && v->i >= 512 && v->i <= 65536 && !(v->i & (v->i - 1));
}

int verity_parse(struct verity_params *p, const struct upt_json *custom, int64_t length,
		 struct upt_error *err)
{
	static const char *const fields[] = {
	    "data_block_size", "data_blocks", "hash_algorithm", "hash_block_size", "hash_offset",
	    "root_hash",       "salt"};
	const struct upt_json *v = custom ? upt_json_get(custom, "verity") : NULL;
	const struct upt_json *db, *n, *hb, *off, *root, *salt;
	int64_t tree;
	size_t got = 0;
	memset(p, 0, sizeof *p);
	if (!v)
		return UPT_OK;
	if (v->type != UPT_JSON_OBJECT || v->n != sizeof fields / sizeof fields[0])
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: expected exactly the fields %s, ... salt",
				     fields[0]);
	for (size_t i = 0; i < v->n; i++)
		if (!upt_json_get(v, fields[i]))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE, "custom.verity: no %s",
					     fields[i]);
	db = upt_json_get(v, "data_block_size");
	hb = upt_json_get(v, "hash_block_size");
	n = upt_json_get(v, "data_blocks");
	off = upt_json_get(v, "hash_offset");
	root = upt_json_get(v, "root_hash");
	salt = upt_json_get(v, "salt");
	if (!upt_json_is_str(upt_json_get(v, "hash_algorithm"), "sha256"))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: hash_algorithm: only sha256");
	if (!block_size(db) || !block_size(hb))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: block sizes: a power of two, 512 to 65536");
	if (n->type != UPT_JSON_INT || n->i < 1 || n->i > length / db->i)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: data_blocks: 1 to the image's length");
	if (off->type != UPT_JSON_INT || off->i < n->i * db->i || off->i % hb->i ||
	    off->i >= length)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: hash_offset: past the data, in the image, "
				     "on a hash block");
	if (!hex_of(root, 2 * DIGEST, 2 * DIGEST) || !hex_of(salt, 0, 2 * VERITY_SALT_MAX))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: root_hash (64 hex) or salt (hex, at most "
				     "%d bytes)",
				     VERITY_SALT_MAX);
	p->data_block_size = (size_t)db->i;
	p->hash_block_size = (size_t)hb->i;
	p->data_blocks = n->i;
	p->hash_offset = off->i;
	if (upt_hex_decode(p->root, sizeof p->root, &got, root->str, root->len) != UPT_OK ||
	    upt_hex_decode(p->salt, sizeof p->salt, &p->salt_len, salt->str, salt->len) != UPT_OK)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "custom.verity: bad hex");
	tree = verity_tree_size(p);
	if (tree <= 0 || tree > length - p->hash_offset)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "custom.verity: the hash tree (%lld bytes at %lld) does not "
				     "fit in the image (%lld bytes)",
				     (long long)tree, (long long)p->hash_offset, (long long)length);
	p->present = true;
	return UPT_OK;
}

/* H(salt || block), dm-verity format 1. */
static int hash_block(uint8_t out[DIGEST], const struct verity_params *p, const uint8_t *block,
		      size_t len, EVP_MD_CTX *md)
{
	unsigned n = 0;
	return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		       EVP_DigestUpdate(md, p->salt, p->salt_len) == 1 &&
		       EVP_DigestUpdate(md, block, len) == 1 &&
		       EVP_DigestFinal_ex(md, out, &n) == 1 && n == DIGEST
		   ? 0
		   : -1;
}

static int read_at(int fd, uint8_t *buf, size_t len, int64_t at)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(at + (int64_t)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* The tree as it must be, laid out as on the disk (the top level first),
 * built from the data blocks read from `fd`. */
static int build_tree(uint8_t *tree, const struct verity_params *p, int fd, EVP_MD_CTX *md,
		      uint8_t root[DIGEST], struct upt_error *err)
{
	int64_t blocks[VERITY_LEVELS_MAX], at[VERITY_LEVELS_MAX], o = 0;
	const size_t hb = p->hash_block_size;
	uint8_t *data = malloc(p->data_block_size);
	int n = levels(p, blocks), rc = UPT_OK;
	if (!data)
		return upt_error_set(err, UPT_ERR_NOMEM, "verity: out of memory");
	for (int l = n - 1; l >= 0; l--) {
		at[l] = o;
		o += blocks[l] * (int64_t)hb;
	}
	for (int64_t b = 0; rc == UPT_OK && b < p->data_blocks; b++) {
		if (read_at(fd, data, p->data_block_size, b * (int64_t)p->data_block_size) != 0)
			rc = upt_error_set(err, UPT_ERR_IO, "verity: cannot read data block %lld",
					   (long long)b);
		else if (hash_block(tree + at[0] + b * DIGEST, p, data, p->data_block_size, md))
			rc = upt_error_set(err, UPT_ERR_CRYPTO, "verity: sha256 failed");
	}
	for (int l = 1; rc == UPT_OK && l < n; l++)
		for (int64_t b = 0; rc == UPT_OK && b < blocks[l - 1]; b++)
			if (hash_block(tree + at[l] + b * DIGEST, p,
				       tree + at[l - 1] + b * (int64_t)hb, hb, md))
				rc = upt_error_set(err, UPT_ERR_CRYPTO, "verity: sha256 failed");
	if (rc == UPT_OK && hash_block(root, p, tree + at[n - 1], hb, md))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "verity: sha256 failed");
	free(data);
	return rc;
}

int verity_check(const char *slot, const struct verity_params *p, struct upt_error *err)
{
	int64_t size = verity_tree_size(p);
	uint8_t *want = NULL, *have = NULL, root[DIGEST];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd = open(slot, O_RDONLY | O_CLOEXEC), rc = UPT_OK;
	if (fd < 0 || !md || size <= 0 || size > VERITY_TREE_MAX) {
		rc = fd < 0 ? upt_error_set(err, UPT_ERR_IO, "%s: %s", slot, strerror(errno))
			    : upt_error_set(err, UPT_ERR_TOO_LARGE, "verity: hash tree too large");
		goto done;
	}
	want = calloc(1, (size_t)size);
	have = malloc((size_t)size);
	if (!want || !have) {
		rc = upt_error_set(err, UPT_ERR_NOMEM, "verity: out of memory");
		goto done;
	}
	rc = build_tree(want, p, fd, md, root, err);
	if (rc == UPT_OK && read_at(fd, have, (size_t)size, p->hash_offset) != 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot read the hash tree", slot);
	if (rc == UPT_OK && CRYPTO_memcmp(root, p->root, DIGEST) != 0)
		rc = upt_error_set(err, UPT_ERR_HASH_MISMATCH,
				   "verity: the slot's data does not have the signed root hash");
	if (rc == UPT_OK && memcmp(want, have, (size_t)size) != 0)
		rc = upt_error_set(err, UPT_ERR_HASH_MISMATCH,
				   "verity: the hash tree in the slot is not the data's");
done:
	free(want);
	free(have);
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	return rc;
}

int verity_env_value(char *out, size_t cap, const struct verity_params *p)
{
	char root[2 * DIGEST + 1], salt[2 * VERITY_SALT_MAX + 1];
	int n;
	upt_hex_encode(root, p->root, DIGEST);
	upt_hex_encode(salt, p->salt, p->salt_len);
	n = snprintf(out, cap, "%s,%s,%zu,%zu,%lld,%lld", root, salt, p->data_block_size,
		     p->hash_block_size, (long long)p->data_blocks, (long long)p->hash_offset);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}
