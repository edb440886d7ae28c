#ifndef RETORT_SYS_H
#define RETORT_SYS_H
#include <stddef.h>

/* Monotonic clock in seconds, for durations and rates. */
double clock_now(void);
/* MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read. Memory
 * estimates are checked against it before anything large is allocated. */
size_t mem_available_bytes(void);

#endif
