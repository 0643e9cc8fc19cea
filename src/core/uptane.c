/* uptake: Uptane full and partial verification (Uptane Standard 2.x,
 * "Full verification" and "Partial verification"). */
#include <string.h>
#include <uptake/encode.h>
#include <uptake/uptane.h>

static bool lists(const char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

static bool same_image(const struct upt_target *t, int64_t len, const struct upt_hashes *h)
{
	bool any = false;
	if (t->length != len)
		return false;
	if (t->hashes.has_sha256 && h->has_sha256) {
		if (!upt_ct_equal(t->hashes.sha256, h->sha256, UPT_SHA256_LEN))
			return false;
		any = true;
	}
	if (t->hashes.has_sha512 && h->has_sha512) {
		if (!upt_ct_equal(t->hashes.sha512, h->sha512, UPT_SHA512_LEN))
			return false;
		any = true;
	}
	return any;
}

/* The checks of the Director's entry `t` for the ECU `ecu`, named in
 * t's ecuIdentifiers with `hwid`. */
static int check_director_entry(const struct upt_repo *d, const struct upt_target *t,
				const struct upt_ecu *ecu, const char *hwid, struct upt_update *u,
				struct upt_error *err)
{
	if (strcmp(hwid, ecu->hardware_id) != 0)
		return upt_error_set(err, UPT_ERR_HARDWARE_ID,
				     "%s targets.json: target %s: ECU %s has hardware id %s, the "
				     "Director says %s",
				     d->name, t->name, ecu->serial, ecu->hardware_id, hwid);
	if (t->n_hardware_ids && !lists(t->hardware_ids, t->n_hardware_ids, ecu->hardware_id))
		return upt_error_set(err, UPT_ERR_HARDWARE_ID,
				     "%s targets.json: target %s is not for hardware %s", d->name,
				     t->name, ecu->hardware_id);
	u->release_counter = t->has_release_counter ? t->release_counter : -1;
	if (t->has_release_counter && ecu->has_installed_release_counter &&
	    t->release_counter < ecu->installed_release_counter)
		return upt_error_set(
		    err, UPT_ERR_RELEASE_COUNTER,
		    "%s targets.json: target %s: release counter %lld is lower than "
		    "the installed %lld on ECU %s",
		    d->name, t->name, (long long)t->release_counter,
		    (long long)ecu->installed_release_counter, ecu->serial);
	u->director = t;
	u->image = NULL;
	u->installed =
	    ecu->has_installed && same_image(t, ecu->installed_length, &ecu->installed_hashes);
	return UPT_OK;
}

/* Every Director target, matched to this device's ECUs. */
static int director_updates(const struct upt_repo *d, const struct upt_targets *ts,
			    const struct upt_device *dev, bool other_ecus, struct upt_verified *out,
			    struct upt_error *err)
{
	size_t n = 0;
	/* Uptane: the Director does not delegate */
	if (ts->has_delegations && ts->n_roles)
		return upt_error_set(err, UPT_ERR_DELEGATION,
				     "%s targets.json: the Director must not delegate", d->name);
	for (size_t i = 0; i < ts->n_targets; i++)
		n += ts->targets[i].n_ecus;
	out->updates = upt_arena_calloc(d->a, n ? n : 1, sizeof *out->updates);
	out->n_updates = out->n_new = 0;
	if (!out->updates)
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", d->name);
	for (size_t i = 0; i < ts->n_targets; i++) {
		const struct upt_target *t = &ts->targets[i];
		if (!t->n_ecus)
			return upt_error_set(err, UPT_ERR_UNKNOWN_ECU,
					     "%s targets.json: target %s names no ECU "
					     "(custom.ecuIdentifiers)",
					     d->name, t->name);
		for (size_t k = 0; k < t->n_ecus; k++) {
			const char *serial = t->ecus[k].ecu_serial;
			struct upt_update *u = &out->updates[out->n_updates];
			size_t e;
			int rc;
			for (e = 0; e < dev->n_ecus; e++)
				if (strcmp(dev->ecus[e].serial, serial) == 0)
					break;
			if (e == dev->n_ecus && other_ecus)
				continue; /* another ECU's, on a secondary */
			if (e == dev->n_ecus)
				return upt_error_set(
				    err, UPT_ERR_UNKNOWN_ECU,
				    "%s targets.json: target %s: ECU %s is not one "
				    "of this device's",
				    d->name, t->name, serial);
			for (size_t j = 0; j < out->n_updates; j++)
				if (out->updates[j].ecu == e)
					return upt_error_set(err, UPT_ERR_FIELD_VALUE,
							     "%s targets.json: ECU %s is assigned "
							     "two images (%s, %s)",
							     d->name, serial,
							     out->updates[j].director->name,
							     t->name);
			rc = check_director_entry(d, t, &dev->ecus[e], t->ecus[k].hardware_id, u,
						  err);
			if (rc != UPT_OK)
				return rc;
			u->ecu = e;
			out->n_updates++;
			out->n_new += !u->installed;
		}
	}
	return UPT_OK;
}

/* The Image repository's entry for an update must describe the same image. */
static int check_image(struct upt_repo *img, const struct upt_device *dev, struct upt_update *u,
		       struct upt_error *err)
{
	const struct upt_target *t = u->director, *it = NULL;
	const struct upt_ecu *ecu = &dev->ecus[u->ecu];
	int rc = upt_repo_find_target(img, t->name, &it, err);
	if (rc == UPT_ERR_NOT_FOUND)
		return upt_error_set(err, UPT_ERR_IMAGE_MISMATCH,
				     "target %s: the Director assigns it but the %s does not list "
				     "it (arbitrary software?)",
				     t->name, img->name);
	if (rc != UPT_OK)
		return rc;
	if (!same_image(it, t->length, &t->hashes))
		return upt_error_set(err, UPT_ERR_IMAGE_MISMATCH,
				     "target %s: the Director's length or hashes differ from the "
				     "%s's",
				     t->name, img->name);
	if (it->n_hardware_ids && !lists(it->hardware_ids, it->n_hardware_ids, ecu->hardware_id))
		return upt_error_set(err, UPT_ERR_HARDWARE_ID,
				     "target %s: the %s does not list hardware %s for it", t->name,
				     img->name, ecu->hardware_id);
	if (it->has_release_counter) {
		if (t->has_release_counter && t->release_counter != it->release_counter)
			return upt_error_set(
			    err, UPT_ERR_IMAGE_MISMATCH,
			    "target %s: release counter %lld in the Director, %lld "
			    "in the %s",
			    t->name, (long long)t->release_counter, (long long)it->release_counter,
			    img->name);
		if (ecu->has_installed_release_counter &&
		    it->release_counter < ecu->installed_release_counter)
			return upt_error_set(err, UPT_ERR_RELEASE_COUNTER,
					     "target %s: release counter %lld is lower than the "
					     "installed %lld on ECU %s",
					     t->name, (long long)it->release_counter,
					     (long long)ecu->installed_release_counter,
					     ecu->serial);
		u->release_counter = it->release_counter;
	}
	u->image = it;
	return UPT_OK;
}

struct full_ctx {
	const struct upt_device *dev;
	bool other_ecus;
	struct upt_verified *v;
};

static int director_check(void *ctx, const struct upt_repo *r, const struct upt_targets *t,
			  struct upt_error *err)
{
	struct full_ctx *c = ctx;
	return director_updates(r, t, c->dev, c->other_ecus, c->v, err);
}

static int full_verify(struct upt_repo *director, struct upt_repo *image,
		       const struct upt_device *dev, bool other_ecus, int64_t now,
		       struct upt_verified *out, struct upt_error *err)
{
	struct upt_verified v = {0};
	struct full_ctx c = {dev, other_ecus, &v};
	int rc;
	if (!director || !image || !dev || !out || (!dev->ecus && dev->n_ecus))
		return upt_error_set(err, UPT_ERR_ARG, "full verification: missing argument");
	memset(out, 0, sizeof *out);
	/* Director: root chain, (timestamp, snapshot,) targets; the targets
	 * are checked against this device before they are trusted. */
	director->check_targets = director_check;
	director->check_ctx = &c;
	rc = upt_repo_refresh(director, now, err);
	director->check_targets = NULL;
	director->check_ctx = NULL;
	if (rc != UPT_OK)
		return rc;
	/* Nothing new: verification ends here (the Image repository is not
	 * needed to confirm what is already installed). */
	if (v.n_new == 0) {
		*out = v;
		return UPT_OK;
	}
	rc = upt_repo_refresh(image, now, err);
	for (size_t i = 0; rc == UPT_OK && i < v.n_updates; i++)
		rc = check_image(image, dev, &v.updates[i], err);
	if (rc != UPT_OK)
		return rc;
	v.image_repo_checked = true;
	*out = v;
	return UPT_OK;
}

int upt_uptane_full_verify(struct upt_repo *director, struct upt_repo *image,
			   const struct upt_device *dev, int64_t now, struct upt_verified *out,
			   struct upt_error *err)
{
	return full_verify(director, image, dev, false, now, out, err);
}

int upt_uptane_secondary_full_verify(struct upt_repo *director, struct upt_repo *image,
				     const struct upt_ecu *ecu, int64_t now,
				     struct upt_verified *out, struct upt_error *err)
{
	struct upt_device dev = {ecu, 1};
	if (!ecu)
		return upt_error_set(err, UPT_ERR_ARG, "full verification: missing argument");
	return full_verify(director, image, &dev, true, now, out, err);
}

struct partial_ctx {
	const struct upt_ecu *ecu;
	struct upt_update *out;
};

static int partial_check(void *ctx, const struct upt_repo *r, const struct upt_targets *ts,
			 struct upt_error *err)
{
	struct partial_ctx *c = ctx;
	c->out->director = NULL;
	for (size_t i = 0; i < ts->n_targets; i++) {
		const struct upt_target *t = &ts->targets[i];
		for (size_t k = 0; k < t->n_ecus; k++) {
			int rc;
			if (strcmp(t->ecus[k].ecu_serial, c->ecu->serial) != 0)
				continue;
			if (c->out->director)
				return upt_error_set(
				    err, UPT_ERR_FIELD_VALUE,
				    "%s targets.json: ECU %s is assigned two images (%s, %s)",
				    r->name, c->ecu->serial, c->out->director->name, t->name);
			rc =
			    check_director_entry(r, t, c->ecu, t->ecus[k].hardware_id, c->out, err);
			if (rc != UPT_OK) {
				c->out->director = NULL;
				return rc;
			}
		}
	}
	return UPT_OK;
}

int upt_uptane_partial_verify(struct upt_repo *director, const struct upt_ecu *ecu, int64_t now,
			      struct upt_update *out, struct upt_error *err)
{
	struct partial_ctx c = {ecu, out};
	int rc;
	if (!director || !ecu || !out)
		return upt_error_set(err, UPT_ERR_ARG, "partial verification: missing argument");
	memset(out, 0, sizeof *out);
	out->release_counter = -1;
	rc = upt_repo_load_root(director, now, err);
	if (rc == UPT_OK)
		rc = upt_repo_update_root(director, err);
	if (rc == UPT_OK) {
		bool snap = director->use_snapshot;
		director->use_snapshot = false; /* targets alone, version floor */
		director->check_targets = partial_check;
		director->check_ctx = &c;
		rc = upt_repo_update_targets(director, err);
		director->use_snapshot = snap;
		director->check_targets = NULL;
		director->check_ctx = NULL;
	}
	if (rc != UPT_OK)
		return rc;
	return UPT_OK;
}
