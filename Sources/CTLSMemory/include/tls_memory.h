#ifndef EDGE_AGENT_TLS_MEMORY_H
#define EDGE_AGENT_TLS_MEMORY_H
#include <stddef.h>

/// Routes OpenSSL's allocations through size-class free lists, so that the small blocks its record
/// layer takes and gives back for every TLS record are reused instead of going to malloc each time.
/// Must run before OpenSSL allocates anything; returns 0 if it was too late (nothing changes then).
int edge_tls_memory_install(void);

/// Serve small blocks from the pool on this thread (1) or pass everything to malloc (0, the start).
void edge_tls_memory_pooling(int on);

/// Blocks taken from malloc for the pool, and pool allocations served, since install (for tests).
size_t edge_tls_memory_chunks(void);
size_t edge_tls_memory_served(void);
#endif
