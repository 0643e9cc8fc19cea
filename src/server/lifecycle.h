/* uptake-server: products and each unit's CRA lifecycle (Regulation (EU)
 * 2024/2847, Art. 13(8)): a product's support period (at least five
 * years), and per device its product, the dates it was manufactured and
 * placed on the market, and its support end (by default placed on the
 * market + the product's period; a later end may be set per unit, never an
 * earlier one). Pure request logic over the store, no HTTP. */
#ifndef UPTAKE_SERVER_LIFECYCLE_H
#define UPTAKE_SERVER_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <uptake/common.h>
#include <uptake/json.h>

#include "server.h"

#define SRV_SUPPORT_YEARS_MIN 5
#define SRV_SUPPORT_YEARS_MAX 50

/* "YYYY-MM-DD" (a real calendar day, 1970-9899: a century of room for
 * support periods) -> days since 1970-01-01. */
int srv_date_parse(const char *s, int64_t *days);
/* days since 1970-01-01 -> "YYYY-MM-DD". */
void srv_date_format(int64_t days, char out[11]);
/* The same calendar day `years` later; 29 February becomes 1 March (the
 * period is never shorter than the years). */
int64_t srv_date_add_years(int64_t days, int64_t years);

/* What a request sets of a device's lifecycle; NULL: not given. */
struct srv_lifecycle {
	const char *product, *manufactured, *placed_on_market, *support_end;
};
/* Read the lifecycle members of a JSON object (other members are left for
 * the caller); a member that is not a string is an error. *any says if
 * one was there. */
int srv_lifecycle_from_json(struct srv_lifecycle *l, const struct upt_json *v, bool *any,
			    struct upt_error *err);
/* Check a device's whole lifecycle as it would be (`l` over `current`,
 * which may be NULL for a new device): dates real, manufactured and placed
 * on the market not in the future, placed on the market not before
 * manufactured, a support end not before the product's minimum. */
int srv_lifecycle_check(struct srv_store *st, const struct srv_device *current,
			const struct srv_lifecycle *l, int64_t now, struct upt_error *err);
/* Check, store, and have the Director sign the device's new support end. */
int srv_lifecycle_set(struct srv_store *st, struct srv_repo *director, const char *id,
		      const struct srv_lifecycle *l, int64_t now, struct upt_error *err);
/* A device's support end in force: the later of its own end and its
 * placing on the market + its product's period; "" without a market date. */
void srv_support_end(const struct srv_device *d, const struct srv_product *p, char out[11]);

/* Admin requests. */
int srv_admin_product_add(struct srv_store *st, const uint8_t *body, size_t len, char **resp,
			  struct upt_error *err);
int srv_admin_product_set(struct srv_store *st, struct srv_repo *director, const char *name,
			  const uint8_t *body, size_t len, int64_t now, char **resp,
			  struct upt_error *err);
int srv_admin_product_list(struct srv_store *st, char **resp, struct upt_error *err);
int srv_admin_product_show(struct srv_store *st, const char *name, char **resp,
			   struct upt_error *err);
/* PATCH a device's lifecycle: {"product":..., "manufactured":..., ...}. */
int srv_admin_device_lifecycle(struct srv_store *st, struct srv_repo *director, const char *id,
			       const uint8_t *body, size_t len, int64_t now, char **resp,
			       struct upt_error *err);
/* Many devices at once, all or nothing: [{"device":ID, ...}, ...]. */
int srv_admin_lifecycle_import(struct srv_store *st, struct srv_repo *director, const uint8_t *body,
			       size_t len, int64_t now, char **resp, struct upt_error *err);
/* A device's lifecycle as the answers write it: {"id", "product",
 * "manufactured", "placed_on_market", "support_end", "support_end_set"
 * (the object left open for more members). */
struct srv_json;
void srv_put_lifecycle(struct srv_json *o, const struct srv_device *d, const struct srv_product *p);

#endif
