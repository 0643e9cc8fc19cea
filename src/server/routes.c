/* uptake-server: the route table. One row per endpoint: method, path
 * pattern, who may call it, the body's kind and size limit, the handler.
 * A new endpoint is one row here, one handler in its area's api_*.c and
 * one entry in docs/openapi.yaml (tests/interop/openapi.sh checks that the
 * table and the document list the same endpoints).
 *
 * Order matters only between rows whose patterns match the same path:
 * the first row with the request's method wins. */
#include "api.h"
#include "vulns.h"

#define JSON SRV_BODY_JSON
#define NONE SRV_BODY_NONE
#define ROW(method, pattern, caller, body, limit, handler, arg)                                \
	{                                                                                      \
		method, pattern, caller, body, limit, handler, arg, NULL, SRV_PERM_AUTO, false \
	}
/* An admin row whose permission is not the default (READ for GET,
 * OPERATE for the rest): releases and administration. */
#define ROWP(method, pattern, body, limit, handler, arg, perm)                           \
	{                                                                                \
		method, pattern, SRV_ADMIN, body, limit, handler, arg, NULL, perm, false \
	}
#define RELEASE SRV_PERM_RELEASE
#define ADMIN   SRV_PERM_ADMIN

const struct srv_route srv_routes[] = {
    /* public: the Image repository (also on the plain-HTTP listener) */
    ROW("GET", "/health", SRV_PUBLIC, NONE, 0, srv_h_health, NULL),
    ROW("GET", "/repo/targets/{name+}", SRV_PUBLIC, NONE, 0, srv_h_repo_image, NULL),
    ROW("GET", "/repo/{file}", SRV_PUBLIC, NONE, 0, srv_h_repo_metadata, NULL),

    /* devices over mutual TLS, in aktualizr's API */
    ROW("POST", "/director/ecus", SRV_DEVICE, JSON, SRV_LIMIT_REGISTRATION, srv_h_director_register,
	NULL),
    {"PUT", "/director/manifest", SRV_DEVICE, JSON, SRV_LIMIT_MANIFEST, srv_h_director_manifest,
     NULL, NULL, SRV_PERM_AUTO, true},
    ROW("GET", "/director/{file}", SRV_DEVICE, NONE, 0, srv_h_director_metadata, NULL),
    ROW("PUT", "/core/installed", SRV_DEVICE, JSON, SRV_LIMIT_DEVICE_REPORT, srv_h_device_report,
	"installed"),
    ROW("PUT", "/system_info", SRV_DEVICE, JSON, SRV_LIMIT_DEVICE_REPORT, srv_h_device_report,
	"system_info"),
    ROW("PUT", "/system_info/network", SRV_DEVICE, JSON, SRV_LIMIT_DEVICE_REPORT,
	srv_h_device_report, "network"),
    ROW("POST", "/system_info/config", SRV_DEVICE, SRV_BODY_TEXT, SRV_LIMIT_DEVICE_REPORT,
	srv_h_device_report, "config"),
    ROW("POST", "/events", SRV_DEVICE, JSON, SRV_LIMIT_DEVICE_REPORT, srv_h_device_report,
	"events"),
    /* aktualizr's shared-credential provisioning */
    ROW("POST", "/devices", SRV_FLEET, JSON, 64u << 10, srv_h_device_provision, NULL),

    /* admin: keys and roots */
    ROW("GET", "/api/v1/repo/online-keys", SRV_ADMIN, NONE, 0, srv_h_keys_online, "image"),
    ROWP("POST", "/api/v1/repo/online-keys/rotate", NONE, 0, srv_h_keys_rotate, "image", ADMIN),
    ROWP("PUT", "/api/v1/repo/root", JSON, SRV_LIMIT_METADATA, srv_h_keys_put_root, "image",
	 RELEASE),
    ROW("GET", "/api/v1/director/online-keys", SRV_ADMIN, NONE, 0, srv_h_keys_online, "director"),
    ROWP("POST", "/api/v1/director/online-keys/rotate", NONE, 0, srv_h_keys_rotate, "director",
	 ADMIN),
    ROWP("PUT", "/api/v1/director/root", JSON, SRV_LIMIT_METADATA, srv_h_keys_put_root, "director",
	 RELEASE),
    /* admin: the Image repository's offline-signed metadata and images */
    ROWP("PUT", "/api/v1/repo/metadata/{role+}", JSON, SRV_LIMIT_METADATA, srv_h_repo_put_metadata,
	 NULL, RELEASE),
    {"PUT", "/api/v1/images/{name+}", SRV_ADMIN, SRV_BODY_UPLOAD, SRV_LIMIT_IMAGE,
     srv_h_repo_put_image, NULL, srv_valid_image_name, RELEASE, false},
    /* admin: devices and inventory */
    ROW("GET", "/api/v1/devices", SRV_ADMIN, NONE, 0, srv_h_devices_list, NULL),
    ROW("POST", "/api/v1/devices", SRV_ADMIN, JSON, SRV_LIMIT_METADATA, srv_h_devices_add, NULL),
    ROW("GET", "/api/v1/devices/{id}", SRV_ADMIN, NONE, 0, srv_h_devices_show, NULL),
    ROW("GET", "/api/v1/devices/{id}/manifests", SRV_ADMIN, NONE, 0, srv_h_devices_manifests, NULL),
    ROW("POST", "/api/v1/assign", SRV_ADMIN, JSON, SRV_LIMIT_METADATA, srv_h_assign, NULL),
    ROW("PATCH", "/api/v1/devices/{id}", SRV_ADMIN, JSON, 64u << 10, srv_h_device_lifecycle, NULL),
    ROW("POST", "/api/v1/device-lifecycle", SRV_ADMIN, JSON, SRV_LIMIT_METADATA,
	srv_h_lifecycle_import, NULL),
    /* admin: CRA evidence */
    ROW("GET", "/api/v1/products", SRV_ADMIN, NONE, 0, srv_h_products_list, NULL),
    ROW("POST", "/api/v1/products", SRV_ADMIN, JSON, 64u << 10, srv_h_products_add, NULL),
    ROW("GET", "/api/v1/products/{name}", SRV_ADMIN, NONE, 0, srv_h_products_show, NULL),
    ROW("PUT", "/api/v1/products/{name}", SRV_ADMIN, JSON, 64u << 10, srv_h_products_set, NULL),
    ROW("GET", "/api/v1/alerts", SRV_ADMIN, NONE, 0, srv_h_alerts_list, NULL),
    ROW("POST", "/api/v1/alerts/{id}/ack", SRV_ADMIN, JSON, 4096, srv_h_alert_ack, NULL),
    ROW("GET", "/api/v1/reports/support", SRV_ADMIN, NONE, 0, srv_h_report_support, NULL),
    ROW("GET", "/api/v1/reports/inventory", SRV_ADMIN, NONE, 0, srv_h_report_inventory, NULL),
    ROW("GET", "/api/v1/reports/patch-status", SRV_ADMIN, NONE, 0, srv_h_report_patch_status, NULL),
    ROW("GET", "/api/v1/reports/opt-out", SRV_ADMIN, NONE, 0, srv_h_report_opt_out, NULL),
    ROW("GET", "/api/v1/reports/adoption", SRV_ADMIN, NONE, 0, srv_h_report_adoption, NULL),
    /* admin: update campaigns */
    ROW("GET", "/api/v1/campaigns", SRV_ADMIN, NONE, 0, srv_h_campaigns_list, NULL),
    ROW("POST", "/api/v1/campaigns", SRV_ADMIN, JSON, SRV_LIMIT_METADATA, srv_h_campaigns_create,
	NULL),
    ROW("GET", "/api/v1/campaigns/{id}", SRV_ADMIN, NONE, 0, srv_h_campaigns_show, NULL),
    ROW("POST", "/api/v1/campaigns/{id}/{action}", SRV_ADMIN, JSON, 4096, srv_h_campaigns_action,
	NULL),
    ROWP("POST", "/api/v1/fleet-credentials", JSON, 64u << 10, srv_h_fleet_credential, NULL, ADMIN),
    /* admin: users, their tokens, the audit log */
    ROWP("GET", "/api/v1/users", NONE, 0, srv_h_users_list, NULL, ADMIN),
    ROWP("POST", "/api/v1/users", JSON, 64u << 10, srv_h_users_add, NULL, ADMIN),
    ROWP("PATCH", "/api/v1/users/{name}", JSON, 64u << 10, srv_h_users_set, NULL, ADMIN),
    ROWP("DELETE", "/api/v1/users/{name}", NONE, 0, srv_h_users_remove, NULL, ADMIN),
    ROWP("POST", "/api/v1/users/{name}/tokens", NONE, 0, srv_h_users_token, NULL, ADMIN),
    ROW("GET", "/api/v1/audit", SRV_ADMIN, NONE, 0, srv_h_audit_list, NULL),
    /* the dashboard's sessions */
    ROW("POST", "/api/v1/session", SRV_LOGIN, JSON, 4096, srv_h_login, NULL),
    ROW("GET", "/api/v1/session", SRV_ADMIN, NONE, 0, srv_h_session_show, NULL),
    ROWP("DELETE", "/api/v1/session", NONE, 0, srv_h_logout, NULL, SRV_PERM_READ),
    /* the dashboard's pages (static files; what they show comes from the API) */
    ROW("GET", "/ui", SRV_LOGIN, NONE, 0, srv_h_ui_root, NULL),
    ROW("GET", "/ui/", SRV_LOGIN, NONE, 0, srv_h_ui, NULL),
    ROW("GET", "/ui/{file+}", SRV_LOGIN, NONE, 0, srv_h_ui, NULL),
    /* admin: SBOMs and vulnerabilities */
    ROWP("PUT", "/api/v1/sboms/{sha256}", JSON, SRV_SBOM_MAX, srv_h_sbom_put, NULL, RELEASE),
    ROW("GET", "/api/v1/sboms/{sha256}", SRV_ADMIN, NONE, 0, srv_h_sbom_get, NULL),
    ROW("GET", "/api/v1/sboms/{sha256}/components", SRV_ADMIN, NONE, 0, srv_h_sbom_components,
	NULL),
    ROW("GET", "/api/v1/sboms/{sha256}/vulns", SRV_ADMIN, NONE, 0, srv_h_sbom_vulns, NULL),
    ROW("POST", "/api/v1/vulns/import", SRV_ADMIN, JSON, SRV_VULN_IMPORT_MAX, srv_h_vuln_import,
	NULL),
    ROW("POST", "/api/v1/vulns/rematch", SRV_ADMIN, JSON, 64, srv_h_vuln_rematch, NULL),
    ROW("GET", "/api/v1/vulns/{id}", SRV_ADMIN, NONE, 0, srv_h_vuln_show, NULL),
    ROW("POST", "/api/v1/vulns/{id}/exploited", SRV_ADMIN, JSON, 4096, srv_h_vuln_exploited, NULL),
    ROW("POST", "/api/v1/vulns/{id}/reported", SRV_ADMIN, JSON, 4096, srv_h_vuln_reported, NULL),
    ROW("GET", "/api/v1/vulns/{id}/advisory", SRV_ADMIN, NONE, 0, srv_h_vuln_advisory, NULL),
    ROW("GET", "/api/v1/reports/art14", SRV_ADMIN, NONE, 0, srv_h_report_art14, NULL),
    ROW("POST", "/api/v1/vex", SRV_ADMIN, JSON, SRV_VULN_IMPORT_MAX, srv_h_vex_import, NULL),
    ROW("GET", "/api/v1/reports/vulns", SRV_ADMIN, NONE, 0, srv_h_report_vulns, NULL),
};

const size_t srv_n_routes = sizeof srv_routes / sizeof srv_routes[0];
