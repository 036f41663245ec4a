/* The MS-ASPROV settings an administrator may set (MS-ASPROV 2.2.2.*;
 * digest 7.6), their kinds and ranges: one table for easctl policy and
 * the admin pages, so that both accept and refuse the same values. No
 * SQL here. */
#include <string.h>
#include <strings.h>

#include "store.h"
#include "util.h"

enum pol_kind { POL_BOOL, POL_INT, POL_SET, POL_LIST };

struct policy_def {
	const char *name;
	enum pol_kind kind;
	int64_t min, max; /* POL_INT range */
	const char *set;  /* POL_SET: allowed values, "0,4,5,6,7" */
};

static const struct policy_def policies[] = {
	{"AllowBluetooth", POL_INT, 0, 2, NULL},
	{"AllowBrowser", POL_BOOL, 0, 0, NULL},
	{"AllowCamera", POL_BOOL, 0, 0, NULL},
	{"AllowConsumerEmail", POL_BOOL, 0, 0, NULL},
	{"AllowDesktopSync", POL_BOOL, 0, 0, NULL},
	{"AllowHTMLEmail", POL_BOOL, 0, 0, NULL},
	{"AllowInternetSharing", POL_BOOL, 0, 0, NULL},
	{"AllowIrDA", POL_BOOL, 0, 0, NULL},
	{"AllowPOPIMAPEmail", POL_BOOL, 0, 0, NULL},
	{"AllowRemoteDesktop", POL_BOOL, 0, 0, NULL},
	{"AllowSimpleDevicePassword", POL_BOOL, 0, 0, NULL},
	{"AllowSMIMEEncryptionAlgorithmNegotiation", POL_INT, 0, 2, NULL},
	{"AllowSMIMESoftCerts", POL_BOOL, 0, 0, NULL},
	{"AllowStorageCard", POL_BOOL, 0, 0, NULL},
	{"AllowTextMessaging", POL_BOOL, 0, 0, NULL},
	{"AllowUnsignedApplications", POL_BOOL, 0, 0, NULL},
	{"AllowUnsignedInstallationPackages", POL_BOOL, 0, 0, NULL},
	{"AllowWiFi", POL_BOOL, 0, 0, NULL},
	{"AlphanumericDevicePasswordRequired", POL_BOOL, 0, 0, NULL},
	{"ApprovedApplicationList", POL_LIST, 0, 0, NULL},
	{"AttachmentsEnabled", POL_BOOL, 0, 0, NULL},
	{"DevicePasswordEnabled", POL_BOOL, 0, 0, NULL},
	{"DevicePasswordExpiration", POL_INT, 0, 9999, NULL},
	{"DevicePasswordHistory", POL_INT, 0, 50, NULL},
	{"MaxAttachmentSize", POL_INT, 0, INT32_MAX, NULL},
	{"MaxCalendarAgeFilter", POL_SET, 0, 0, "0,4,5,6,7"},
	{"MaxDevicePasswordFailedAttempts", POL_INT, 4, 16, NULL},
	{"MaxEmailAgeFilter", POL_INT, 0, 5, NULL},
	{"MaxEmailBodyTruncationSize", POL_INT, -1, INT32_MAX, NULL},
	{"MaxEmailHTMLBodyTruncationSize", POL_INT, -1, INT32_MAX, NULL},
	{"MaxInactivityTimeDeviceLock", POL_INT, 0, 9999, NULL},
	{"MinDevicePasswordComplexCharacters", POL_INT, 1, 4, NULL},
	{"MinDevicePasswordLength", POL_INT, 1, 16, NULL},
	{"PasswordRecoveryEnabled", POL_BOOL, 0, 0, NULL},
	{"RequireDeviceEncryption", POL_BOOL, 0, 0, NULL},
	{"RequireEncryptedSMIMEMessages", POL_BOOL, 0, 0, NULL},
	{"RequireEncryptionSMIMEAlgorithm", POL_INT, 0, 4, NULL},
	{"RequireManualSyncWhenRoaming", POL_BOOL, 0, 0, NULL},
	{"RequireSignedSMIMEAlgorithm", POL_INT, 0, 1, NULL},
	{"RequireSignedSMIMEMessages", POL_BOOL, 0, 0, NULL},
	{"RequireStorageCardEncryption", POL_BOOL, 0, 0, NULL},
	{"UnapprovedInROMApplicationList", POL_LIST, 0, 0, NULL},
};

static const struct policy_def *
policy_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(policies); i++)
		if (strcasecmp(policies[i].name, name) == 0)
			return &policies[i];
	return NULL;
}

/* Validate and normalise; returns the value to store or NULL with
 * *error_r. */
static const char *
policy_value(struct arena *a, const struct policy_def *p, const char *v,
	     const char **error_r)
{
	int64_t x;

	switch (p->kind) {
	case POL_BOOL:
		if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
		    strcasecmp(v, "yes") == 0)
			return "1";
		if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ||
		    strcasecmp(v, "no") == 0)
			return "0";
		*error_r = arena_printf(
			a, "%s takes a boolean (0 or 1), not '%s'", p->name, v);
		return NULL;
	case POL_INT:
		if (str_to_int64(v, &x) < 0 || x < p->min || x > p->max) {
			*error_r = arena_printf(
				a,
				"%s takes a number from %lld to %lld, not '%s'",
				p->name, (long long)p->min, (long long)p->max,
				v);
			return NULL;
		}
		return arena_printf(a, "%lld", (long long)x);
	case POL_SET: {
		char *set = arena_strdup(a, p->set), *save = NULL;

		if (str_to_int64(v, &x) == 0)
			for (char *t = strtok_r(set, ",", &save); t != NULL;
			     t = strtok_r(NULL, ",", &save))
				if (strcmp(t, arena_printf(a, "%lld",
							   (long long)x)) == 0)
					return arena_printf(a, "%lld",
							    (long long)x);
		*error_r = arena_printf(a, "%s takes one of %s, not '%s'",
					p->name, p->set, v);
		return NULL;
	}
	case POL_LIST:
		if (strchr(v, '\n') != NULL || strlen(v) > 4096) {
			*error_r = arena_printf(a, "%s: bad list", p->name);
			return NULL;
		}
		return v;
	}
	return NULL;
}

size_t
store_policy_names(const char *const **names_r)
{
	static const char *names[N_ELEMENTS(policies)];

	for (size_t i = 0; i < N_ELEMENTS(policies); i++)
		names[i] = policies[i].name;
	*names_r = names;
	return N_ELEMENTS(policies);
}

int
store_policy_check(struct arena *a, const char *key, const char *value,
		   const char **key_r, const char **value_r,
		   const char **error_r)
{
	const struct policy_def *p = key != NULL ? policy_find(key) : NULL;

	*value_r = NULL;
	if (p == NULL) {
		*error_r = arena_printf(a,
					"unknown policy setting '%s' (see "
					"'easctl policy names')",
					key != NULL ? key : "");
		return -1;
	}
	*key_r = p->name;
	if (value == NULL)
		return 0;
	*value_r = policy_value(a, p, value, error_r);
	return *value_r != NULL ? 0 : -1;
}
