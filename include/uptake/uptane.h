/* uptake: Uptane full verification (a primary) and partial verification
 * (a secondary) on top of the TUF client workflow.
 *
 * Full verification refreshes the Director and, when the Director assigns
 * something not yet installed, the Image repository; then for every image
 * the Director assigns it checks: the ECU named in the Director's
 * custom.ecuIdentifiers is one of this device's, with that hardware id;
 * the Image repository lists a target of the same name with the same
 * length and hashes and (when it lists hardware ids) the ECU's hardware
 * id; the release counter is not lower than the installed image's. The
 * result is the verified list of (ECU, image) pairs.
 *
 * Partial verification checks the Director's targets metadata (and its
 * root chain) for one ECU: the same ECU, hardware id and release counter
 * checks, with no Image repository.
 */
#ifndef UPTAKE_UPTANE_H
#define UPTAKE_UPTANE_H

#include <uptake/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One ECU of the device, as the device knows it. */
struct upt_ecu {
	const char *serial;
	const char *hardware_id;
	/* What is installed now (for "already installed" and the release
	 * counter check); has_installed false when nothing is known. */
	bool has_installed;
	int64_t installed_length;
	struct upt_hashes installed_hashes;
	bool has_installed_release_counter;
	int64_t installed_release_counter;
};

struct upt_device {
	const struct upt_ecu *ecus;
	size_t n_ecus;
};

/* A verified assignment: image `director` (and its Image repository entry
 * `image`, NULL after partial verification) for device ECU `ecu`. */
struct upt_update {
	size_t ecu; /* index into upt_device.ecus */
	const struct upt_target *director;
	const struct upt_target *image;
	bool installed;          /* the ECU already runs exactly this image */
	int64_t release_counter; /* effective, -1 when none */
};

struct upt_verified {
	struct upt_update *updates;
	size_t n_updates;
	size_t n_new; /* updates not yet installed */
	bool image_repo_checked;
};

/* Uptane full verification at time `now`. `director` and `image` are
 * initialised repositories (see upt_repo_init); the Director may be one of
 * root and targets only (use_snapshot false). The result lives in the
 * Director's arena. On error nothing is returned and the message names the
 * check, the repository and the role or target. */
UPT_NODISCARD UPT_API int upt_uptane_full_verify(struct upt_repo *director, struct upt_repo *image,
						 const struct upt_device *dev, int64_t now,
						 struct upt_verified *out, struct upt_error *err);

/* Uptane full verification on a secondary, for its one ECU `ecu`: the
 * same checks, but Director entries for other ECUs of the vehicle are
 * skipped (neither checked against the Image repository nor returned),
 * where upt_uptane_full_verify refuses them as UPT_ERR_UNKNOWN_ECU. */
UPT_NODISCARD UPT_API int upt_uptane_secondary_full_verify(struct upt_repo *director,
							   struct upt_repo *image,
							   const struct upt_ecu *ecu, int64_t now,
							   struct upt_verified *out,
							   struct upt_error *err);

/* Uptane partial verification for ECU `ecu` at time `now`: the Director's
 * root chain and targets only. *out is the ECU's assignment, or
 * out->director == NULL when the Director assigns it nothing. */
UPT_NODISCARD UPT_API int upt_uptane_partial_verify(struct upt_repo *director,
						    const struct upt_ecu *ecu, int64_t now,
						    struct upt_update *out, struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
