/* Publishes N QoS 1 messages through Eclipse Paho C (MQTTAsync) with at most W unacknowledged,
 * then prints the same last line as `edge-agent bench publish`. Usage: paho_bench PORT COUNT SIZE WINDOW */
#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long acked = 0;
static int connected = 0;

static void on_connect(void *c, MQTTAsync_successData *r) { (void)c; (void)r; pthread_mutex_lock(&lock); connected = 1; pthread_cond_signal(&changed); pthread_mutex_unlock(&lock); }
static void on_connect_failure(void *c, MQTTAsync_failureData *r) { (void)c; (void)r; pthread_mutex_lock(&lock); connected = -1; pthread_cond_signal(&changed); pthread_mutex_unlock(&lock); }
static void on_sent(void *c, MQTTAsync_successData *r) { (void)c; (void)r; pthread_mutex_lock(&lock); acked++; pthread_cond_signal(&changed); pthread_mutex_unlock(&lock); }
static int on_message(void *c, char *t, int l, MQTTAsync_message *m) { (void)c; (void)l; MQTTAsync_freeMessage(&m); MQTTAsync_free(t); return 1; }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s PORT COUNT SIZE WINDOW\n", argv[0]); return 2; }
    int port = atoi(argv[1]); long count = atol(argv[2]); int size = atoi(argv[3]); int window = atoi(argv[4]);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    MQTTAsync client;
    MQTTAsync_create(&client, uri, "paho-bench", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    MQTTAsync_setCallbacks(client, NULL, NULL, on_message, NULL);
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.keepAliveInterval = 60;
    opts.cleansession = 1;
    opts.maxInflight = window;
    opts.onSuccess = on_connect;
    opts.onFailure = on_connect_failure;
    if (MQTTAsync_connect(client, &opts) != MQTTASYNC_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    pthread_mutex_lock(&lock);
    while (connected == 0) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    if (connected < 0) { fprintf(stderr, "refused\n"); return 1; }
    char *payload = malloc(size > 0 ? size : 1);
    for (int i = 0; i < size; i++) payload[i] = (char)i;
    MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
    ropts.onSuccess = on_sent;
    long sent = 0;
    double start = now();
    pthread_mutex_lock(&lock);
    while (acked < count) {
        while (sent < count && sent - acked < window) {
            pthread_mutex_unlock(&lock);
            int rc = MQTTAsync_send(client, "edge-agent/bench", size, payload, 1, 0, &ropts);
            pthread_mutex_lock(&lock);
            if (rc != MQTTASYNC_SUCCESS) break;
            sent++;
        }
        if (acked < count) pthread_cond_wait(&changed, &lock);
    }
    pthread_mutex_unlock(&lock);
    double seconds = now() - start;
    printf("published %ld messages in %.3f s: %.0f msg/s\n", count, seconds, count / seconds);
    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(client, &dopts);
    MQTTAsync_destroy(&client);
    free(payload);
    return 0;
}
