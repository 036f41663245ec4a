/* Shared main() for the CUnit runners: run the suites in basic mode, print
 * CUnit's summary and exit non-zero on any failure. */
#ifndef EASD_TEST_MAIN_H
#define EASD_TEST_MAIN_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

static inline int
test_main(CU_SuiteInfo *suites)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}

/* The shared data directory beside the checkout (../shared), or NULL when
 * it is not there; tests that need it skip themselves. */
static inline const char *
test_shared_dir(void)
{
	static const char *const candidates[] = {"../shared", "../../shared"};
	const char *env = getenv("EASD_SHARED");
	FILE *f;

	if (env != NULL)
		return env;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates); i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/spec/eas-codepages.tsv",
			 candidates[i]);
		f = fopen(path, "r");
		if (f != NULL) {
			fclose(f);
			return candidates[i];
		}
	}
	return NULL;
}

#endif
