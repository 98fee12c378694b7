// OpenSSL 3.0 allocates per TLS record (a 40-byte WPACKET sub-packet when writing one, about 100
// bytes when reading one) and frees it straight after. This pool keeps freed small blocks on
// per-size free lists and hands them out again, so a TLS connection's steady state makes no malloc
// calls. It serves only what OpenSSL allocates inside SSL_read and SSL_write (the transport turns
// it on around them, per thread): the handshake's thousands of short-lived blocks go to malloc, so
// the pool, which never returns memory to the system, stays a few chunks small.
#include "tls_memory.h"
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// A 16-byte header before every block keeps OpenSSL's alignment (malloc's 16) and says where the
// block belongs.
typedef struct {
    uint32_t magic;
    uint32_t size_class;     // index into class_sizes, or LARGE
    uint64_t large_size;     // requested size of a large block
} header_t;

#define MAGIC 0xED6EA110u
#define LARGE 0xFFFFFFFFu
#define CLASSES 5
#define BLOCKS_PER_CHUNK 64
static const size_t class_sizes[CLASSES] = {64, 128, 256, 512, 1024};

typedef struct free_block { struct free_block *next; } free_block_t;
static free_block_t *free_lists[CLASSES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t chunks, served;
static _Thread_local int pooling;

static int class_for(size_t size) {
    for (int c = 0; c < CLASSES; c++) if (size <= class_sizes[c]) return c;
    return -1;
}

// Carves a new chunk into blocks of class c. Called with the lock held.
static int refill(int c) {
    size_t stride = sizeof(header_t) + class_sizes[c];
    unsigned char *chunk = malloc(stride * BLOCKS_PER_CHUNK);
    if (!chunk) return 0;
    chunks++;
    for (int i = 0; i < BLOCKS_PER_CHUNK; i++) {
        header_t *h = (header_t *)(chunk + i * stride);
        h->magic = MAGIC;
        h->size_class = (uint32_t)c;
        h->large_size = 0;
        free_block_t *b = (free_block_t *)(h + 1);
        b->next = free_lists[c];
        free_lists[c] = b;
    }
    return 1;
}

static void *pool_malloc(size_t size, const char *file, int line) {
    (void)file; (void)line;
    int c = pooling ? class_for(size) : -1;
    if (c < 0) {
        header_t *h = malloc(sizeof(header_t) + size);
        if (!h) return NULL;
        h->magic = MAGIC;
        h->size_class = LARGE;
        h->large_size = size;
        return h + 1;
    }
    pthread_mutex_lock(&lock);
    if (!free_lists[c] && !refill(c)) { pthread_mutex_unlock(&lock); return NULL; }
    free_block_t *b = free_lists[c];
    free_lists[c] = b->next;
    served++;
    pthread_mutex_unlock(&lock);
    return b;
}

static void pool_free(void *p, const char *file, int line) {
    (void)file; (void)line;
    if (!p) return;
    header_t *h = (header_t *)p - 1;
    if (h->size_class == LARGE) { free(h); return; }
    free_block_t *b = p;
    pthread_mutex_lock(&lock);
    b->next = free_lists[h->size_class];
    free_lists[h->size_class] = b;
    pthread_mutex_unlock(&lock);
}

static void *pool_realloc(void *p, size_t size, const char *file, int line) {
    if (!p) return pool_malloc(size, file, line);
    if (size == 0) { pool_free(p, file, line); return NULL; }
    header_t *h = (header_t *)p - 1;
    size_t old = h->size_class == LARGE ? (size_t)h->large_size : class_sizes[h->size_class];
    if (h->size_class != LARGE && size <= old) return p;
    if (h->size_class == LARGE && (!pooling || class_for(size) < 0)) {
        header_t *moved = realloc(h, sizeof(header_t) + size);
        if (!moved) return NULL;
        moved->large_size = size;
        return moved + 1;
    }
    void *fresh = pool_malloc(size, file, line);
    if (!fresh) return NULL;
    memcpy(fresh, p, old < size ? old : size);
    pool_free(p, file, line);
    return fresh;
}

int edge_tls_memory_install(void) {
    return CRYPTO_set_mem_functions(pool_malloc, pool_realloc, pool_free);
}

void edge_tls_memory_pooling(int on) { pooling = on; }

size_t edge_tls_memory_chunks(void) { return chunks; }
size_t edge_tls_memory_served(void) { return served; }
