/* Small measuring helpers shared by the benchmarks. */
#ifndef EASD_E2E_MEASURE_H
#define EASD_E2E_MEASURE_H

#include <sys/types.h>

/* Monotonic time in seconds. */
double measure_now(void);
/* CPU time (user + system) the process has used, in seconds, or -1. */
double measure_cpu(pid_t pid);
/* Resident memory of the process in KiB, or -1. */
long measure_rss_kib(pid_t pid);
/* Median of v[0..n) (sorts v). */
double measure_median(double *v, int n);
/* The p-th percentile (0..100) of v[0..n) (sorts v). */
double measure_percentile(double *v, int n, double p);

#endif
